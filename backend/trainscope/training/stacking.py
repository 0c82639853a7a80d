"""Which runs take the tiny path (training/tiny.py) and which matched runs stack into one lockstep group
(training/lockstep.py), on the tiny path or under torch.func.vmap (training/vmapped.py): rules on specs
alone, torch-free, so that the server plans a group's runs before any worker has them (jobs/manager.py)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from trainscope.schemas import JobSpec, planar
from trainscope.schemas.registry import registry

# Up to this width a step is mostly per-operator overhead, which NumPy's ~1 us calls cut: on a 2-core CPU
# (benchmarks/tiny_widths.py: fit() with telemetry, one thread each, depths 2-3, batches 10-128) the NumPy
# step ran 1.83-2.78x torch's eager one at widths 8-64, 1.41-2.10x at 128 and 0.94-1.40x at 256, where the
# matrix products take over and the two BLAS libraries decide; 64 keeps a margin on a CPU not measured.
TINY_MAX_WIDTH = 64
TINY_ACTIVATIONS = ("tanh", "relu", "leaky_relu", "sigmoid", "identity")
TINY_OPTIMIZERS = ("sgd", "momentum", "rmsprop", "adam", "adamw")

# where matched runs may differ and still stack: each is a value per run, not a shape or a schedule; a
# run's probes are its own (each run keeps its telemetry) and its name is a label. On the tiny path each
# run may have its own activation; under vmap the runs share one module tree, so they share it too.
VMAP_STACKED = ("name", "optim.lr", "optim.weight_decay", "model.init_seed")
STACKED = (*VMAP_STACKED, "model.activation", "model.leaky_slope")
OWN = ("probes.",)
# vmap's batching costs more per step than a run's own eager step: on the generalization lesson's digits
# MLP (benchmarks/lockstep.py, a 2-core CPU), N stacked runs against them one after another were 0.59x at
# 2, 0.83x at 3, 1.04x at 4, 1.21x at 5, 1.39x at 6, 1.59x at 8 and 2.18x at 16: fewer run alone
VMAP_MIN_RUNS = 5
# the step paths a run's system events name: NumPy's (alone or stacked), stacked under vmap, torch's
# eager step, or one replayed CUDA graph
PATH_TINY, PATH_VMAP, PATH_EAGER, PATH_GRAPH = "numpy", "vmap", "eager", "cuda_graph"


def numpy_step_reason(spec: JobSpec, device_type: str) -> str | None:
    """What keeps a run's update from being NumPy's (training/tiny.py's TinyOptimizer), alone on the tiny
    path or in a lockstep group: the checks both paths share (None: nothing does)."""
    m, optim = spec.model, spec.optim
    if device_type != "cpu":
        return "not on the CPU"
    if spec.distributed.world_size > 1:
        return "data parallel"
    if optim.planted_bug != "none" or optim.optimizer not in TINY_OPTIMIZERS:
        return "a planted bug or an optimizer without a NumPy step"
    if getattr(m, "batch_norm", False) or getattr(m, "dropout", 0.0) > 0:
        return "batch norm or dropout"
    if spec.probes.memory:
        return "its step's memory is measured (what torch's autograd holds)"
    if spec.loader.delay or spec.loader.prefetch:
        return "its batches come through a slow loader"
    return None


def tiny_reason(spec: JobSpec, device_type: str) -> str | None:
    """Why this run's step is not the tiny path on a device of this type, cpu or cuda (None: it is)."""
    m = spec.model
    if m.kind != "mlp" or not planar(spec.data):
        return "not an MLP on 2-D points"
    hidden, activation = getattr(m, "hidden", []), getattr(m, "activation", "")
    if any(width > TINY_MAX_WIDTH for width in hidden):
        return f"a hidden layer wider than {TINY_MAX_WIDTH}"
    if activation not in TINY_ACTIVATIONS:
        return f"no NumPy step for {activation}"
    return numpy_step_reason(spec, device_type)


def vmap_reason(spec: JobSpec, device_type: str) -> str | None:
    """Why this run cannot train stacked with matched runs under vmap (None: it can)."""
    if not registry().model(spec.model.kind).lockstep:
        return f"a {spec.model.kind} model's loss does not map over stacked parameters (it draws or keeps state)"
    return numpy_step_reason(spec, device_type)


def stack_path(spec: JobSpec, device_type: str) -> str | None:
    """How this run would step in a lockstep group: PATH_TINY, PATH_VMAP, or None (it trains alone)."""
    if tiny_reason(spec, device_type) is None:
        return PATH_TINY
    return PATH_VMAP if vmap_reason(spec, device_type) is None else None


def auto_device(spec: JobSpec, has_cuda: bool) -> str:
    """Where a job that leaves the device to the server ("auto") runs: on the CPU when its step takes the
    tiny path there, which a GPU's kernel launches cannot match for so small a net (benchmarks/throughput.py:
    ~18,000 steps/s on a 2-core CPU; an H200 ran a larger MLP at 641 eagerly), else on CUDA where there is
    one."""
    return "cuda" if has_cuda and tiny_reason(spec, "cpu") is not None else "cpu"


def differences(a: Any, b: Any, path: str = "") -> list[str]:
    """The dotted paths where two dumped specs differ."""
    if isinstance(a, dict) and isinstance(b, dict):
        return [d for key in sorted(a.keys() | b.keys()) for d in differences(a.get(key), b.get(key), f"{path}{key}.")]
    return [] if a == b else [path.rstrip(".")]


def apart(a: dict[str, Any], b: dict[str, Any], path: str = PATH_TINY) -> list[str]:
    """Where two dumped specs differ in a way that keeps them from stacking on that path."""
    stacked = STACKED if path == PATH_TINY else VMAP_STACKED
    return [where for where in differences(a, b) if where not in stacked and not where.startswith(OWN)]


def stack_reason(specs: Sequence[JobSpec], device_type: str) -> str | None:
    """Why these runs cannot train as one stacked model (None: they can)."""
    if len(specs) < 2:
        return "a single run"
    paths = [stack_path(spec, device_type) for spec in specs]
    if None in paths:
        spec = specs[paths.index(None)]
        return f"a run steps only alone: {vmap_reason(spec, device_type)}"  # the tiny path's runs all vmap
    path = paths[0]
    if path is None or len(set(paths)) > 1:
        return "some runs take the tiny path and others do not"
    first = specs[0].model_dump()
    apart_at = sorted({where for spec in specs[1:] for where in apart(first, spec.model_dump(), path)})
    return "they differ in " + ", ".join(apart_at) if apart_at else None


def lockstep_groups(specs: Sequence[JobSpec], device_type: str) -> list[list[int]]:
    """A group's runs (by index, in order) as the units they train in: each run that stacks with earlier
    ones beside them, the rest alone (and a vmap unit of fewer than VMAP_MIN_RUNS, run by run)."""
    paths = [stack_path(spec, device_type) for spec in specs]
    dumps = [spec.model_dump() for spec in specs]
    units: list[list[int]] = []
    for index, path in enumerate(paths):
        home = next(
            (
                unit
                for unit in units
                if path is not None and paths[unit[0]] == path and not apart(dumps[unit[0]], dumps[index], path)
            ),
            None,
        )
        if home is None:
            units.append([index])
        else:
            home.append(index)
    small = [unit for unit in units if paths[unit[0]] == PATH_VMAP and len(unit) < VMAP_MIN_RUNS]
    alone = sorted(index for unit in small for index in unit)
    kept = [unit for unit in units if unit not in small]
    return sorted(kept + [[index] for index in alone], key=lambda unit: unit[0])

"""Which runs take the tiny path (training/tiny.py) and which matched runs stack into one lockstep group
(training/lockstep.py): rules on specs alone, torch-free, so that the server plans a group's runs before
any worker has them (jobs/manager.py)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from trainscope.schemas import JobSpec, planar

# Past this width a step's matrix products, not per-operator overhead, dominate, and torch's kernels win
# (benchmarks/throughput.py measures the tiny path against the bare torch loop on the form's default 8-8).
TINY_MAX_WIDTH = 8
TINY_ACTIVATIONS = ("tanh", "relu", "leaky_relu", "sigmoid", "identity")
TINY_OPTIMIZERS = ("sgd", "momentum", "rmsprop", "adam", "adamw")

# where matched runs may differ and still stack: each is a value per run, not a shape or a schedule; a
# run's probes are its own (each run keeps its telemetry) and its name is a label
STACKED = ("name", "optim.lr", "optim.weight_decay", "model.init_seed", "model.activation", "model.leaky_slope")
OWN = ("probes.",)


def tiny_reason(spec: JobSpec, device_type: str) -> str | None:
    """Why this run's step is not the tiny path on a device of this type, cpu or cuda (None: it is)."""
    m, optim = spec.model, spec.optim
    if device_type != "cpu":
        return "not on the CPU"
    if m.kind != "mlp" or not planar(spec.data):
        return "not an MLP on 2-D points"
    if spec.distributed.world_size > 1:
        return "data parallel"
    if optim.planted_bug != "none" or optim.optimizer not in TINY_OPTIMIZERS:
        return "a planted bug or an optimizer without a NumPy step"
    hidden, activation = getattr(m, "hidden", []), getattr(m, "activation", "")
    if any(width > TINY_MAX_WIDTH for width in hidden):
        return f"a hidden layer wider than {TINY_MAX_WIDTH}"
    if activation not in TINY_ACTIVATIONS:
        return f"no NumPy step for {activation}"
    if getattr(m, "batch_norm", False) or getattr(m, "dropout", 0.0) > 0:
        return "batch norm or dropout"
    if spec.probes.memory:
        return "its step's memory is measured (what torch's autograd holds)"
    if spec.loader.delay or spec.loader.prefetch:
        return "its batches come through a slow loader"
    return None


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


def apart(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    """Where two dumped specs differ in a way that keeps them from stacking."""
    return [path for path in differences(a, b) if path not in STACKED and not path.startswith(OWN)]


def stack_reason(specs: Sequence[JobSpec], device_type: str) -> str | None:
    """Why these runs cannot train as one stacked model (None: they can)."""
    if len(specs) < 2:
        return "a single run"
    for spec in specs:
        if (reason := tiny_reason(spec, device_type)) is not None:
            return f"a run is not on the tiny path: {reason}"
    first = specs[0].model_dump()
    paths = sorted({path for spec in specs[1:] for path in apart(first, spec.model_dump())})
    return "they differ in " + ", ".join(paths) if paths else None


def lockstep_groups(specs: Sequence[JobSpec], device_type: str) -> list[list[int]]:
    """A group's runs (by index, in order) as the units they train in: each run that stacks with earlier
    ones beside them, the rest alone."""
    tiny = [tiny_reason(spec, device_type) is None for spec in specs]
    dumps = [spec.model_dump() for spec in specs]
    units: list[list[int]] = []
    for index in range(len(specs)):
        home = next((u for u in units if tiny[index] and tiny[u[0]] and not apart(dumps[u[0]], dumps[index])), None)
        if home is None:
            units.append([index])
        else:
            home.append(index)
    return units

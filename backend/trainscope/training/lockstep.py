"""Lockstep groups: matched runs that differ only in values that stack (learning rate, weight decay, the
initial weights' seed; on the tiny path, the activation too) train as one model with a leading run axis,
one step for all of them, while each run keeps its own driver: its reports, probes, evaluations,
divergence and verdict are the ones it would have alone, within float rounding (tests/unit/test_lockstep.py
checks it). The probes that sample on the clock (at most once per probes.min_interval_s) share one run's
budget: each run's probes sample as often per step as a run training at the group's combined pace would.

Two ways to step a group: a tiny plain MLP's NumPy step over stacked parameters (training/tiny.py), where
N stacked runs cost little more than one; any other kind whose loss maps over stacked parameters, under
torch.func.vmap (training/vmapped.py). Which runs stack, and how, is decided on their specs
(training/stacking.py); a group that does not stack trains as separate runs (benchmarks/lockstep.py).

What stacking cannot keep: a run of the group that pauses holds the whole group while it is paused (each
run's controls still work: cancel, set_lr, step)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from trainscope.schemas import JobSpec
from trainscope.training.control import Control, EmitPolicy, FitResult, NoControl
from trainscope.training.devices import resolve_device
from trainscope.training.driver import Driver, quiet_numpy
from trainscope.training.stacking import PATH_TINY, stack_path, stack_reason
from trainscope.training.tasks import Emit
from trainscope.training.tasks.supervised import SupervisedTask
from trainscope.training.tiny import TinyRun, TinyStack
from trainscope.training.vmapped import VmapRun, VmapStack


def fit_stacked(
    specs: Sequence[JobSpec],
    emits: Sequence[Emit],
    controls: Sequence[Control | None] | None = None,
    policy: EmitPolicy | None = None,
    on_end: Callable[[int, FitResult], None] | None = None,
) -> list[FitResult]:
    """Train runs that stack (stack_reason) as one model; each run's events go to its own emit and it obeys
    its own control. Returns each run's result, in order; `on_end(run, result)` hears of each as it ends
    (a run cancelled or diverged ends while the others train on)."""
    device_type = resolve_device(specs[0].device).type
    if (reason := stack_reason(specs, device_type)) is not None:
        raise ValueError(f"these runs do not stack: {reason}")
    policy = policy or EmitPolicy()
    controls = controls or [None] * len(specs)
    drivers = [
        Driver(spec, emit, control or NoControl(), policy, stacked=True)
        for spec, emit, control in zip(specs, emits, controls, strict=True)
    ]
    tasks = [driver.task for driver in drivers]
    optimizers = [driver.optimizer for driver in drivers]
    path = stack_path(specs[0], device_type)
    stack: TinyStack | VmapStack
    if path == PATH_TINY:
        assert all(isinstance(task, SupervisedTask) for task in tasks)  # stack_path: the tiny path's task
        stack = TinyStack(tasks, optimizers)  # type: ignore[arg-type]
        members: list[TinyRun | VmapRun] = [TinyRun(stack, run, task, alone=False) for run, task in enumerate(tasks)]  # type: ignore[arg-type]
    else:
        stack = VmapStack(tasks, optimizers)  # type: ignore[arg-type]
        members = [VmapRun(stack, run, task) for run, task in enumerate(tasks)]
    for driver, member in zip(drivers, members, strict=True):
        driver.join(member, str(path), len(drivers))
    results: list[FitResult | None] = [None] * len(drivers)
    steps, every = specs[0].optim.steps, specs[0].optim.eval_every
    for driver in drivers:
        driver.begin()
    running = list(range(len(drivers)))
    with quiet_numpy():
        for step in range(1, steps + 1):
            last = step == steps
            measure = last or step % every == 0
            stack.compute(measure)
            rows = stack.rows()
            for run in running:
                drivers[run].take(rows[run], step, last, measure)
            stack.apply()
            for run in running:
                if (result := drivers[run].settle(step, last)) is not None:
                    results[run] = result
                    if on_end is not None:
                        on_end(run, result)
            running = [run for run in running if results[run] is None]
            if not running:
                break
    for run in running:
        results[run] = result = drivers[run].finished()
        if on_end is not None:
            on_end(run, result)
    return [result for result in results if result is not None]

"""Lockstep groups: matched runs that differ only in values that stack (learning rate, weight decay, the
initial weights' seed, the activation) train as one model with a leading run axis, one step for all of
them, while each run keeps its own driver: its reports, probes, evaluations, divergence and verdict are
the ones it would have alone, within float rounding (tests/unit/test_lockstep.py checks it).

Built on the tiny path (training/tiny.py), where a step is per-operation overhead rather than arithmetic,
so N stacked runs cost little more than one (benchmarks/lockstep.py). Which runs stack is decided on their
specs (training/stacking.py); a group that does not stack trains as separate runs.

What stacking cannot keep: a run of the group that pauses holds the whole group while it is paused (each
run's controls still work: cancel, set_lr, step)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from trainscope.schemas import JobSpec
from trainscope.training.driver import (
    Control,
    Driver,
    EmitPolicy,
    FitResult,
    NoControl,
    RunEnded,
    quiet_numpy,
    resolve_device,
)
from trainscope.training.stacking import stack_reason
from trainscope.training.tasks import Emit
from trainscope.training.tasks.supervised import SupervisedTask
from trainscope.training.tiny import TinyRun, TinyStack


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
    if (reason := stack_reason(specs, resolve_device(specs[0].device).type)) is not None:
        raise ValueError(f"these runs do not stack: {reason}")
    policy = policy or EmitPolicy()
    controls = controls or [None] * len(specs)
    drivers = [
        Driver(spec, emit, control or NoControl(), policy)
        for spec, emit, control in zip(specs, emits, controls, strict=True)
    ]
    tasks = [driver.task for driver in drivers]
    assert all(isinstance(task, SupervisedTask) for task in tasks)  # stack_reason: the tiny path's task
    stack = TinyStack(tasks, [driver.optimizer for driver in drivers])  # type: ignore[arg-type, misc]
    for run, driver in enumerate(drivers):
        driver.tiny = TinyRun(stack, run, driver.task, alone=False)  # type: ignore[arg-type]
        if driver.telemetry is not None:
            driver.telemetry.ctx.stacked_runs = len(drivers)
    results: list[FitResult | None] = [None] * len(drivers)
    steps, every = specs[0].optim.steps, specs[0].optim.eval_every
    for driver in drivers:
        driver.begin()
    running = list(range(len(drivers)))
    members = [driver.tiny for driver in drivers]
    with quiet_numpy():
        for step in range(1, steps + 1):
            last = step == steps
            measure = last or step % every == 0
            stack.compute(measure)
            losses, index = stack.losses.tolist(), stack.index
            for run in running:  # each run's row and figures, and its probes' own pass where they sample
                driver = drivers[run]
                driver.pending.append(losses[run])
                driver.sample(step, last, index)
                if measure:
                    driver.measured = members[run].figures(measure)  # type: ignore[union-attr]
            stack.apply()
            for run in running:
                driver = drivers[run]
                try:
                    if driver.due(step, last):
                        driver.report_step(step, last)
                except RunEnded as ended:
                    results[run] = result = driver.ended(ended, step)
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

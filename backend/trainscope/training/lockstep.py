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

Each run answers its own controls (cancel, set_lr, pause, step, resume) as it would alone. A run that
pauses is set apart: it leaves the stack, with its parameters, optimizer state and place in the batches,
and the others train on without it; from then on it steps as a stack of its own, between its group's
steps, whenever it is not held (tests/unit/test_lockstep.py)."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from trainscope.schemas import JobSpec
from trainscope.training.control import Control, EmitPolicy, FitResult, NoControl, RunEnded
from trainscope.training.devices import resolve_device
from trainscope.training.driver import Driver, quiet_numpy
from trainscope.training.stacking import PATH_TINY, stack_path, stack_reason
from trainscope.training.tasks import Emit
from trainscope.training.tasks.supervised import SupervisedTask
from trainscope.training.tiny import TinyRun, TinyStack
from trainscope.training.vmapped import VmapRun, VmapStack

HELD_WAIT_S = 1.0  # how long a wait for commands lasts when every run left is paused, shared among them


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
    path = stack_path(specs[0], device_type)
    assert path is not None  # stack_reason: every run stacks
    results: list[FitResult | None] = [None] * len(drivers)

    def end(run: int, result: FitResult) -> None:
        results[run] = result
        if on_end is not None:
            on_end(run, result)

    units = [Unit(path, drivers, list(range(len(drivers))), done=0)]
    for driver in drivers:
        driver.begin()
    with quiet_numpy():
        while units:
            for unit in units:
                if not unit.held():
                    unit.step(end)
            units = [part for unit in units for part in unit.set_apart() if part.running]
            held = [unit for unit in units if unit.held()]
            for unit in held:  # while others train, a look; when every run left is paused, a wait
                unit.listen(HELD_WAIT_S / len(held) if len(held) == len(units) else 0.0, end)
            units = [unit for unit in units if unit.running]
    return [result for result in results if result is not None]


class Unit:
    """Runs stepped as one stack from the same step on: a group, or a run of it set apart when it paused."""

    def __init__(self, path: str, drivers: list[Driver], runs: list[int], done: int) -> None:
        self.path, self.drivers, self.runs, self.running, self.done = path, drivers, runs, list(runs), done
        tasks = [drivers[run].task for run in runs]
        optimizers = [drivers[run].optimizer for run in runs]
        self.stack: TinyStack | VmapStack
        members: list[TinyRun | VmapRun]
        if path == PATH_TINY:
            assert all(isinstance(task, SupervisedTask) for task in tasks)  # stack_path: the tiny path's task
            self.stack = TinyStack(tasks, optimizers)  # type: ignore[arg-type]
            members = [TinyRun(self.stack, slot, task, alone=False) for slot, task in enumerate(tasks)]  # type: ignore[arg-type]
        else:
            self.stack = VmapStack(tasks, optimizers)  # type: ignore[arg-type]
            members = [VmapRun(self.stack, slot, task) for slot, task in enumerate(tasks)]
        for run, member in zip(runs, members, strict=True):
            drivers[run].join(member, path, len(runs))
        self.slot = {run: slot for slot, run in enumerate(runs)}
        # before this step no run reports by step count nor samples, and until the earliest report is as old
        # as the report interval none by the clock: each run only buffers its row, and its driver is not
        # called (~1.2 us a run a step; a group of 16 spent 13% of its time there)
        self.quiet, self.oldest_report = 0.0, 0.0
        self.interval_s = drivers[runs[0]].policy.interval_s

    def step(self, end: Callable[[int, FitResult], None]) -> None:
        """One step of every run still running: the stack's, then each run's reports and controls."""
        self.done = step = self.done + 1
        drivers, stack, spec = self.drivers, self.stack, self.drivers[self.runs[0]].spec
        last = step == spec.optim.steps
        measure = last or step % spec.optim.eval_every == 0
        stack.compute(measure)
        rows = stack.rows()
        if step < self.quiet and time.monotonic() - self.oldest_report < self.interval_s:
            for run in self.running:
                drivers[run].pending.append(rows[self.slot[run]])
            stack.apply()
            return
        for run in self.running:
            drivers[run].take(rows[self.slot[run]], step, last, measure)
        stack.apply()
        ended = set()
        for run in self.running:
            result = drivers[run].settle(step, last)
            if result is None and last:
                result = drivers[run].finished()
            if result is not None:
                end(run, result)
                ended.add(run)
        self.running = [run for run in self.running if run not in ended]
        if self.running:
            self.quiet = min(drivers[run].quiet_until(step) for run in self.running)
            self.oldest_report = min(drivers[run].last_report for run in self.running)

    def held(self) -> bool:
        """A unit of one run, paused with no steps to take."""
        return len(self.running) == 1 and self.drivers[self.running[0]].held

    def set_apart(self) -> list[Unit]:
        """This unit, or (where runs of it paused) its runs as units: each paused one alone and the rest
        together, each carrying on from this one's parameters, optimizer state and batches."""
        paused = [run for run in self.running if self.drivers[run].held]
        if not paused or len(self.running) == 1:
            return [self]
        rest = [run for run in self.running if run not in paused]
        parts = [
            Unit(self.path, self.drivers, part, self.done)
            for part in ([rest] if rest else []) + [[run] for run in paused]
        ]
        for part in parts:
            part.stack.optimizer.adopt(self.stack.optimizer, [self.slot[run] for run in part.runs])
            # a part draws its first run's batches: this unit's first run's are where this unit is; any other
            # run's were never drawn (a run first of a unit stays first of its part)
            if part.runs[0] != self.runs[0]:
                part.stack.skip(self.done)
        return parts

    def listen(self, wait: float, end: Callable[[int, FitResult], None]) -> None:
        """A held run's commands (a resume, steps to take, a cancel), waiting up to `wait` seconds."""
        [run] = self.running
        try:
            self.drivers[run].listen(self.done, wait)
        except RunEnded as ended:
            end(run, self.drivers[run].ended(ended, self.done))
            self.running = []
        self.quiet = 0.0  # a step command starts a count its driver keeps step by step (quiet_until)

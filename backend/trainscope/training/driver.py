"""fit(): the driver every run shares around the task of its model kind (training/tasks/): the optimizer
and its step (zero_grad, backward, step), the probe schedule, control, reporting, divergence, pace, time
limit and device. Plain PyTorch: it reports through an injected `emit` and obeys `control`."""

from __future__ import annotations

import gc
import math
import time
from typing import Protocol

import numpy as np
import torch

from trainscope.schemas import (
    CancelCommand,
    Command,
    ControlEvent,
    JobSpec,
    JobStatus,
    MemoryEvent,
    PauseCommand,
    ResumeCommand,
    ScalarPoint,
    ScalarsEvent,
    SetLrCommand,
    StatusEvent,
    StepCommand,
)
from trainscope.schemas.events import MemoryData
from trainscope.schemas.registry import registry
from trainscope.training.control import (
    Cancelled,
    Control,
    Diverged,
    EmitPolicy,
    FitResult,
    NoControl,
    OutOfTime,
    RunEnded,
)
from trainscope.training.devices import resolve_device
from trainscope.training.footprint import StepMemory
from trainscope.training.graphs import GraphStep, graph_reason
from trainscope.training.loader import Loader
from trainscope.training.memory import estimate
from trainscope.training.models import make_optimizer
from trainscope.training.parallel import FollowRank0, RankInfo, Ranks, joined
from trainscope.training.probes import Telemetry
from trainscope.training.random_search import RandomSearch
from trainscope.training.stacking import PATH_EAGER, PATH_GRAPH, PATH_TINY
from trainscope.training.tasks import Batch, Emit, Figures, task_for
from trainscope.training.tiny import tiny_step


class StackedRun(Protocol):
    """A run's slice of a step computed for several runs at once (training/tiny.py, training/vmapped.py)."""

    def figures(self, measure: bool) -> Figures: ...

    def evaluation(self, final: bool) -> dict[str, float]: ...

    def torch_batch(self) -> Batch:
        """The step's batch as the run's task takes it, for the probes' own pass."""


def quiet_numpy() -> np.errstate:
    """NumPy warns of an overflow or a nan where torch is silent (the tiny path; probes on the host): a
    diverging run's inf is its result, reported as such."""
    return np.errstate(over="ignore", invalid="ignore", divide="ignore")


class Driver:
    """One run: its task, the buffer of per-step rows, and what the controller asked for."""

    def __init__(
        self,
        spec: JobSpec,
        emit: Emit,
        control: Control,
        policy: EmitPolicy,
        ranks: Ranks | None = None,
        stacked: bool = False,
    ) -> None:
        """`stacked`: the run is one of a lockstep group (training/lockstep.py), whose step is the group's."""
        self.spec, self.emit, self.control, self.policy, self.ranks = spec, emit, control, policy, ranks
        self.leader = ranks is None or ranks.leader  # what a viewer sees: one rank reports, probes and obeys
        if not self.leader:
            self.emit = lambda event: None
        torch.manual_seed(spec.seed)
        self.device = ranks.device if ranks is not None else resolve_device(spec.device)
        # Rows stay on the device until a report; reading each with .item() would sync every step.
        self.pending: list[torch.Tensor | float] = []
        self.first_pending = 1
        self.last_report = time.monotonic()
        self.summary: dict[str, float] = {}
        self.last_ok = math.nan
        self.ceiling = math.inf  # set from the first loss when the spec gives a divergence factor
        self.paused = False
        self.step_budget: int | None = None  # steps left to run while paused ("step N")
        self.started = time.monotonic()  # reset when training starts; the time limit and steps/s use it
        self.pace_from = (self.started, 0)  # (time, step) the pace counts from: a resume starts afresh
        self.task = task_for(spec)(spec, self.device)
        self.kind = registry().model(spec.model.kind)
        # a kind without gradients (k-means) steps itself: no optimizer, no learning rate
        alone = ranks is None and not stacked
        self.stacked = stacked  # paused, it does not wait in obey: its group sets it apart (held)
        graphed = alone and self.kind.gradients and graph_reason(spec, self.device) is None
        params = self.task.parameters()
        self.optimizer = make_optimizer(spec.optim, params, spec.seed, graphed) if self.kind.gradients else None
        # a tiny plain MLP on the CPU steps in NumPy (training/tiny.py); a network on CUDA replays its step
        # as a CUDA graph (training/graphs.py); every other run steps in torch, eagerly
        self.tiny = tiny_step(self.task, self.optimizer) if alone else None
        self.member: StackedRun | None = self.tiny  # where its step's figures come from, when not from torch
        context = self.task.probe_context()
        context.step_path = PATH_TINY if self.tiny is not None else PATH_GRAPH if graphed else PATH_EAGER
        self.telemetry: Telemetry | None = Telemetry(context) if self.leader else None
        if self.telemetry is not None and not self.telemetry.probes:
            self.telemetry = None  # nothing to sample: not even a call per step
        self.state, self.zero_grad = self.task.state(), spec.optim.planted_bug != "no_zero_grad"
        self.report_now = False  # rank 0's word, in a data-parallel run, that a report is due
        if ranks is not None:  # the task's loss calls the model through DDP; every rank obeys rank 0
            self.state = self.state._replace(wrapper=ranks.wrap(self.task.model))
            self.control = FollowRank0(ranks, control, self.time_is_up, OutOfTime)
        self.search = self.optimizer if isinstance(self.optimizer, RandomSearch) else None
        self.graph = GraphStep(self.task, self.state, self.optimizer) if graphed and self.optimizer else None
        # a loader as slow as the spec asks, between the task's batches and the step (training/loader.py)
        slow, ahead = spec.loader.delay, spec.loader.prefetch
        self.loader = Loader(self.task.batch, slow, ahead) if slow or ahead else None
        self.next_batch = self.loader.next if self.loader is not None else self.task.batch
        measures = spec.probes.memory and self.kind.gradients and self.leader
        self.meter = StepMemory(self.task.parameters(), self.device) if measures else None
        self.step_tags = self.task.step_tags
        self.pace, self.eval_every = spec.pace, spec.optim.eval_every
        self.measured: dict[str, torch.Tensor] = {}  # figures of the last step asked to measure

    def train_step(self, step: int, last: bool) -> torch.Tensor | float:
        """One step of the task's loss, backward and the optimizer; the row to buffer (on the device)."""
        task, optimizer, telemetry = self.task, self.optimizer, self.telemetry
        if self.tiny is not None:
            return self.tiny_train_step(step, last)
        if self.meter is not None:  # the first step, measured (probes.memory)
            meter, self.meter = self.meter, None
            with meter:
                row = self.train_step(step, last)
            self.report_memory(meter, step)
            return row
        batch = self.next_batch() if self.ranks is None else self.ranks.shard(self.next_batch())
        measure = last or step % self.eval_every == 0
        if optimizer is None:  # the kind's own update (probes sample its state after it)
            if telemetry is not None:
                telemetry.before_forward(step, last=last)
            with torch.no_grad():
                loss, figures = task.update(batch, measure)
            if telemetry is not None:
                telemetry.after_backward(step, self.emit)
        elif self.search is not None:  # no gradient: the search evaluates the loss itself
            with torch.no_grad():
                _, figures = task.loss(self.state, batch, measure)
                loss = self.search.step(lambda: task.loss(self.state, batch, False)[0])
        else:
            sampled = telemetry is not None and telemetry.before_forward(step, last=last)
            if self.graph is not None and not sampled:  # replayed (a step the probes sample runs eagerly)
                loss, figures = self.graph.step(batch, measure)
            else:
                loss, figures = task.loss(self.state, batch, measure)
                if self.zero_grad:
                    optimizer.zero_grad(set_to_none=True)
                loss.backward()  # type: ignore[no-untyped-call]
                if telemetry is not None:
                    telemetry.after_backward(step, self.emit)
                optimizer.step()
        if measure:
            # the scalars the task measured beside its step tags (a figure of many values is its step row's)
            self.measured = {tag: v for tag, v in figures.items() if tag not in self.step_tags and v.numel() == 1}
        return task.step_row(loss, figures)

    def report_memory(self, meter: StepMemory, step: int) -> None:
        """What the measured step held beside the spec's estimate: an event, and figures in the summary."""
        measured = meter.measured(self.optimizer)
        estimated = estimate(self.spec, self.device.type == "cuda").as_dict()
        figures = {f"measured/{k}": v for k, v in measured.items()}
        figures |= {f"estimate/{k}": float(v) for k, v in estimated.items() if v is not None}
        data = MemoryData(device=str(self.device), measured=measured, estimate=estimated)
        self.emit(MemoryEvent(step=step, figures=figures, data=data))
        self.summary.update({f"memory/{k}": v for k, v in figures.items()})

    def tiny_train_step(self, step: int, last: bool) -> float:
        """The tiny path's step (NumPy), with the probes' own pass where they sample."""
        assert self.tiny is not None
        measure = last or step % self.eval_every == 0
        loss, figures = self.tiny.gradients(measure)
        self.sample(step, last)
        self.tiny.apply()
        if measure:
            self.measured = figures
        return loss

    def sample(self, step: int, last: bool) -> None:
        """On a step the probes sample, a step computed outside torch's own (the tiny path's, a group's)
        runs its pass again in torch for them, before the update: their hooks see its activations and its
        gradients land in .grad."""
        telemetry = self.telemetry
        if telemetry is not None and telemetry.before_forward(step, last=last):
            assert self.member is not None and self.optimizer is not None
            self.optimizer.zero_grad(set_to_none=True)
            self.task.loss(self.state, self.member.torch_batch(), False)[0].backward()  # type: ignore[no-untyped-call]
            telemetry.after_backward(step, self.emit)

    def run(self) -> FitResult:
        steps = self.spec.optim.steps
        self.begin()
        step = 0
        try:
            with quiet_numpy():
                for step in range(1, steps + 1):
                    if self.ranks is None:
                        self.pending.append(self.train_step(step, step == steps))
                    else:
                        self.pending.append(self.ranks_step(step, step == steps))
                    self.after_step(step, final=step == steps)
        except RunEnded as ended:
            return self.ended(ended, step)
        return self.finished()

    def begin(self) -> None:
        """What a viewer sees before the first step; the clocks start."""
        self.task.begin(self.emit)
        self.started = time.monotonic()
        self.pace_from = (self.started, 0)

    def ended(self, ended: RunEnded, step: int) -> FitResult:
        """How a run stopped before its last step ends."""
        self.close()
        if isinstance(ended, Diverged):
            figures = {**self.summary, "diverged_step": float(ended.step)}
            if math.isfinite(ended.last_ok):
                figures["last_ok_loss"] = ended.last_ok
            return FitResult("diverged", ended.step, str(ended), figures)
        if isinstance(ended, OutOfTime):
            limit = self.policy.max_seconds
            return FitResult(
                "failed", step, f"stopped at step {step}: past the time limit of {limit:g} s", self.summary
            )
        return FitResult("cancelled", step, f"cancelled at step {step}", self.summary)

    def finished(self) -> FitResult:
        """A run past its last step: its pace and final measurements."""
        self.close()
        steps = self.spec.optim.steps
        elapsed = time.monotonic() - self.started
        self.summary["steps_per_s"] = steps / elapsed if elapsed > 0 else 0.0
        if self.leader:
            self.task.finish(steps, self.emit, self.summary)
        return FitResult("done", steps, f"finished {steps} steps", self.summary)

    def close(self) -> None:
        """What a run's end adds to its summary however it ended: its loader's waits."""
        if self.loader is not None:
            self.summary.update(self.loader.summary())

    def join(self, member: StackedRun, path: str, runs: int) -> None:
        """Make this run one of a lockstep group of `runs`, whose step `path` computes (training/lockstep.py)."""
        self.member = member
        if self.telemetry is not None:
            self.telemetry.ctx.stacked_runs, self.telemetry.ctx.step_path = runs, path
            # the group's runs share one run's probe budget in wall time, as a run training at their combined
            # pace would: on the clock each, the probes of a group of 16 took a quarter of its time
            self.telemetry.min_interval_s = self.spec.probes.min_interval_s * runs

    def take(self, row: torch.Tensor | float, step: int, last: bool, measure: bool) -> None:
        """A step its group computed: buffer its row, let the probes sample (their own pass), keep its
        figures of a measuring step; before the group's update."""
        assert self.member is not None
        self.pending.append(row)
        self.sample(step, last)
        if measure:
            self.measured = self.member.figures(measure)

    def quiet_until(self, step: int) -> float:
        """After its group's step `step`: the first step that may ask more of this run than its row buffered
        (a report by step count, a probe's sample, the last step); its group reads the clock's reports
        (training/lockstep.py). The next step while it keeps a pace or counts steps (due() has work each; a
        command read since may start a count: a pause ends one, a step command starts one)."""
        if self.pace or self.step_budget is not None:
            return step + 1
        every, steps = self.eval_every, self.spec.optim.steps
        quiet = min((step // every + 1) * every, self.first_pending + self.policy.max_steps - 1, steps)
        return min(quiet, self.telemetry.next_due) if self.telemetry is not None else quiet

    def settle(self, step: int, last: bool) -> FitResult | None:
        """After its group's update: report if due and obey its controller; how it ended, if it did."""
        try:
            if self.due(step, last):
                self.report_step(step, last)
        except RunEnded as ended:
            return self.ended(ended, step)
        return None

    def ranks_step(self, step: int, last: bool) -> torch.Tensor:
        """A data-parallel step: this rank's share of it, then the whole batch's row, shared by all."""
        assert self.ranks is not None
        started = time.perf_counter()
        row = self.train_step(step, last)
        assert isinstance(row, torch.Tensor)  # no tiny path in a data-parallel run
        due = self.leader and time.monotonic() - self.last_report >= self.policy.interval_s
        shared, self.report_now = self.ranks.step(row, due, time.perf_counter() - started)
        return shared

    def keep_pace(self, step: int) -> None:
        """Wait until this step is due at spec.pace steps a second (a run slowed down to be watched)."""
        origin, first = self.pace_from
        wait = origin + (step - first) / self.pace - time.monotonic()
        if wait > 0:
            time.sleep(wait)

    def after_step(self, step: int, final: bool) -> None:
        if self.due(step, final):
            self.report_step(step, final)

    def due(self, step: int, final: bool) -> bool:
        """Whether this step reports (an evaluation, the buffer full or the interval past, a step budget
        spent, the first step); called every step: plain ints and one clock read (a pydantic attribute
        chain per step costs ~1% of a tiny net's)."""
        if self.pace:
            self.keep_pace(step)
        if self.step_budget is not None:
            self.step_budget -= 1
        # in a data-parallel run only rank 0's clock counts: it said so in the step's all-reduce
        late = self.report_now if self.ranks else time.monotonic() - self.last_report >= self.policy.interval_s
        return (
            step % self.eval_every == 0
            or final
            or late
            or len(self.pending) >= self.policy.max_steps
            or self.step_budget == 0
            or step == 1
        )

    def report_step(self, step: int, final: bool) -> None:
        """Report the buffered rows with this step's figures (an evaluation's too), then obey the controller."""
        evaluating = step % self.eval_every == 0 or final
        extra: dict[str, float] = {"lr": self.optimizer.param_groups[0]["lr"]} if self.optimizer else {}
        if self.ranks is not None:
            extra.update(self.ranks.rates(self.spec.optim.batch_size * (step - self.first_pending + 1)))
        if self.loader is not None:
            extra.update(self.loader.figures())
        if evaluating and self.leader:
            extra.update(self.task.evaluation(final) if self.member is None else self.member.evaluation(final))
            if self.measured:  # one more device read per evaluation, of a few figures
                extra.update(zip(self.measured, torch.stack(list(self.measured.values())).tolist(), strict=True))
                self.measured = {}
        self.report(step, extra)
        if not final:
            self.obey(step)

    def report(self, step: int, extra: dict[str, float]) -> None:
        """Send the buffered losses (one transfer); raise Diverged at the first bad one."""
        pending = self.pending
        rows: list[list[float]] = []
        if pending and isinstance(pending[0], float):  # the tiny path's losses, already on the host
            rows = [[value] for value in pending]  # type: ignore[list-item]
        elif pending:
            rows = torch.stack(pending).reshape(len(pending), -1).tolist()  # type: ignore[arg-type]
        self.pending = []
        if self.first_pending == 1 and rows and math.isfinite(rows[0][0]) and self.spec.optim.divergence_factor:
            self.ceiling = rows[0][0] * self.spec.optim.divergence_factor
        first, tags, ceiling = self.first_pending, self.step_tags, self.ceiling
        losses = [row[0] for row in rows]
        # the first loss not finite or past the ceiling: most reports have none, seen in two passes in C (a
        # sum is finite only if every term is), not a test per row in Python (~1 us a row on the tiny path)
        good = len(rows)
        if not (losses and math.isfinite(sum(losses)) and max(losses) <= ceiling):
            good = next((i for i, v in enumerate(losses) if not math.isfinite(v) or v > ceiling), good)
        tag = tags[0] if len(tags) == 1 else None
        points = [
            ScalarPoint(first + i, {tag: row[0]} if tag else dict(zip(tags, row, strict=True)))
            for i, row in enumerate(rows[:good])
        ]
        if good:
            self.last_ok = losses[good - 1]
        bad = (first + good, losses[good]) if good < len(rows) else None
        if bad is None and points:
            points[-1].values.update({k: v for k, v in extra.items() if np.isfinite(v)})
        if points:
            self.emit(ScalarsEvent(step=points[-1].step, points=points))
            self.summary.update(points[-1].values)
        self.first_pending, self.last_report = step + 1, time.monotonic()
        if bad is not None:
            raise Diverged(*bad, self.last_ok, self.ceiling)

    def obey(self, step: int) -> None:
        """Apply the controller's commands; while paused (and not stepping), wait for more (a run of a
        lockstep group does not: its group sets it apart and listens for it, training/lockstep.py)."""
        self.apply(self.control.poll(0), step)
        while self.held and not self.stacked:
            self.listen(step, 1.0)
        self.check_time()

    @property
    def held(self) -> bool:
        """Paused, with no steps to take."""
        return self.paused and not self.step_budget

    def listen(self, step: int, wait: float) -> None:
        """While held: past the time limit it ends; else the next commands, waiting up to `wait` s (and
        let go past the time limit, it ends before another step)."""
        self.check_time()
        self.apply(self.control.poll(wait), step)
        if not self.held:
            self.check_time()

    def check_time(self) -> None:
        """Past the time limit: OutOfTime (in a data-parallel run, rank 0's clock, read as it polls)."""
        if self.ranks is None and self.time_is_up():
            raise OutOfTime

    def time_is_up(self) -> bool:
        return time.monotonic() - self.started > self.policy.max_seconds

    def apply(self, commands: list[Command], step: int) -> None:
        for command in commands:
            if isinstance(command, CancelCommand):
                raise Cancelled
            if isinstance(command, PauseCommand) and not self.paused:
                self.paused, self.step_budget = True, None
                self.status("paused", step, f"paused at step {step}")
            elif isinstance(command, ResumeCommand) and self.paused:
                self.paused, self.step_budget = False, None
                self.pace_from = (time.monotonic(), step)
                self.status("running", step, f"resumed at step {step}")
            elif isinstance(command, StepCommand) and self.paused:
                self.step_budget = command.steps
            elif isinstance(command, SetLrCommand) and self.optimizer is not None:  # no rate to set without one
                previous = self.optimizer.param_groups[0]["lr"]
                for group in self.optimizer.param_groups:
                    group["lr"] = command.lr
                self.emit(ControlEvent(step=step, action="set_lr", lr=command.lr, previous=previous))

    def status(self, status: str, step: int, message: str) -> None:
        self.emit(StatusEvent(step=step, status=JobStatus(status), message=message))


def fit(
    spec: JobSpec,
    emit: Emit,
    control: Control | None = None,
    policy: EmitPolicy | None = None,
    rank: RankInfo | None = None,
) -> FitResult:
    """Train the spec's model on its data, emitting events as it goes; the whole run in one call. With
    `rank`, this process is that rank of a data-parallel run (every rank calls fit, each with its own)."""
    policy = policy or EmitPolicy()
    if rank is None:
        return Driver(spec, emit, control or NoControl(), policy).run()
    # a collective waits this long for the other ranks: a paused run waits in one for its next command
    timeout = min(policy.max_seconds, 7 * 24 * 3600.0) + 60.0
    with joined(rank, resolve_device(spec.device), timeout) as ranks:
        driver = Driver(spec, emit, control or NoControl(), policy, ranks)
        try:
            return driver.run()
        finally:  # DDP's reducer must go before the process group it uses, or the process aborts at exit
            driver.state = driver.state._replace(wrapper=None)
            del driver
            gc.collect()

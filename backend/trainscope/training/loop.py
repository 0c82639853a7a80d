"""fit(): a plain PyTorch training loop that reports through an injected `emit` and obeys `control`."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import torch
from torch import nn

from trainscope.schemas import (
    CancelCommand,
    Command,
    JobSpec,
    Params2DSpec,
    PauseCommand,
    Points2DData,
    ResumeCommand,
    SetLrCommand,
    StepCommand,
    SurfaceData,
)
from trainscope.training.analyses import (
    bn_modes,
    gradient_check,
    gradient_variance,
    linear_collapse,
    query_points,
)
from trainscope.training.datasets import Split, load_split
from trainscope.training.models import build_model, make_optimizer
from trainscope.training.objective import CLASSIFICATION, Objective, objective_for
from trainscope.training.points import DRAWN_POINTS_CAP, drawn_points, target_of
from trainscope.training.probes import Emit, ProbeContext, Telemetry
from trainscope.training.surface import make_problem


class Control(Protocol):
    def poll(self, wait: float) -> list[Command]:
        """Commands that arrived; waits up to `wait` seconds for the first one (0: just look)."""


class NoControl:
    def poll(self, wait: float) -> list[Command]:
        if wait:
            raise RuntimeError("paused with no way to resume")
        return []


@dataclass
class FitResult:
    """How a run ended: status is done, diverged or cancelled."""

    status: str
    step: int
    message: str = ""
    summary: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class EmitPolicy:
    """When buffered train losses are read from the device and sent, and how long a run may take."""

    interval_s: float = 0.1
    max_steps: int = 200
    max_seconds: float = math.inf  # wall time, pauses included; checked at each report


class Cancelled(Exception):
    pass


class OutOfTime(Exception):
    pass


class Diverged(Exception):
    def __init__(self, step: int, value: float, last_ok: float, ceiling: float) -> None:
        what = f"became {value}" if not math.isfinite(value) else f"rose to {value:.4g} (above {ceiling:.4g})"
        super().__init__(f"loss {what} at step {step}; last loss before it {last_ok:.4g}")
        self.step, self.last_ok = step, last_ok


def resolve_device(choice: str) -> torch.device:
    if choice == "cuda" or (choice == "auto" and torch.cuda.is_available()):
        if not torch.cuda.is_available():
            raise RuntimeError("this job asks for CUDA but the worker has no CUDA device")
        return torch.device("cuda")
    return torch.device("cpu")


def evaluate(
    model: nn.Module,
    split: Split,
    batch: tuple[torch.Tensor, torch.Tensor] | None = None,
    held_out: bool = False,
    training_set: bool = False,
    objective: Objective = CLASSIFICATION,
) -> dict[str, float]:
    """Validation loss and accuracy (with held_out, the test and holdout sets' too, where the spec has
    them; with training_set, the whole training set's as `train_eval/*`, dropout off), and the accuracy
    on the last training batch's logits (already computed, so free); one device-to-host transfer for
    all of them."""
    sets = {"val": (split.x_val, split.y_val), **(split.held_out() if held_out else {})}
    if training_set:
        sets["train_eval"] = (split.x_train, split.y_train)
    was_training = model.training
    model.eval()
    with torch.no_grad():
        figures: dict[str, torch.Tensor] = {}
        for name, (x, y) in sets.items():
            logits = model(x)
            figures[f"{name}/loss"] = objective.loss(logits, y).double()
            if objective.accuracy:
                figures[f"{name}/acc"] = objective.accuracy(logits, y)
        if batch is not None and objective.accuracy:
            batch_logits, batch_labels = batch
            figures["train/acc"] = objective.accuracy(batch_logits.detach(), batch_labels)
        values = torch.stack(list(figures.values())).tolist()
    model.train(was_training)
    return dict(zip(figures, values, strict=True))


def plane_of(split: Split) -> tuple[tuple[float, float], tuple[float, float]]:
    """The input plane's extent with a margin, always holding the origin (where a bias-free boundary
    must pass); one host read, at set-up."""
    points = torch.cat([split.x_train, split.x_val]).cpu().numpy()
    lo, hi = np.minimum(points.min(axis=0), 0.0), np.maximum(points.max(axis=0), 0.0)
    margin = (hi - lo) * 0.1 + 1e-3
    return (float(lo[0] - margin[0]), float(hi[0] + margin[0])), (float(lo[1] - margin[1]), float(hi[1] + margin[1]))


def dataset_event(split: Split, target: str) -> dict[str, Any]:
    def part(x: torch.Tensor, y: torch.Tensor) -> dict[str, Any]:
        return drawn_points(x[:DRAWN_POINTS_CAP].cpu().numpy(), y[:DRAWN_POINTS_CAP].cpu().numpy())

    parts = {"train": part(split.x_train, split.y_train), "val": part(split.x_val, split.y_val)}
    return {"type": "dataset", "step": 0, "target": target, **parts}


class Trainer:
    """One run: the model, its data and probes, the loss buffer, and what the controller asked for.
    Subclasses change what a step computes (set_up, begin, train_step, evaluation, finish)."""

    step_tags: tuple[str, ...] = ("train/loss",)  # what each buffered per-step row holds, loss first

    def __init__(self, spec: JobSpec, emit: Emit, control: Control, policy: EmitPolicy) -> None:
        self.spec, self.emit, self.control, self.policy = spec, emit, control, policy
        torch.manual_seed(spec.seed)
        self.device = resolve_device(spec.device)
        # Rows stay on the device until a report; reading each with .item() would sync every step.
        self.pending: list[torch.Tensor] = []
        self.first_pending = 1
        self.last_report = time.monotonic()
        self.summary: dict[str, float] = {}
        self.last_ok = math.nan
        self.ceiling = math.inf  # set from the first loss when the spec gives a divergence factor
        self.paused = False
        self.step_budget: int | None = None  # steps left to run while paused ("step N")
        self.started = time.monotonic()  # reset when training starts; the time limit and steps/s use it
        self.pace_from = (self.started, 0)  # (time, step) the pace counts from: a resume starts afresh
        self.set_up()

    def set_up(self) -> None:
        spec = self.spec
        assert not isinstance(spec.data, SurfaceData)
        self.split = load_split(spec.data, spec.seed, self.device)
        self.model = build_model(spec).to(self.device)
        self.optimizer = make_optimizer(spec.optim, self.model.parameters())
        self.objective = objective_for(spec.data)
        probe_x = torch.cat([self.split.x_val, self.split.x_train])[: spec.probes.probe_size]
        probe_y = torch.cat([self.split.y_val, self.split.y_train])[: spec.probes.probe_size]
        plane = plane_of(self.split) if isinstance(spec.data, Points2DData) else None
        self.telemetry = Telemetry(ProbeContext(self.model, spec, probe_x, probe_y, plane, self.split.x_train))
        self.shuffle = torch.Generator().manual_seed(spec.seed)
        self.order, self.cursor = self.permutation(), 0
        self.last_batch: tuple[torch.Tensor, torch.Tensor] | None = None

    def permutation(self) -> torch.Tensor:
        return torch.randperm(len(self.split.x_train), generator=self.shuffle).to(self.device)

    def begin(self) -> None:
        """Before the first step."""
        if isinstance(self.spec.data, Points2DData):
            self.emit(dataset_event(self.split, target_of(self.spec.data)))
        if self.spec.probes.grad_variance:
            self.emit(gradient_variance(self.model, self.split, self.spec.optim.batch_size, 0, self.spec.seed))

    def train_step(self, step: int, last: bool) -> None:
        batch_size = self.spec.optim.batch_size
        if self.cursor + batch_size > len(self.split.x_train):
            self.order, self.cursor = self.permutation(), 0
        index = self.order[self.cursor : self.cursor + batch_size]
        self.cursor += batch_size
        self.telemetry.before_forward(step, last=last)
        labels = self.split.y_train[index]
        logits = self.model(self.split.x_train[index])
        loss = self.objective.loss(logits, labels)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()  # type: ignore[no-untyped-call]
        self.telemetry.after_backward(step, self.emit)
        self.optimizer.step()
        self.pending.append(loss.detach())
        self.last_batch = (logits, labels)

    def evaluation(self, final: bool) -> dict[str, float]:
        """Figures for an evaluation step; the held-out sets are scored once, at the end."""
        return evaluate(self.model, self.split, self.last_batch, final, self.spec.probes.train_eval, self.objective)

    def finish(self, step: int) -> None:
        """After the last step of a run that finished."""
        probes = self.spec.probes
        if probes.grad_variance:
            self.emit(gradient_variance(self.model, self.split, self.spec.optim.batch_size, step, self.spec.seed))
        if probes.gradient_check:
            self.emit(gradient_check(self.model, self.split, step))
        for wanted, measure in ((probes.linear_collapse, linear_collapse), (probes.bn_modes, bn_modes)):
            if wanted and (event := measure(self.model, self.split, step)) is not None:
                self.emit(event)
        if probes.query_points:
            self.emit(query_points(self.model, probes.query_points, step))

    def run(self) -> FitResult:
        steps = self.spec.optim.steps
        self.begin()
        self.started, step = time.monotonic(), 0
        self.pace_from = (self.started, 0)
        try:
            for step in range(1, steps + 1):
                self.train_step(step, last=step == steps)
                self.after_step(step, final=step == steps)
        except Cancelled:
            return FitResult("cancelled", step, f"cancelled at step {step}", self.summary)
        except OutOfTime:
            limit = self.policy.max_seconds
            return FitResult(
                "failed", step, f"stopped at step {step}: past the time limit of {limit:g} s", self.summary
            )
        except Diverged as diverged:
            figures = {**self.summary, "diverged_step": float(diverged.step)}
            if math.isfinite(diverged.last_ok):
                figures["last_ok_loss"] = diverged.last_ok
            return FitResult("diverged", diverged.step, str(diverged), figures)
        elapsed = time.monotonic() - self.started
        self.summary["steps_per_s"] = steps / elapsed if elapsed > 0 else 0.0
        self.finish(steps)
        return FitResult("done", steps, f"finished {steps} steps", self.summary)

    def keep_pace(self, step: int) -> None:
        """Wait until this step is due at spec.pace steps a second (a run slowed down to be watched)."""
        origin, first = self.pace_from
        wait = origin + (step - first) / self.spec.pace - time.monotonic()
        if wait > 0:
            time.sleep(wait)

    def after_step(self, step: int, final: bool) -> None:
        if self.spec.pace:
            self.keep_pace(step)
        if self.step_budget is not None:
            self.step_budget -= 1
        evaluating = step % self.spec.optim.eval_every == 0 or final
        stepped_out = self.step_budget == 0
        due = (
            len(self.pending) >= self.policy.max_steps or time.monotonic() - self.last_report >= self.policy.interval_s
        )
        if evaluating or due or stepped_out or step == 1:
            extra: dict[str, float] = {"lr": self.optimizer.param_groups[0]["lr"]}
            if evaluating:
                extra.update(self.evaluation(final))
            self.report(step, extra)
            if not final:
                self.obey(step)

    def report(self, step: int, extra: dict[str, float]) -> None:
        """Send the buffered losses (one transfer); raise Diverged at the first bad one."""
        rows = torch.stack(self.pending).reshape(len(self.pending), -1).tolist() if self.pending else []
        self.pending.clear()
        if self.first_pending == 1 and rows and math.isfinite(rows[0][0]) and self.spec.optim.divergence_factor:
            self.ceiling = rows[0][0] * self.spec.optim.divergence_factor
        points: list[dict[str, Any]] = []
        bad = None
        for offset, row in enumerate(rows):
            value = row[0]
            if not math.isfinite(value) or value > self.ceiling:
                bad = (self.first_pending + offset, value)
                break
            points.append({"step": self.first_pending + offset, "values": dict(zip(self.step_tags, row, strict=True))})
            self.last_ok = value
        if bad is None and points:
            points[-1]["values"].update({k: v for k, v in extra.items() if np.isfinite(v)})
        if points:
            self.emit({"type": "scalars", "step": points[-1]["step"], "points": points})
            self.summary.update(points[-1]["values"])
        self.first_pending, self.last_report = step + 1, time.monotonic()
        if bad is not None:
            raise Diverged(*bad, self.last_ok, self.ceiling)

    def obey(self, step: int) -> None:
        """Apply the controller's commands; while paused (and not stepping), wait for more."""
        self.apply(self.control.poll(0), step)
        while self.paused and not self.step_budget:
            self.check_time()
            self.apply(self.control.poll(1.0), step)
        self.check_time()

    def check_time(self) -> None:
        if time.monotonic() - self.started > self.policy.max_seconds:
            raise OutOfTime

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
            elif isinstance(command, SetLrCommand):
                previous = self.optimizer.param_groups[0]["lr"]
                for group in self.optimizer.param_groups:
                    group["lr"] = command.lr
                self.emit({"type": "control", "step": step, "action": "set_lr", "lr": command.lr, "previous": previous})

    def status(self, status: str, step: int, message: str) -> None:
        self.emit({"type": "status", "step": step, "status": status, "message": message})


class SurfaceTrainer(Trainer):
    """Gradient descent on two parameters, each step's position buffered with its loss (the path)."""

    step_tags = ("train/loss", "path/x", "path/y")

    def set_up(self) -> None:
        data, model = self.spec.data, self.spec.model
        assert isinstance(data, SurfaceData) and isinstance(model, Params2DSpec)
        self.data, self.start = data, model.start
        self.problem = make_problem(data, self.spec.seed, self.device)
        self.params = torch.tensor(model.start, dtype=torch.float32, device=self.device, requires_grad=True)
        self.optimizer = make_optimizer(self.spec.optim, [self.params])
        # on the job's device, so a mini-batch's indices are drawn there: no host-to-device copy per step
        self.shuffle = torch.Generator(device=self.device).manual_seed(self.spec.seed)

    def begin(self) -> None:
        self.emit(
            {"type": "analysis", "name": "surface", "step": 0, "figures": {}, "data": self.problem.drawing(self.start)}
        )

    def train_step(self, step: int, last: bool) -> None:
        index = None
        if self.data.objective == "linreg" and self.spec.optim.batch_size < self.data.n_points:
            shape = (self.spec.optim.batch_size,)
            index = torch.randint(self.data.n_points, shape, generator=self.shuffle, device=self.device)
        position = self.params.detach().clone()
        loss = self.problem.loss(self.params, index)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()  # type: ignore[no-untyped-call]
        self.optimizer.step()
        self.pending.append(torch.cat([loss.detach().reshape(1), position]))

    def evaluation(self, final: bool) -> dict[str, float]:
        with torch.no_grad():
            return {"full/loss": float(self.problem.loss(self.params))}

    def finish(self, step: int) -> None:
        x, y = self.params.detach().tolist()
        self.summary.update({"final/x": x, "final/y": y})


def fit(spec: JobSpec, emit: Emit, control: Control | None = None, policy: EmitPolicy | None = None) -> FitResult:
    """Train the spec's model on its data, emitting events as it goes; the whole run in one call."""
    trainer = SurfaceTrainer if isinstance(spec.data, SurfaceData) else Trainer
    return trainer(spec, emit, control or NoControl(), policy or EmitPolicy()).run()

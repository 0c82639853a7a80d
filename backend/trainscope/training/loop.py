"""fit(): a plain PyTorch training loop that reports through an injected `emit` and obeys `control`."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import torch
from torch import nn

from trainscope.schemas import JobSpec, Points2DData
from trainscope.training.datasets import Split, load_split
from trainscope.training.models import build_model, make_optimizer
from trainscope.training.probes import Emit, ProbeContext, Telemetry, b64

DATASET_POINTS_CAP = 2000  # points of a 2-D dataset sent once for drawing under the boundary


class Control(Protocol):
    def poll(self, wait: float) -> list[tuple[Any, ...]]:
        """Commands that arrived: ("pause",), ("resume",), ("step", n), ("set_lr", lr), ("cancel",).
        Waits up to `wait` seconds for the first one (0: just look)."""


class NoControl:
    def poll(self, wait: float) -> list[tuple[Any, ...]]:
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
    model: nn.Module, split: Split, batch: tuple[torch.Tensor, torch.Tensor] | None = None
) -> dict[str, float]:
    """Validation loss and accuracy, and the accuracy on the last training batch's logits (already
    computed, so free); one device-to-host transfer."""
    was_training = model.training
    model.eval()
    with torch.no_grad():
        logits = model(split.x_val)
        figures = [
            nn.functional.cross_entropy(logits, split.y_val).double(),
            (logits.argmax(1) == split.y_val).double().mean(),
        ]
        if batch is not None:
            batch_logits, batch_labels = batch
            figures.append((batch_logits.detach().argmax(1) == batch_labels).double().mean())
        values = torch.stack(figures).tolist()
    model.train(was_training)
    return dict(zip(["val/loss", "val/acc", "train/acc"], values, strict=False))


def plane_of(split: Split) -> tuple[tuple[float, float], tuple[float, float]]:
    """The input plane's extent with a margin (one host read, at set-up)."""
    points = torch.cat([split.x_train, split.x_val]).cpu().numpy()
    lo, hi = points.min(axis=0), points.max(axis=0)
    margin = (hi - lo) * 0.1 + 1e-3
    return (float(lo[0] - margin[0]), float(hi[0] + margin[0])), (float(lo[1] - margin[1]), float(hi[1] + margin[1]))


def dataset_event(split: Split) -> dict[str, Any]:
    def part(x: torch.Tensor, y: torch.Tensor) -> dict[str, Any]:
        return {"points": b64(x[:DATASET_POINTS_CAP]), "labels": y[:DATASET_POINTS_CAP].cpu().tolist()}

    return {
        "type": "dataset",
        "step": 0,
        "train": part(split.x_train, split.y_train),
        "val": part(split.x_val, split.y_val),
    }


class Trainer:
    """One run: the model, its data and probes, the loss buffer, and what the controller asked for."""

    def __init__(self, spec: JobSpec, emit: Emit, control: Control, policy: EmitPolicy) -> None:
        self.spec, self.emit, self.control, self.policy = spec, emit, control, policy
        torch.manual_seed(spec.seed)
        self.device = resolve_device(spec.device)
        self.split = load_split(spec.data, spec.seed, self.device)
        self.model = build_model(spec).to(self.device)
        self.optimizer = make_optimizer(spec.optim, self.model.parameters())
        probe_x = torch.cat([self.split.x_val, self.split.x_train])[: spec.probes.probe_size]
        probe_y = torch.cat([self.split.y_val, self.split.y_train])[: spec.probes.probe_size]
        plane = plane_of(self.split) if isinstance(spec.data, Points2DData) else None
        self.telemetry = Telemetry(ProbeContext(self.model, spec, probe_x, probe_y, plane))
        # Losses stay on the device until a report; reading each with .item() would sync every step.
        self.pending: list[torch.Tensor] = []
        self.first_pending = 1
        self.last_report = time.monotonic()
        self.summary: dict[str, float] = {}
        self.last_ok = math.nan
        self.ceiling = math.inf  # set from the first loss when the spec gives a divergence factor
        self.paused = False
        self.step_budget: int | None = None  # steps left to run while paused ("step N")
        self.started = time.monotonic()  # reset when training starts; the time limit and steps/s use it

    def run(self) -> FitResult:
        if isinstance(self.spec.data, Points2DData):
            self.emit(dataset_event(self.split))
        steps, batch_size, n_train = self.spec.optim.steps, self.spec.optim.batch_size, len(self.split.x_train)
        shuffle = torch.Generator().manual_seed(self.spec.seed)
        order, cursor = torch.randperm(n_train, generator=shuffle).to(self.device), 0
        self.started, step = time.monotonic(), 0
        self.model.train()
        try:
            for step in range(1, steps + 1):
                if cursor + batch_size > n_train:
                    order, cursor = torch.randperm(n_train, generator=shuffle).to(self.device), 0
                index = order[cursor : cursor + batch_size]
                cursor += batch_size
                self.telemetry.before_forward(step, last=step == steps)
                labels = self.split.y_train[index]
                logits = self.model(self.split.x_train[index])
                loss = nn.functional.cross_entropy(logits, labels)
                self.optimizer.zero_grad(set_to_none=True)
                loss.backward()  # type: ignore[no-untyped-call]
                self.telemetry.after_backward(step, self.emit)
                self.optimizer.step()
                self.pending.append(loss.detach())
                self.after_step(step, final=step == steps, batch=(logits, labels))
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
        return FitResult("done", steps, f"finished {steps} steps", self.summary)

    def after_step(self, step: int, final: bool, batch: tuple[torch.Tensor, torch.Tensor]) -> None:
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
                extra.update(evaluate(self.model, self.split, batch))
            self.report(step, extra)
            if not final:
                self.obey(step)

    def report(self, step: int, extra: dict[str, float]) -> None:
        """Send the buffered losses (one transfer); raise Diverged at the first bad one."""
        values = torch.stack(self.pending).tolist() if self.pending else []
        self.pending.clear()
        if self.first_pending == 1 and values and math.isfinite(values[0]) and self.spec.optim.divergence_factor:
            self.ceiling = values[0] * self.spec.optim.divergence_factor
        points: list[dict[str, Any]] = []
        bad = None
        for offset, value in enumerate(values):
            if not math.isfinite(value) or value > self.ceiling:
                bad = (self.first_pending + offset, value)
                break
            points.append({"step": self.first_pending + offset, "values": {"train/loss": value}})
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

    def apply(self, commands: list[tuple[Any, ...]], step: int) -> None:
        for command in commands:
            action = command[0]
            if action == "cancel":
                raise Cancelled
            if action == "pause" and not self.paused:
                self.paused, self.step_budget = True, None
                self.status("paused", step, f"paused at step {step}")
            elif action == "resume" and self.paused:
                self.paused, self.step_budget = False, None
                self.status("running", step, f"resumed at step {step}")
            elif action == "step" and self.paused:
                self.step_budget = int(command[1])
            elif action == "set_lr":
                previous = self.optimizer.param_groups[0]["lr"]
                for group in self.optimizer.param_groups:
                    group["lr"] = float(command[1])
                self.emit(
                    {"type": "control", "step": step, "action": "set_lr", "lr": float(command[1]), "previous": previous}
                )

    def status(self, status: str, step: int, message: str) -> None:
        self.emit({"type": "status", "step": step, "status": status, "message": message})


def fit(spec: JobSpec, emit: Emit, control: Control | None = None, policy: EmitPolicy | None = None) -> FitResult:
    """Train the spec's model on its data, emitting events as it goes; the whole run in one call."""
    return Trainer(spec, emit, control or NoControl(), policy or EmitPolicy()).run()

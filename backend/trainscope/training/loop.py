"""fit(): a plain PyTorch training loop that reports through an injected `emit` callable."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from trainscope.schemas import JobSpec
from trainscope.training.datasets import Split, load_split
from trainscope.training.models import build_model, make_optimizer
from trainscope.training.probes import ActivationHistograms, Emit


@dataclass
class FitResult:
    """How a run ended: status is done, diverged or cancelled."""

    status: str
    step: int
    message: str = ""
    summary: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class EmitPolicy:
    """When buffered train losses are read from the device and sent."""

    interval_s: float = 0.1
    max_steps: int = 200


def resolve_device(choice: str) -> torch.device:
    if choice == "cuda" or (choice == "auto" and torch.cuda.is_available()):
        if not torch.cuda.is_available():
            raise RuntimeError("this job asks for CUDA but the worker has no CUDA device")
        return torch.device("cuda")
    return torch.device("cpu")


def evaluate(model: nn.Module, split: Split) -> tuple[float, float]:
    """Validation loss and accuracy (one device-to-host transfer)."""
    was_training = model.training
    model.eval()
    with torch.no_grad():
        logits = model(split.x_val)
        loss = nn.functional.cross_entropy(logits, split.y_val)
        acc = (logits.argmax(dim=1) == split.y_val).double().mean()
        loss_value, acc_value = torch.stack([loss.double(), acc]).tolist()
    model.train(was_training)
    return loss_value, acc_value


def diverged(step: int, value: float, last_ok: float, ceiling: float, summary: dict[str, float]) -> FitResult:
    what = f"became {value}" if not math.isfinite(value) else f"rose to {value:.4g} (above {ceiling:.4g})"
    figures = {**summary, "diverged_step": float(step)}
    if math.isfinite(last_ok):
        figures["last_ok_loss"] = last_ok
    return FitResult("diverged", step, f"loss {what} at step {step}; last loss before it {last_ok:.4g}", figures)


def fit(
    spec: JobSpec,
    emit: Emit,
    should_stop: Callable[[], bool] = lambda: False,
    policy: EmitPolicy | None = None,
) -> FitResult:
    """Train the spec's model on its data, emitting `scalars` and `histogram` events as it goes."""
    policy = policy or EmitPolicy()
    torch.manual_seed(spec.seed)
    device = resolve_device(spec.device)
    split = load_split(spec.data, spec.seed, device)
    model = build_model(spec).to(device)
    optimizer = make_optimizer(spec.optim, model.parameters())
    histograms = ActivationHistograms(
        list(model.activations), model.layer_names(), spec.probes.histogram_every, spec.probes.histogram_bins
    )
    steps, batch_size, n_train = spec.optim.steps, spec.optim.batch_size, len(split.x_train)
    shuffle = torch.Generator().manual_seed(spec.seed)
    order = torch.randperm(n_train, generator=shuffle).to(device)
    cursor = 0
    # Losses stay on the device until a report; reading each one with .item() would be a sync point
    # every step. A list append is cheaper per step than writing into a preallocated tensor.
    pending: list[torch.Tensor] = []
    first_pending = 1
    last_flush = time.monotonic()
    started = time.monotonic()
    summary: dict[str, float] = {}
    last_finite = math.nan
    ceiling = math.inf  # set from the first loss when a divergence factor is given

    def flush(step: int, extra: dict[str, Any]) -> tuple[int, float] | None:
        """Send buffered losses; return the step and value of the first diverged one, if any."""
        nonlocal first_pending, last_flush, last_finite, ceiling
        values = torch.stack(pending).tolist() if pending else []  # the one transfer of this report
        pending.clear()
        if first_pending == 1 and values and spec.optim.divergence_factor and math.isfinite(values[0]):
            ceiling = values[0] * spec.optim.divergence_factor
        points: list[dict[str, Any]] = []
        bad = None
        for offset, value in enumerate(values):
            if not math.isfinite(value) or value > ceiling:
                bad = (first_pending + offset, value)
                break
            points.append({"step": first_pending + offset, "values": {"train/loss": value}})
            last_finite = value
        if bad is None and points:
            points[-1]["values"].update(extra)
        if points:
            emit({"type": "scalars", "step": points[-1]["step"], "points": points})
            summary.update(points[-1]["values"])
        first_pending, last_flush = step + 1, time.monotonic()
        return bad

    model.train()
    for step in range(1, steps + 1):
        if cursor + batch_size > n_train:
            order = torch.randperm(n_train, generator=shuffle).to(device)
            cursor = 0
        index = order[cursor : cursor + batch_size]
        cursor += batch_size
        sampling = histograms.wants(step)
        if sampling:
            histograms.arm()
        loss = nn.functional.cross_entropy(model(split.x_train[index]), split.y_train[index])
        if sampling:
            histograms.disarm_and_emit(step, emit)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()  # type: ignore[no-untyped-call]
        optimizer.step()
        pending.append(loss.detach())

        evaluating = step % spec.optim.eval_every == 0 or step == steps
        due = len(pending) == policy.max_steps or time.monotonic() - last_flush >= policy.interval_s
        if not (evaluating or due or step == 1):
            continue
        extra: dict[str, Any] = {"lr": optimizer.param_groups[0]["lr"]}
        if evaluating:
            val_loss, val_acc = evaluate(model, split)
            if math.isfinite(val_loss):
                extra.update({"val/loss": val_loss, "val/acc": val_acc})
        bad = flush(step, extra)
        if bad is not None:
            return diverged(*bad, last_finite, ceiling, summary)
        if should_stop():
            return FitResult("cancelled", step, f"cancelled at step {step}", summary)
    elapsed = time.monotonic() - started
    summary["steps_per_s"] = steps / elapsed if elapsed > 0 else 0.0
    return FitResult("done", steps, f"finished {steps} steps", summary)

"""What every probe shares: the context it reads (the model's taps on a fixed probe set), the hooks it
may override, and the compact encoding of the arrays it sends."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from trainscope.schemas import JobSpec
from trainscope.training.models import LayeredNet
from trainscope.training.points import b64_floats

Emit = Callable[[dict[str, Any]], None]
Fetched = dict[str, np.ndarray]


def b64(array: np.ndarray | torch.Tensor) -> str:
    """A tensor or array as base64 little-endian float32 (one host read for a tensor)."""
    if isinstance(array, torch.Tensor):
        array = array.detach().cpu().numpy()
    return b64_floats(array)


def finite_or_none(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None


@dataclass
class ProbeContext:
    """What probes look at; the probe set's activations are computed at most once per sampling step."""

    model: LayeredNet
    spec: JobSpec
    probe_x: torch.Tensor
    probe_y: torch.Tensor
    plane: tuple[tuple[float, float], tuple[float, float]] | None  # x and y range of 2-D data
    train_x: torch.Tensor | None = None  # the whole training set: a unit is dead only if it is dead on all of it
    probe_validation: int = 0  # how many of the probe set's first examples are validation (the rest training)
    last: bool = False  # the run's last step is being sampled
    _probe: tuple[torch.Tensor, list[torch.Tensor]] | None = field(default=None, repr=False)

    def new_step(self) -> None:
        self._probe = None

    def _probe_pass(self) -> tuple[torch.Tensor, list[torch.Tensor]]:
        # one eval-mode forward over the probe set per sampling step, shared by every probe that samples
        if self._probe is None:
            self._probe = eval_forward(self.model, self.probe_x)
        return self._probe

    def probe_outputs(self) -> list[torch.Tensor]:
        """Each hidden layer's activation output on the probe set, in eval mode."""
        return self._probe_pass()[1]

    def probe_logits(self) -> torch.Tensor:
        """The model's outputs on the probe set, in eval mode (from the same forward pass)."""
        return self._probe_pass()[0]

    def training_outputs(self) -> list[torch.Tensor]:
        """Each hidden layer's activation output on the whole training set (the probe set without one)."""
        if self.train_x is None:
            return self.probe_outputs()
        return hidden_outputs(self.model, self.train_x)


def eval_forward(model: LayeredNet, inputs: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """Outputs and each hidden layer's activation output in eval mode (no dropout, batch-norm running
    statistics)."""
    was_training = model.training
    model.eval()
    with torch.no_grad():
        logits, hidden = model.forward_with_hidden(inputs)
    model.train(was_training)
    return logits, hidden


def hidden_outputs(model: LayeredNet, inputs: torch.Tensor) -> list[torch.Tensor]:
    return eval_forward(model, inputs)[1]


class Probe:
    """No-op hooks; `every` steps between samples (0: never), and always at the first and last step."""

    every = 0

    def wants(self, step: int, last: bool = False) -> bool:
        return self.every > 0 and (step == 1 or step % self.every == 0 or last)

    def arm(self, ctx: ProbeContext) -> None:
        """Before the training forward pass of a sampling step."""

    def collect(self, ctx: ProbeContext) -> dict[str, torch.Tensor]:
        """After backward: the device tensors this probe needs on the host."""
        return {}

    def events(self, step: int, fetched: Fetched) -> list[dict[str, Any]]:
        """The events for this step, from the fetched arrays."""
        return []

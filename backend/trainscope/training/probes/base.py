"""What every probe shares: the context it reads (the model's taps on a fixed probe set), the hooks it
may override, and the compact encoding of the arrays it sends."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np
import torch

from trainscope.schemas import EventBase, JobSpec
from trainscope.training.datasets import Split
from trainscope.training.models import LayeredNet
from trainscope.training.points import b64_floats

Emit = Callable[[EventBase], None]
Fetched = dict[str, np.ndarray]


def b64(array: np.ndarray | torch.Tensor) -> str:
    """A tensor or array as base64 little-endian float32 (one host read for a tensor)."""
    if isinstance(array, torch.Tensor):
        array = array.detach().cpu().numpy()
    return b64_floats(array)


def finite_or_none(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None


Taps = Callable[[torch.Tensor], dict[str, torch.Tensor]]


def no_taps(inputs: torch.Tensor) -> dict[str, torch.Tensor]:
    return {}


@dataclass
class ProbeContext:
    """What probes look at: a task's named taps (eval-mode tensors for any inputs: "hidden/0"..., "logits",
    "latent", "embeddings"), computed on the probe set at most once per sampling step; and, for the probes
    of a network's weighted layers, the network itself."""

    spec: JobSpec
    probe_x: torch.Tensor
    probe_y: torch.Tensor
    taps: Taps = no_taps
    network: LayeredNet | None = None  # the "layers" tap
    plane: tuple[tuple[float, float], tuple[float, float]] | None = None  # x and y range of 2-D data
    train_x: torch.Tensor | None = None  # the whole training set: a unit is dead only if it is dead on all of it
    probe_validation: int = 0  # how many of the probe set's first examples are validation (the rest training)
    names: list[str] | None = None  # each probe example's own name (a word), where it has one
    classes: list[str] | None = None  # what each label stands for, where the data names it
    columns: dict[str, list[str]] = field(default_factory=dict)  # more about each probe example, as text
    last: bool = False  # the run's last step is being sampled
    step_path: str = "eager"  # how the driver computes a step (training/tiny.py), for the system events
    stacked_runs: int = 1  # runs trained as one stacked model with this one (training/lockstep.py)
    _probe: dict[str, torch.Tensor] | None = field(default=None, repr=False)

    def offered(self) -> set[str]:
        """The tap families this context has (one pass over two examples, at set-up: a tap between two, an
        interpolation, needs both); a network adds its weighted layers, and its matrices where each feeds
        the next."""
        families = {name.split("/")[0] for name in self.taps(self.probe_x[:2])} if len(self.probe_x) else set()
        if self.network is not None:
            families |= {"layers", "matrices"} if self.network.chained() else {"layers"}
        return families

    def new_step(self) -> None:
        self._probe = None

    def probe_taps(self) -> dict[str, torch.Tensor]:
        """Every tap on the probe set (one pass per sampling step, shared by the probes that sample)."""
        if self._probe is None:
            self._probe = self.taps(self.probe_x)
        return self._probe

    def probe_outputs(self) -> list[torch.Tensor]:
        """Each hidden layer's activation output on the probe set, in eval mode."""
        return hidden_taps(self.probe_taps())

    def probe_logits(self) -> torch.Tensor:
        """The model's outputs on the probe set, in eval mode (from the same pass)."""
        return self.probe_taps()["logits"]

    def training_outputs(self) -> list[torch.Tensor]:
        """Each hidden layer's activation output on the whole training set (the probe set without one)."""
        if self.train_x is None:
            return self.probe_outputs()
        return hidden_taps(self.taps(self.train_x))


def split_context(
    spec: JobSpec,
    split: Split,
    taps: Taps,
    network: LayeredNet | None = None,
    plane: tuple[tuple[float, float], tuple[float, float]] | None = None,
) -> ProbeContext:
    """The context of a kind that trains on a split: its probe set the first probe_size examples of the
    validation set then the training set (labels colour them, also where a kind trains without)."""
    size = spec.probes.probe_size
    probe_x = torch.cat([split.x_val, split.x_train])[:size]
    probe_y = torch.cat([split.y_val, split.y_train])[:size]
    validation = min(len(split.x_val), len(probe_x))
    columns = {"split": ["validation"] * validation + ["training"] * (len(probe_x) - validation)}
    return ProbeContext(spec, probe_x, probe_y, taps, network, plane, split.x_train, validation, columns=columns)


def hidden_taps(taps: dict[str, torch.Tensor]) -> list[torch.Tensor]:
    """hidden/0, hidden/1... in order."""
    hidden = sorted((int(name.split("/")[1]), tensor) for name, tensor in taps.items() if name.startswith("hidden/"))
    return [tensor for _, tensor in hidden]


def eval_forward(model: LayeredNet, inputs: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """Outputs and each hidden layer's activation output in eval mode (no dropout, batch-norm running
    statistics)."""
    was_training = model.training
    model.eval()
    with torch.no_grad():
        logits, hidden = model.forward_with_hidden(inputs)
    model.train(was_training)
    return logits, hidden


def network_taps(model: LayeredNet) -> Taps:
    """A network's taps: each hidden layer's activation output (hidden/0...) and its outputs (logits)."""

    def taps(inputs: torch.Tensor) -> dict[str, torch.Tensor]:
        logits, hidden = eval_forward(model, inputs)
        return {**{f"hidden/{i}": h for i, h in enumerate(hidden)}, "logits": logits}

    return taps


def hidden_outputs(model: LayeredNet, inputs: torch.Tensor) -> list[torch.Tensor]:
    return eval_forward(model, inputs)[1]


class Probe:
    """No-op hooks; `every` steps between samples (0: never), and always at the first and last step.
    `field` names its ProbeSpec setting, whose `needs` say which taps it reads."""

    field: ClassVar[str] = ""
    every = 0

    def __init__(self, ctx: ProbeContext) -> None:
        """Set up from the context: how often to sample, what to read."""

    def wants(self, step: int, last: bool = False) -> bool:
        return self.every > 0 and (step == 1 or step % self.every == 0 or last)

    def arm(self, ctx: ProbeContext) -> None:
        """Before the training forward pass of a sampling step."""

    def collect(self, ctx: ProbeContext) -> dict[str, torch.Tensor]:
        """After backward: the device tensors this probe needs on the host."""
        return {}

    def events(self, step: int, fetched: Fetched) -> list[EventBase]:
        """The events for this step, from the fetched arrays."""
        return []

"""The contract of a model kind's task. A task supplies its model, its batches on the device, a loss that
is a pure function of (parameters and buffers, batch) returning the loss and its named figures, what the
probes may read, its evaluations and its final measurements; the driver (training/driver.py) owns
zero_grad, backward, the optimizer's step, the probe schedule and everything else every run shares.
Which task a kind has is the registry's (schemas/registry.py) `task`, imported here by name."""

from __future__ import annotations

import importlib
import inspect
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any, NamedTuple

import torch
from torch import nn
from torch.func import functional_call

from trainscope.schemas import EventBase, JobSpec
from trainscope.schemas.registry import registry
from trainscope.training.probes import ProbeContext

Emit = Callable[[EventBase], None]  # an event of schemas/events.py, made where it happens
Batch = Any  # a task's own: tensors on the device, shaped as its loss reads them
Figures = dict[str, torch.Tensor]  # named scalar tensors, on the device


class State(NamedTuple):
    """Parameters and buffers by name; `own` when they are the model's own tensors. `wrapper` is what
    calls the model in a data-parallel run (torch's DDP around it, which averages the ranks' gradients)."""

    params: dict[str, torch.Tensor]
    buffers: dict[str, torch.Tensor]
    own: bool = False
    wrapper: nn.Module | None = None


def call(module: nn.Module, state: State, *inputs: torch.Tensor) -> torch.Tensor:
    """module(*inputs) computed with `state`. The model's own state calls it directly: functional_call
    swaps every tensor in and out, measured at 22% of a tiny MLP's step on a 2-core CPU."""
    if state.own:
        wrapped = state.wrapper is not None and getattr(state.wrapper, "module", None) is module
        output: torch.Tensor = (state.wrapper if wrapped else module)(*inputs)  # type: ignore[misc]
    else:
        output = functional_call(module, (state.params, state.buffers), inputs)
    return output


class Task(ABC):
    """One run of a model kind, on its device.

    `step_tags` name what the driver buffers each step: the loss, then the figures loss() returns every
    step, in that order; a figure loss() returns only when asked to measure is read at that evaluation."""

    step_tags: tuple[str, ...] = ("train/loss",)  # a task may name its own from its spec
    model: nn.Module

    def __init__(self, spec: JobSpec, device: torch.device) -> None:
        self.spec, self.device = spec, device

    def begin(self, emit: Emit) -> None:  # noqa: B027 (a hook a task may leave out)
        """Before the first step: what a viewer should see before training (the data, a surface)."""

    @abstractmethod
    def batch(self) -> Batch:
        """The next training batch, on the device."""

    @abstractmethod
    def loss(self, state: State, batch: Batch, measure: bool) -> tuple[torch.Tensor, Figures]:
        """The batch's loss under `state` and its figures (with measure, also those an evaluation step
        reads); a pure function of its arguments."""

    def update(self, batch: Batch, measure: bool) -> tuple[torch.Tensor, Figures]:
        """A kind without gradients (the registry's ModelKind.gradients): one step of its own rule on the
        model's state (k-means: Lloyd's iteration), returning the loss before it and its figures, as loss()
        would."""
        raise TypeError(f"{type(self).__name__} has gradients: the driver steps it with an optimizer")

    def step_row(self, loss: torch.Tensor, figures: Figures) -> torch.Tensor:
        """What the driver buffers for a step, on the device: the loss, then each of step_tags[1:]."""
        if len(self.step_tags) == 1:
            return loss.detach()
        return torch.stack([loss.detach(), *(figures[tag].detach() for tag in self.step_tags[1:])])

    def parameters(self) -> list[torch.Tensor]:
        """What the optimizer moves."""
        return list(self.model.parameters())

    def state(self) -> State:
        """The model's own parameters and buffers (the same tensors the optimizer steps in place)."""
        return State(dict(self.model.named_parameters()), dict(self.model.named_buffers()), own=True)

    def probe_context(self) -> ProbeContext:
        """What the probes read: here no taps, so only the probes every run has (the system's)."""
        empty = torch.empty(0, device=self.device)
        return ProbeContext(self.spec, empty, empty)

    @abstractmethod
    def evaluation(self, final: bool) -> dict[str, float]:
        """Figures for an evaluation step (final: the last one, where held-out sets are scored)."""

    def finish(self, step: int, emit: Emit, summary: dict[str, float]) -> None:  # noqa: B027 (as begin)
        """After the last step of a run that finished: final measurements, added to the summary."""


def task_for(spec: JobSpec) -> type[Task]:
    """The task class the registry names for the spec's model kind, imported on first use."""
    kind = registry().model(spec.model.kind)
    module, _, name = kind.task.partition(":")
    task = getattr(importlib.import_module(module), name)
    if not (isinstance(task, type) and issubclass(task, Task)):
        raise TypeError(f"kind {kind.name!r}: {kind.task} is not a Task")
    if inspect.isabstract(task):
        missing = ", ".join(sorted(task.__abstractmethods__))
        raise TypeError(f"kind {kind.name!r}: {kind.task} does not define {missing}")
    return task

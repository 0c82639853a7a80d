"""Model kinds. Each is a Task: it builds its model and data from a spec and computes one step, its
evaluations and its final measurements; the driver (training/driver.py) does what every run shares.
A kind is registered once, here, by its `model.kind`; one that leaves out a part fails at import."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any, ClassVar

import torch

from trainscope.schemas import JobSpec

Emit = Callable[[dict[str, Any]], None]


class Task(ABC):
    """One run of a model kind, on its device. `optimizer` is the one the driver changes the rate of."""

    step_tags: ClassVar[tuple[str, ...]] = ("train/loss",)  # what each row train_step returns holds, loss first
    optimizer: torch.optim.Optimizer

    def __init__(self, spec: JobSpec, device: torch.device) -> None:
        self.spec, self.device = spec, device

    @abstractmethod
    def begin(self, emit: Emit) -> None:
        """Before the first step: what a viewer should see before training (the data, a surface)."""

    @abstractmethod
    def train_step(self, step: int, last: bool, emit: Emit) -> torch.Tensor:
        """One optimizer step; returns the row to buffer on the device (the loss, then step_tags[1:])."""

    @abstractmethod
    def evaluation(self, final: bool) -> dict[str, float]:
        """Figures for an evaluation step (final: the last one, where held-out sets are scored)."""

    @abstractmethod
    def finish(self, step: int, emit: Emit, summary: dict[str, float]) -> None:
        """After the last step of a run that finished: final measurements, added to the summary."""


TASKS: dict[str, type[Task]] = {}


def register(kind: str) -> Callable[[type[Task]], type[Task]]:
    def add(task: type[Task]) -> type[Task]:
        if inspect.isabstract(task):
            missing = ", ".join(sorted(task.__abstractmethods__))
            raise TypeError(f"task {kind!r} ({task.__name__}) does not define {missing}")
        if kind in TASKS:
            raise TypeError(f"task {kind!r} is registered twice")
        TASKS[kind] = task
        return task

    return add


def task_for(spec: JobSpec) -> type[Task]:
    return TASKS[spec.model.kind]


def _register_every_kind() -> None:
    """Import each module of this package: a new kind's module registers itself, listed nowhere else."""
    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")


_register_every_kind()

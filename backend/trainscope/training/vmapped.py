"""Matched runs of any model kind whose loss maps over stacked parameters (the registry's ModelKind.lockstep:
a loss that draws no random numbers and changes no buffer), stepped as one under torch.func.vmap.

The task contract makes this generic: a task's loss is a pure function of (parameters and buffers, batch)
(training/tasks/__init__.py), so the first run's task computes every run's loss at once with its
parameters stacked along a leading run axis; one backward fills each run's gradients. Each run's model
keeps its own parameter objects, rebound as views of its slice of the stack, so its probes, evaluations
and final measurements read its current values with no copy. The update is the tiny path's NumPy step on
the stacked tensors (training/tiny.py's TinyOptimizer: torch's rules, each run's own rate and decay), which
is why this path is the CPU's.

What it costs: vmap's batching makes a stacked step dearer than a run's own eager step, so only groups of
VMAP_MIN_RUNS or more stack (training/stacking.py; benchmarks/lockstep.py measures it)."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch.func import vmap

from trainscope.training.tasks import Batch, Figures, State, Task
from trainscope.training.tiny import TinyOptimizer


class VmapStack:
    """Tasks of one kind and shape on the same data and batches, stepped together: batches come from the
    first task's, and each run reads its slice (VmapRun)."""

    def __init__(self, tasks: list[Task], optimizers: list[torch.optim.Optimizer]) -> None:
        first = self.task = tasks[0]  # the batches and the loss every run's step takes
        per_run = [dict(task.model.named_parameters()) for task in tasks]
        self.params: dict[str, torch.Tensor] = {}
        for name in per_run[0]:
            stack = torch.stack([run[name].detach() for run in per_run])
            for run, row in zip(per_run, stack, strict=True):
                run[name].data = row  # the run's own parameter, now a view of its slice
            self.params[name] = stack.requires_grad_()
        buffers = dict(first.model.named_buffers())  # the same in every run, and never written by the loss

        def mapped(measure: bool) -> Callable[..., tuple[torch.Tensor, Figures]]:
            def one(params: dict[str, torch.Tensor], batch: Batch) -> tuple[torch.Tensor, Figures]:
                return first.loss(State(params, buffers), batch, measure)

            return vmap(one, in_dims=(0, None), randomness="error")  # a draw would differ from the run alone

        self.maps = {measure: mapped(measure) for measure in (False, True)}
        arrays = [p.detach().numpy() for p in self.params.values()]
        groups = [optimizer.param_groups[0] for optimizer in optimizers]
        self.optimizer = TinyOptimizer(first.spec.optim.optimizer, arrays, groups)
        self.losses, self.batch = torch.empty(0), None
        self.figures: Figures = {}

    def compute(self, measure: bool) -> None:
        """Every run's loss on the next batch (with measure, its figures too) and its gradients."""
        self.batch = self.task.batch()
        for p in self.params.values():
            p.grad = None
        losses, self.figures = self.maps[measure](self.params, self.batch)
        losses.sum().backward()  # type: ignore[no-untyped-call]  # each run's loss reaches only its slice
        self.losses = losses.detach()

    def rows(self) -> list[torch.Tensor | float]:
        """What each run buffers for this step (Task.step_row): its loss, then its other step tags."""
        tags = self.task.step_tags
        if len(tags) == 1:
            return list(self.losses.tolist())
        return [
            self.task.step_row(loss, {tag: self.figures[tag][run] for tag in tags[1:]})
            for run, loss in enumerate(self.losses)
        ]

    def skip(self, steps: int) -> None:
        """Move its batches on by `steps` (a stack split off a group carries on where the group was)."""
        for _ in range(steps):
            self.task.batch()

    def apply(self) -> None:
        grads = [p.grad for p in self.params.values()]
        self.optimizer.step([g.numpy() for g in grads if g is not None])


class VmapRun:
    """One run's slice of a VmapStack, as the driver reads it."""

    def __init__(self, stack: VmapStack, run: int, task: Task) -> None:
        self.stack, self.run, self.task = stack, run, task

    def figures(self, measure: bool) -> Figures:
        """The scalars its loss measured beside its step tags (on a measuring step)."""
        if not measure:
            return {}
        tags = self.task.step_tags
        return {tag: v[self.run] for tag, v in self.stack.figures.items() if tag not in tags and v[0].numel() == 1}

    def evaluation(self, final: bool) -> dict[str, float]:
        return self.task.evaluation(final)  # its own model: views of its slice

    def torch_batch(self) -> Batch:
        return self.stack.batch

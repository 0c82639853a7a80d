"""A training step captured once as a CUDA graph and replayed, as PyTorch's whole-network capture does: a
small net's step on a GPU is bound by launching its kernels, not by running them (on an H200 a digits MLP
stepped at ~850 steps/s eagerly and ~6,850 replayed as one graph, ../shared/DEVICE.md).

Taken where a step's shapes are static and nothing in it reads the host: a network on labelled data on
CUDA, in one process, no slow loader, no planted bug, an optimizer torch can capture (SGD and momentum;
Adam, AdamW and RMSprop built capturable). The first steps run eagerly on a side stream (the warm-up a
capture needs: they train as any step); then the loss, backward and optimizer step are captured with the
batch in static tensors, and each later step copies its batch in and replays. A step the probes sample
runs eagerly (their hooks must fire), and a learning-rate change captures the graph again (the rate is a
constant in it). tests/unit/test_graphs.py (marked gpu) checks it against the eager step."""

from __future__ import annotations

import torch

from trainscope.schemas import JobSpec
from trainscope.training.tasks import Figures, State, Task

WARMUP_STEPS = 3  # eager steps on a side stream before a capture, as torch's documentation asks
CAPTURABLE = ("sgd", "momentum", "adam", "adamw", "rmsprop")


def graph_reason(spec: JobSpec, device: torch.device) -> str | None:
    """Why this run's step is not captured as a CUDA graph (None: it is)."""
    if device.type != "cuda":
        return "not on CUDA"
    if spec.model.kind not in ("mlp", "cnn1d", "cnn2d"):
        return "not a network on labelled data"
    if spec.distributed.world_size > 1:
        return "data parallel"
    if spec.optim.planted_bug != "none" or spec.optim.optimizer not in CAPTURABLE:
        return "a planted bug or an optimizer that does not capture"
    if spec.loader.delay or spec.loader.prefetch or spec.probes.memory:
        return "a slow loader, or its step's memory measured"
    return None


class GraphStep:
    """One run's captured step; `step` trains on a batch and returns its loss and figures (fresh tensors)."""

    def __init__(self, task: Task, state: State, optimizer: torch.optim.Optimizer) -> None:
        self.task, self.state, self.optimizer = task, state, optimizer
        # the warning a capturable optimizer gives when it steps uncaptured is for runs that never capture
        optimizer._warned_capturable_if_run_uncaptured = True
        self.stream = torch.cuda.Stream()  # type: ignore[no-untyped-call]
        self.graph: torch.cuda.CUDAGraph | None = None
        self.rates: tuple[float, ...] = ()
        self.warm = 0
        self.batch: tuple[torch.Tensor, ...] = ()
        self.loss = torch.empty(0)
        self.figures: Figures = {}
        self.grads: list[torch.Tensor | None] = []  # the graph's gradients, kept alive with it

    def step(self, batch: tuple[torch.Tensor, ...], measure: bool) -> tuple[torch.Tensor, Figures]:
        rates = tuple(float(group["lr"]) for group in self.optimizer.param_groups)
        if self.graph is not None and rates != self.rates:  # a set_lr: the rate is a constant in the graph
            self.graph, self.warm = None, 0
        if self.graph is None and self.warm < WARMUP_STEPS:
            self.warm += 1
            return self.warm_up(batch, measure)
        if self.graph is None:
            self.capture(batch, rates)
        assert self.graph is not None
        for static, new in zip(self.batch, batch, strict=True):
            static.copy_(new)
        self.graph.replay()
        figures = {tag: value.clone() for tag, value in self.figures.items()} if measure else {}
        return self.loss.detach().clone(), figures

    def warm_up(self, batch: tuple[torch.Tensor, ...], measure: bool) -> tuple[torch.Tensor, Figures]:
        """An eager step on the side stream (a capture needs its kernels loaded and its state made)."""
        self.stream.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(self.stream):
            loss, figures = self.task.loss(self.state, batch, measure)
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()  # type: ignore[no-untyped-call]
            self.optimizer.step()
        torch.cuda.current_stream().wait_stream(self.stream)
        return loss.detach(), figures

    def capture(self, batch: tuple[torch.Tensor, ...], rates: tuple[float, ...]) -> None:
        """Record the loss (with the figures a measuring step reads), backward and the optimizer's step."""
        self.batch = tuple(tensor.clone() for tensor in batch)
        self.optimizer.zero_grad(set_to_none=True)  # backward in the graph makes the gradients it replays into
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph, stream=self.stream):
            loss, figures = self.task.loss(self.state, self.batch, True)
            loss.backward()  # type: ignore[no-untyped-call]
            self.optimizer.step()
        self.graph, self.rates, self.loss, self.figures = graph, rates, loss, figures
        self.grads = [p.grad for group in self.optimizer.param_groups for p in group["params"]]

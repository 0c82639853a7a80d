"""A network on labelled data, the task of the MLP and CNN kinds (they differ only in the model the spec
builds): classes on cross-entropy, or (plane, multi_gauss) a value on squared error; the probes and the
one-off analyses of a classifier."""

from __future__ import annotations

import dataclasses

import numpy as np
import torch
from torch import nn

from trainscope.schemas import DatasetEvent, JobSpec, SurfaceData, planar
from trainscope.schemas.events import DrawnPoints
from trainscope.training.analyses import (
    bn_modes,
    gradient_check,
    gradient_variance,
    linear_collapse,
    parameter_table,
    query_points,
    unrolled_convolution,
)
from trainscope.training.datasets import Shuffled, Split, load_split
from trainscope.training.models import LayeredNet, build_model, modes_differ
from trainscope.training.objective import CLASSIFICATION, Objective, objective_for
from trainscope.training.points import DRAWN_POINTS_CAP, Target, drawn_points, target_of
from trainscope.training.probes import ProbeContext
from trainscope.training.probes.base import network_taps, split_context
from trainscope.training.tasks import Emit, Figures, State, Task, call
from trainscope.training.unrolled import unrolled_network


def evaluate(
    model: nn.Module,
    split: Split,
    held_out: bool = False,
    training_set: bool = False,
    objective: Objective = CLASSIFICATION,
) -> dict[str, float]:
    """Validation loss and accuracy (with held_out, the test and holdout sets' too, where the spec has
    them; with training_set, the whole training set's as `train_eval/*`, dropout off); one device-to-host
    transfer for all of them."""
    sets = {"val": (split.x_val, split.y_val), **(split.held_out() if held_out else {})}
    if training_set:
        sets["train_eval"] = (split.x_train, split.y_train)
    # switching modes walks every module twice (~150 us, half a tiny net's evaluation): only where it matters
    was_training, switch = model.training, modes_differ(model)
    if switch:
        model.eval()
    with torch.no_grad():
        figures: dict[str, torch.Tensor] = {}
        for name, (x, y) in sets.items():
            logits = model(x)
            figures[f"{name}/loss"] = objective.loss(logits, y).double()
            if objective.accuracy:
                figures[f"{name}/acc"] = objective.accuracy(logits, y)
        values = torch.stack(list(figures.values())).tolist()
    if switch:
        model.train(was_training)
    return dict(zip(figures, values, strict=True))


def plant(split: Split, bug: str, seed: int) -> Split:
    """The training labels shuffled against their inputs, for that planted bug (the held-out sets keep
    theirs: a model can still learn the training set by heart, and it shows on validation)."""
    if bug != "shuffled_labels":
        return split
    order = torch.randperm(len(split.y_train), generator=torch.Generator().manual_seed(seed + 7))
    return dataclasses.replace(split, y_train=split.y_train[order.to(split.y_train.device)])


def plane_of(split: Split) -> tuple[tuple[float, float], tuple[float, float]]:
    """The input plane's extent with a margin, always holding the origin (where a bias-free boundary
    must pass); one host read, at set-up."""
    points = torch.cat([split.x_train, split.x_val]).cpu().numpy()
    lo, hi = np.minimum(points.min(axis=0), 0.0), np.maximum(points.max(axis=0), 0.0)
    margin = (hi - lo) * 0.1 + 1e-3
    return (float(lo[0] - margin[0]), float(hi[0] + margin[0])), (float(lo[1] - margin[1]), float(hi[1] + margin[1]))


def dataset_event(split: Split, target: Target) -> DatasetEvent:
    def part(x: torch.Tensor, y: torch.Tensor) -> DrawnPoints:
        drawn = drawn_points(x[:DRAWN_POINTS_CAP].cpu().numpy(), y[:DRAWN_POINTS_CAP].cpu().numpy())
        return DrawnPoints.model_validate(drawn)

    return DatasetEvent(
        step=0, target=target, train=part(split.x_train, split.y_train), val=part(split.x_val, split.y_val)
    )


class SupervisedTask(Task):
    """Mini-batches from a permutation of the training set (no DataLoader), probes on a fixed probe set."""

    model: LayeredNet

    def __init__(self, spec: JobSpec, device: torch.device) -> None:
        super().__init__(spec, device)
        assert not isinstance(spec.data, SurfaceData)
        self.split = plant(load_split(spec.data, spec.seed, device), spec.optim.planted_bug, spec.seed)
        self.model = build_model(spec).to(device)
        self.objective = objective_for(spec.data)
        self.batches = Shuffled(len(self.split.x_train), spec.optim.batch_size, spec.seed, device)
        self.softmax_into_loss = spec.optim.planted_bug == "softmax_into_loss"

    def begin(self, emit: Emit) -> None:
        emit(parameter_table(self.model, self.spec))
        if planar(self.spec.data):
            emit(dataset_event(self.split, target_of(self.spec.data)))
        if self.spec.probes.grad_variance:
            emit(gradient_variance(self.model, self.split, self.spec.optim.batch_size, 0, self.spec.seed))

    def batch(self) -> tuple[torch.Tensor, torch.Tensor]:
        index = self.batches.next()
        return self.split.x_train[index], self.split.y_train[index]

    def loss(
        self, state: State, batch: tuple[torch.Tensor, torch.Tensor], measure: bool
    ) -> tuple[torch.Tensor, Figures]:
        """With measure, also the accuracy on this batch's logits (already computed, so nearly free)."""
        inputs, labels = batch
        logits = call(self.model, state, inputs)
        loss = self.objective.loss(logits.softmax(1) if self.softmax_into_loss else logits, labels)
        if measure and self.objective.accuracy:
            return loss, {"train/acc": self.objective.accuracy(logits.detach(), labels)}
        return loss, {}

    def probe_context(self) -> ProbeContext:
        plane = plane_of(self.split) if planar(self.spec.data) else None
        return split_context(self.spec, self.split, network_taps(self.model), self.model, plane)

    def evaluation(self, final: bool) -> dict[str, float]:
        """The held-out sets are scored once, at the end."""
        return evaluate(self.model, self.split, final, self.spec.probes.train_eval, self.objective)

    def finish(self, step: int, emit: Emit, summary: dict[str, float]) -> None:
        probes = self.spec.probes
        if probes.grad_variance:
            emit(gradient_variance(self.model, self.split, self.spec.optim.batch_size, step, self.spec.seed))
        if probes.gradient_check:
            emit(gradient_check(self.model, self.split, step))
        measures = (
            (probes.linear_collapse, linear_collapse),
            (probes.bn_modes, bn_modes),
            (probes.unroll_conv, unrolled_convolution),
            (probes.unroll_conv, unrolled_network),
        )
        for wanted, measure in measures:
            if wanted and (event := measure(self.model, self.split, step)) is not None:
                emit(event)
        if probes.query_points:
            emit(query_points(self.model, probes.query_points, step))

"""How much memory a training step of a spec needs, estimated before it runs: the parameters, their
gradients, the optimizer's state (SGD none, momentum and RMSprop one copy of the parameters, Adam and
AdamW two) and what autograd saves for backward, per example, times the batch. Torch-free, from the spec
alone, so the server answers the playground's estimate without a worker; training/footprint.py measures
the same parts in a run, and tests/unit/test_memory.py holds the two equal.

What autograd saves, as measured on torch 2.13 (saved_tensors_hooks, storages counted once): a weighted
layer (linear or convolution) its input; tanh, sigmoid and ReLU their output; leaky ReLU and GELU their
input; batch norm its input; pooling its input (max pooling also the indices of its maxima, int64); dropout its
mask (float32 on the CPU, bool on CUDA); cross-entropy its log-softmax and the labels (int64); squared
error its input and the targets. An input the loss does not differentiate (the batch) is saved only by
the layer that reads it."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

from trainscope.schemas import JobSpec
from trainscope.schemas.kinds.cnn import ConvNetSpec
from trainscope.schemas.kinds.mlp import MLPSpec, NetSpec
from trainscope.schemas.registry import registry

FLOAT = 4  # bytes of a float32
STATE_COPIES = {"sgd": 0, "random_search": 0, "momentum": 1, "rmsprop": 1, "adam": 2, "adamw": 2}
SAVES_INPUT = ("leaky_relu", "gelu")
SAVES_OUTPUT = ("relu", "tanh", "sigmoid")


@dataclass(frozen=True)
class MemoryEstimate:
    """Bytes of one training step's parts; activations None where the kind's are not modelled."""

    parameters: int
    gradients: int
    optimizer_state: int
    activations: int | None
    per_example: int | None  # activations saved for backward per example
    batch: int

    @property
    def total(self) -> int:
        return self.parameters + self.gradients + self.optimizer_state + (self.activations or 0)

    def as_dict(self) -> dict[str, int | None]:
        return {**asdict(self), "total": self.total}


class Saved:
    """The bytes per example autograd saves, walking a network's layers as its forward makes them; each
    tensor counted once, however many operations save it."""

    def __init__(self, cuda: bool) -> None:
        self.bytes, self.cuda = 0, cuda
        self.held = False  # the tensor the next operation reads is saved already

    def read(self, size: int) -> None:
        """An operation saves the tensor it reads (of `size` floats per example)."""
        if not self.held:
            self.bytes += size * FLOAT
            self.held = True

    def made(self) -> None:
        """An operation made a new tensor: what comes next reads it."""
        self.held = False

    def layer(self, inputs: int, outputs: int) -> int:
        """A weighted layer saves its input; returns the size of its output."""
        self.read(inputs)
        self.made()
        return outputs

    def block(self, size: int, net: NetSpec, dense: bool, pool: str = "none", pooled: int = 0) -> int:
        """After a weighted layer's output of `size`: [batch norm], the activation, [2x2 pooling to `pooled`]
        or (dense layers) [dropout]; returns the size of what the next layer reads."""
        if net.batch_norm:
            self.read(size)
            self.made()
        if net.activation in SAVES_INPUT:
            self.read(size)
        if net.activation != "identity":
            self.made()
        if net.activation in SAVES_OUTPUT:
            self.read(size)
        if pool != "none":
            self.read(size)
            self.bytes += pooled * 8 if pool == "max" else 0  # the indices of the maxima, int64
            self.made()
            size = pooled
        if dense and net.dropout > 0:
            self.bytes += size * (1 if self.cuda else FLOAT)  # the mask
            self.made()
        return size

    def head(self, inputs: int, outputs: int, regression: bool) -> int:
        """The read-out layer and the loss: log-softmax and int64 labels, or the outputs and float targets."""
        self.layer(inputs, outputs)
        if regression:
            self.read(outputs)
            self.bytes += FLOAT
        else:
            self.bytes += outputs * FLOAT + 8
        return self.bytes


def saved_per_example(spec: JobSpec, cuda: bool = False) -> int | None:
    """Bytes autograd saves per example in a step of an MLP or a CNN (None for the other kinds)."""
    model, data = spec.model, spec.data
    if not isinstance(model, MLPSpec | ConvNetSpec):
        return None
    saved = Saved(cuda)
    size: int = data.in_features
    if isinstance(model, ConvNetSpec):
        example = data.example_shape  # type: ignore[union-attr]
        sides = list(example[1:])
        for conv in model.conv:
            full = [(side + 2 * conv.padding - conv.kernel) // conv.stride + 1 for side in sides]
            sides = [conv.out_size(side) for side in sides]
            out = saved.layer(size, conv.channels * math.prod(full))
            size = saved.block(out, model, False, conv.pool, conv.channels * math.prod(sides))
    for width in model.hidden:
        size = saved.block(saved.layer(size, width), model, True)
    return saved.head(size, data.n_outputs, bool(getattr(data, "regression", False)))  # type: ignore[union-attr]


def estimate(spec: JobSpec, cuda: bool = False) -> MemoryEstimate:
    """The spec's step, part by part (bytes)."""
    parameters = spec.parameter_count() * FLOAT
    per_example = saved_per_example(spec, cuda)
    batch = spec.optim.batch_size
    learns = registry().model(spec.model.kind).gradients  # k-means steps itself: no gradient, no optimizer
    return MemoryEstimate(
        parameters=parameters,
        gradients=parameters if learns else 0,
        optimizer_state=STATE_COPIES.get(spec.optim.optimizer, 0) * parameters if learns else 0,
        activations=None if per_example is None else per_example * batch,
        per_example=per_example,
        batch=batch,
    )

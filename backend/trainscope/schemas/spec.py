"""The job spec: data (data.py), model, optimizer and probes, each field with its own bounds (rules.py:
across fields)."""

from __future__ import annotations

import itertools
import math
from typing import Annotated, ClassVar, Literal

from pydantic import Discriminator, Field, Tag, model_validator

from trainscope.schemas.data import (
    Coordinate,
    DataSpec,
    PlanarDataSpec,
    Points2DData,
    SurfaceData,
    _kind_or_default,
    _Strict,
)

Activation = Literal["relu", "leaky_relu", "sigmoid", "tanh", "gelu", "identity"]
OptimizerName = Literal["sgd", "momentum", "rmsprop", "adam", "adamw", "random_search"]
DeviceChoice = Literal["auto", "cpu", "cuda"]
PlantedBug = Literal["none", "shuffled_labels", "no_zero_grad", "softmax_into_loss"]


class _NetSpec(_Strict):
    """What an MLP and a CNN's head share: hidden widths, activation, bias, batch norm, dropout, init."""

    hidden: list[Annotated[int, Field(ge=1)]] = Field(
        default_factory=lambda: [8, 8], description="hidden widths; none: logistic (or linear) regression"
    )
    activation: Activation = "tanh"
    leaky_slope: float = Field(0.01, gt=0.0, lt=1.0, description="leaky_relu only: the slope below zero")
    bias: bool = True
    batch_norm: bool = False
    dropout: float = Field(0.0, ge=0.0, lt=1.0)
    init_seed: int | None = Field(
        None, ge=0, le=2**31 - 1, description="seed of the initial weights only (null: the job's seed)"
    )
    init: Literal["default", "he", "xavier"] = Field(
        "default",
        description="weight init, uniform: default +-1/sqrt(fan_in) (PyTorch's), he +-sqrt(6/fan_in), "
        "xavier +-sqrt(6/(fan_in+fan_out))",
    )


class MLPSpec(_NetSpec):
    kind: Literal["mlp"] = "mlp"


class ConvLayer(_Strict):
    """A convolution, then the activation (batch norm between when asked), then an optional 2x2 pooling."""

    channels: int = Field(8, ge=1)
    kernel: int = Field(3, ge=1, le=9)
    stride: int = Field(1, ge=1, le=4)
    padding: int = Field(1, ge=0, le=4)
    pool: Literal["none", "max", "avg"] = Field("max", description="2x2, stride 2")

    def out_size(self, size: int) -> int:
        """Side of the feature map this layer makes of a size x size input (0 or less: nothing left)."""
        side = (size + 2 * self.padding - self.kernel) // self.stride + 1
        return side // 2 if self.pool != "none" else side


class ConvNetSpec(_NetSpec):
    """Convolutions over the examples' `dims` axes, then an MLP head (`hidden`, possibly empty) on the
    flattened maps."""

    kind: str
    dims: ClassVar[int]
    conv: list[ConvLayer] = Field(min_length=1, max_length=6)

    def feature_shape(self, example: tuple[int, ...]) -> tuple[int, ...]:
        """(channels, *sides) after the convolutions (a side of 0 or less: the input ran out)."""
        channels, sides = example[0], list(example[1:])
        for layer in self.conv:
            channels, sides = layer.channels, [layer.out_size(side) for side in sides]
        return channels, *sides


class CNN2DSpec(ConvNetSpec):
    """A CNN on images."""

    kind: Literal["cnn2d"] = "cnn2d"
    dims: ClassVar[int] = 2
    conv: list[ConvLayer] = Field(
        default_factory=lambda: [ConvLayer(channels=8), ConvLayer(channels=16)], min_length=1, max_length=6
    )
    hidden: list[Annotated[int, Field(ge=1)]] = Field(default_factory=lambda: [32])


def _paper_conv1d() -> list[ConvLayer]:
    # the MNIST-1D paper's CNN: 25 channels, kernels 5, 3, 3, each of stride 2, no pooling (40 -> 19 -> 10 -> 5)
    return [ConvLayer(channels=25, kernel=k, stride=2, padding=1, pool="none") for k in (5, 3, 3)]


class CNN1DSpec(ConvNetSpec):
    """A CNN on sequences; the defaults are the MNIST-1D paper's (ReLU, a linear read-out on the maps)."""

    kind: Literal["cnn1d"] = "cnn1d"
    dims: ClassVar[int] = 1
    conv: list[ConvLayer] = Field(default_factory=_paper_conv1d, min_length=1, max_length=6)
    hidden: list[Annotated[int, Field(ge=1)]] = Field(default_factory=list)
    activation: Activation = "relu"


class Params2DSpec(_Strict):
    """The two parameters of a surface problem themselves: (weight, bias) or (x, y)."""

    kind: Literal["params2d"] = "params2d"
    start: tuple[Coordinate, Coordinate] = Field((-1.5, 2.0), description="where gradient descent starts")
    start_jitter: float = Field(
        0.0,
        ge=0.0,
        le=10.0,
        description="move the start by up to this much along each axis, drawn from the run's seed: runs that "
        "share a seed share a start",
    )


ModelSpec = Annotated[
    Annotated[MLPSpec, Tag("mlp")]
    | Annotated[CNN2DSpec, Tag("cnn2d")]
    | Annotated[CNN1DSpec, Tag("cnn1d")]
    | Annotated[Params2DSpec, Tag("params2d")],
    Discriminator(_kind_or_default("mlp")),
]


class OptimSpec(_Strict):
    optimizer: OptimizerName = "adam"
    lr: float = Field(0.03, gt=0.0)
    weight_decay: float = Field(0.0, ge=0.0, le=1.0)
    batch_size: int = Field(32, ge=1)
    steps: int = Field(400, ge=1)
    eval_every: int = Field(25, ge=1, description="steps between two validation passes")
    divergence_factor: float | None = Field(
        100.0,
        gt=1.0,
        description="the run has diverged once its loss exceeds this multiple of the first loss "
        "(a non-finite loss always counts); null: only a non-finite loss",
    )
    planted_bug: PlantedBug = Field(
        "none",
        description="a bug planted on purpose, to learn its signature (classes only): the labels shuffled "
        "against the inputs, zero_grad forgotten (gradients pile up), or probabilities fed to a loss that "
        "expects logits",
    )

    @model_validator(mode="after")
    def _eval_every_follows_short_runs(self) -> OptimSpec:
        """A run shorter than the default evaluation interval is evaluated at its end, unless the user
        chose the interval (then the rules refuse one longer than the run, at its field)."""
        if "eval_every" not in self.model_fields_set and self.eval_every > self.steps:
            self.eval_every = self.steps
        return self


class ProbeSpec(_Strict):
    """How often each probe samples, in steps (0 turns a probe off). Each costs time only when it samples;
    the defaults keep all of them within 5% of a bare loop's throughput (benchmarks/throughput.py)."""

    histogram_every: int = Field(200, ge=0, description="activation, weight and gradient histograms")
    histogram_bins: int = Field(30, ge=2)
    layers_every: int = Field(200, ge=0, description="per-layer gradient/weight norms, dead units, saturation")
    embedding_every: int = Field(200, ge=0, description="PCA of the penultimate layer on the probe set")
    boundary_every: int = Field(100, ge=0, description="class probability over the input plane (2-D data)")
    boundary_grid: int = Field(40, ge=4, le=200, description="grid cells per side of the boundary map")
    network_every: int = Field(200, ge=0, description="weights and each hidden unit's map (network view)")
    images_every: int = Field(
        200, ge=0, description="image data: examples with their predictions; a CNN: its kernels and feature maps"
    )
    confusion_every: int = Field(200, ge=0, description="classes: the confusion matrix on the probe set")
    system_every: int = Field(200, ge=0, description="samples/s, device memory and utilization")
    probe_size: int = Field(256, ge=10, description="fixed examples the probes look at")
    gradient_check: bool = Field(False, description="at the end: autograd against finite differences")
    linear_collapse: bool = Field(False, description="at the end: an identity-activation net as one matrix")
    bn_modes: bool = Field(False, description="at the end: batch-norm statistics, train- vs eval-mode predictions")
    unroll_conv: bool = Field(
        False,
        description="a CNN, at the end: its first convolution as a dense layer, and the whole ReLU CNN as an MLP "
        "(max pooling as ReLUs), each with the same outputs",
    )
    grad_variance: bool = Field(
        False, description="at the first and last step: variance of the mini-batch gradient at this batch size"
    )
    train_eval: bool = Field(
        False,
        description="at each validation pass also score the whole training set in eval mode (dropout off, "
        "train_eval/*): the training loss a regularized model really has; costs a forward pass over it",
    )
    query_points: list[tuple[Coordinate, Coordinate]] = Field(
        default_factory=list,
        max_length=16,
        description="2-D data only: at the end, the class probabilities at these exact input points",
    )
    min_interval_s: float = Field(
        0.2,
        ge=0.0,
        le=60.0,
        description="a probe samples at most this often in wall time (first and last step "
        "always): a small net trains thousands of steps a second, and no viewer needs 30 boundaries a second",
    )


class JobSpec(_Strict):
    """Everything a run needs; the same spec and seed give the same run."""

    # checked as printable by spec_errors, where a job is asked for: a name stored before that rule
    # must still read back
    name: str = Field("", max_length=100)
    seed: int = Field(0, ge=0, le=2**31 - 1)
    device: DeviceChoice = "auto"
    pace: int = Field(
        0, ge=0, le=1_000_000, description="at most this many steps a second, to be watched (0: as fast as it runs)"
    )
    data: DataSpec = Field(default_factory=Points2DData)
    model: ModelSpec = Field(default_factory=MLPSpec)
    optim: OptimSpec = Field(default_factory=OptimSpec)
    probes: ProbeSpec = Field(default_factory=ProbeSpec)

    @property
    def train_size(self) -> int:
        return self.data.split_sizes()[0]

    @property
    def dataset_name(self) -> str:
        """What the runs list filters on: a 2-D dataset's name, a surface's objective or the data's kind."""
        data = self.data
        if isinstance(data, Points2DData):
            return data.dataset
        return data.objective if isinstance(data, SurfaceData) else data.kind

    def parameter_count(self) -> int:
        """Trainable parameters, by arithmetic (the server never imports torch)."""
        return sum(count for _, count, _ in self.layer_parameters())

    def layer_parameters(self) -> list[tuple[str, int, str]]:
        """Each layer's trainable parameters by formula, and the formula: a convolution k*k*c_in*c_out
        (+ c_out biases), a linear layer fan_in*fan_out (+ fan_out), a batch norm 2 per channel or unit."""
        model, data = self.model, self.data
        if isinstance(model, Params2DSpec) or isinstance(data, SurfaceData):
            dims = data.dims if isinstance(data, SurfaceData) else 2
            return [("params", dims, str(dims))]  # (a surface with an MLP is refused by spec_errors)
        layers: list[tuple[str, int, str]] = []

        def add(name: str, factors: list[int], width: int) -> None:
            weights, terms = math.prod(factors), ["·".join(map(str, factors))]
            biases = width if model.bias else 0
            norm = 2 * width if model.batch_norm and name != "output" else 0
            terms += [str(width)] * bool(biases) + [f"2·{width}"] * bool(norm)
            layers.append((name, weights + biases + norm, " + ".join(terms)))

        fan_in = data.in_features
        if isinstance(model, ConvNetSpec):
            example = getattr(data, "example_shape", None)
            if example is None or len(example) != model.dims + 1:
                return []  # not the data this model convolves: refused by spec_errors
            channels = example[0]
            for i, conv in enumerate(model.conv):
                add(f"conv{i + 1}", [conv.kernel] * model.dims + [channels, conv.channels], conv.channels)
                channels = conv.channels
            fan_in = math.prod(max(side, 0) for side in model.feature_shape(example))
        widths = [fan_in, *model.hidden, data.n_outputs]
        for i, (inputs, outputs) in enumerate(itertools.pairwise(widths)):
            hidden = i < len(model.hidden)
            name = (f"fc{i + 1}" if isinstance(model, ConvNetSpec) else f"layer{i + 1}") if hidden else "output"
            add(name, [inputs, outputs], outputs)
        return layers


class DatasetPreviewRequest(_Strict):
    """The data of a job and its seed: the points it would train on, drawn before it starts."""

    data: PlanarDataSpec = Field(default_factory=Points2DData)
    seed: int = Field(0, ge=0, le=2**31 - 1, description="the job's seed (the data's own seed wins when set)")

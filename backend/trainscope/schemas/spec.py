"""The job spec: data, model, optimizer and probes, each field with its own bounds (rules.py: across fields)."""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from typing import Annotated, Any, ClassVar, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Discriminator, Field, Tag

Points2DName = Literal["circle", "xor", "gauss", "spiral", "moons", "plane", "multi_gauss"]
REGRESSION_DATASETS = frozenset({"plane", "multi_gauss"})  # TensorFlow Playground's two: a value to predict
# The inputs a 2-D model may see, as in TensorFlow Playground: computed from (x1, x2) inside the model
InputFeature = Literal["x1", "x2", "x1_sq", "x2_sq", "x1_x2", "sin_x1", "sin_x2"]
SurfaceObjective = Literal["linreg", "rosenbrock", "beale"]
Activation = Literal["relu", "leaky_relu", "sigmoid", "tanh", "gelu", "identity"]
OptimizerName = Literal["sgd", "momentum", "rmsprop", "adam", "adamw"]
DeviceChoice = Literal["auto", "cpu", "cuda"]
PlantedBug = Literal["none", "shuffled_labels", "no_zero_grad", "softmax_into_loss"]

Coordinate = Annotated[float, Field(ge=-10.0, le=10.0)]

DIGITS_SAMPLES = 1797  # scikit-learn's bundled 8x8 digits
MNIST1D_LENGTH = 40  # MNIST-1D's final sequence length (its paper's setup)


class _Strict(BaseModel):
    # NaN and infinity are no setting: JSON has no spelling for them, and every bound would pass them
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


MAX_NESTING = 8  # a spec is a few objects deep; deeper input is refused, never walked by recursive code


def _shallow(value: Any) -> Any:
    """JSON nested at most MAX_NESTING levels (a grid value nested 900 deep is a 422, not a crash)."""
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_NESTING:
            raise ValueError(f"nested more than {MAX_NESTING} levels deep")
        if isinstance(item, dict):
            stack += [(child, depth + 1) for child in item.values()]
        elif isinstance(item, list):
            stack += [(child, depth + 1) for child in item]
    return value


Shallow = Annotated[Any, AfterValidator(_shallow)]


class _SplitData(_Strict):
    """How a labelled dataset is split: train, validation, and optionally test and a second held-out set."""

    val_fraction: float = Field(0.3, ge=0.05, le=0.9)
    test_fraction: float = Field(0.0, ge=0.0, le=0.5, description="held out and scored once, at the end (test/*)")
    holdout_fraction: float = Field(
        0.0, ge=0.0, le=0.5, description="a second held-out set that nothing is ever chosen by (holdout/*)"
    )
    train_limit: int | None = Field(None, ge=1, description="train on only this many examples (null: all)")
    seed: int | None = Field(
        None, ge=0, le=2**31 - 1, description="seed of the data and its split (null: the job's seed)"
    )
    split_index: int = Field(
        0, ge=0, le=1000, description="which random split of the same data: 0, 1, 2... each draw a different one"
    )

    @property
    def n_samples(self) -> int:
        raise NotImplementedError

    def split_sizes(self) -> tuple[int, int, int, int]:
        """Examples in train, validation, test and holdout (train may come out below 1: a spec error)."""
        n = self.n_samples
        n_val = val_count(n, self.val_fraction)
        n_test, n_holdout = round(n * self.test_fraction), round(n * self.holdout_fraction)
        n_train = n - n_val - n_test - n_holdout
        if self.train_limit is not None:
            n_train = min(n_train, self.train_limit)
        return n_train, n_val, n_test, n_holdout


def _distinct(features: tuple[str, ...]) -> tuple[str, ...]:
    if len(set(features)) != len(features):
        raise ValueError("each input feature at most once")
    return features


class Points2DData(_SplitData):
    """A generated 2-D dataset: two classes, or (plane, multi_gauss) a value in [-1, 1] to predict."""

    kind: Literal["points2d"] = "points2d"
    dataset: Points2DName = "circle"
    n_points: int = Field(500, ge=20)
    noise: float = Field(0.1, ge=0.0, le=1.0, description="standard deviation of the added noise")
    offset: tuple[Coordinate, Coordinate] = Field(
        (0.0, 0.0), description="shift of the whole cloud (data away from the origin shows what a bias is for)"
    )
    features: Annotated[tuple[InputFeature, ...], AfterValidator(_distinct)] = Field(
        ("x1", "x2"), min_length=1, max_length=7, description="what the model sees of each point (x1_sq: x1 squared)"
    )

    @property
    def n_samples(self) -> int:
        return self.n_points

    @property
    def in_features(self) -> int:
        return len(self.features)

    @property
    def regression(self) -> bool:
        return self.dataset in REGRESSION_DATASETS

    @property
    def n_outputs(self) -> int:
        return 1 if self.regression else 2


class DigitsData(_SplitData):
    """scikit-learn's bundled 8x8 handwritten digits (no download), as they are or ("shifted digits")
    each placed at a random offset on a larger canvas: a CNN's filters find a stroke wherever it is, an
    MLP's weights only where they saw it."""

    kind: Literal["digits"] = "digits"
    canvas: int = Field(8, ge=8, le=32, description="side of the image each 8x8 digit is placed on")
    shift: int = Field(0, ge=0, le=12, description="training examples: at most this many pixels off centre")
    val_shift: int | None = Field(
        None, ge=0, le=12, description="validation, test and holdout examples (null: as for training)"
    )
    permute_pixels: bool = Field(
        False,
        description="one fixed shuffle of the pixel positions, the same for every example: no pixel is "
        "lost, but neighbours are no longer neighbours (an MLP cannot tell; a CNN relies on it)",
    )

    n_outputs: ClassVar[int] = 10
    regression: ClassVar[bool] = False

    @property
    def n_samples(self) -> int:
        return DIGITS_SAMPLES

    @property
    def in_features(self) -> int:
        return self.canvas * self.canvas

    @property
    def example_shape(self) -> tuple[int, int, int]:
        """Channels, height and width of each example (the flat rows a model shapes before convolving)."""
        return 1, self.canvas, self.canvas


class Mnist1DData(_SplitData):
    """MNIST-1D (Greydanus & Steinbach): ten 1-D digit templates, each padded, scaled, translated, noised
    and sheared into a 40-point sequence, made offline by the `mnist1d` package; optionally with one fixed
    shuffle of the positions for every example, which keeps every value but destroys locality."""

    kind: Literal["mnist1d"] = "mnist1d"
    samples: int = Field(5000, ge=100, le=20_000, description="examples made (the paper: 5,000)")
    val_fraction: float = Field(0.2, ge=0.05, le=0.9)  # the paper's 4,000 / 1,000 split
    shuffle_positions: bool = Field(
        False,
        description="one fixed shuffle of the 40 positions, the same for every example: an MLP cannot "
        "tell; a CNN, whose filters read neighbouring positions, loses its advantage",
    )

    n_outputs: ClassVar[int] = 10
    regression: ClassVar[bool] = False
    in_features: ClassVar[int] = MNIST1D_LENGTH
    example_shape: ClassVar[tuple[int, int]] = (1, MNIST1D_LENGTH)  # channels, length

    @property
    def n_samples(self) -> int:
        return self.samples


class SurfaceData(_Strict):
    """A 2-parameter problem whose whole loss surface can be drawn: linear regression's weight and bias,
    or a classic optimizer test function (no data)."""

    kind: Literal["surface"] = "surface"
    objective: SurfaceObjective = "linreg"
    n_points: int = Field(200, ge=10, description="linear regression only: examples")
    noise: float = Field(0.3, ge=0.0, le=5.0, description="linear regression only: noise on y")
    seed: int | None = Field(None, ge=0, le=2**31 - 1, description="seed of the data (null: the job's seed)")

    in_features: ClassVar[int] = 1

    @property
    def n_samples(self) -> int:
        return self.n_points

    def split_sizes(self) -> tuple[int, int, int, int]:
        """Every example trains: the surface is the training loss."""
        return self.n_points, 0, 0, 0


def _kind_or_default(default: str) -> Callable[[Any], str | None]:
    """A discriminator that lets a client leave out `kind` for the first family."""

    def pick(value: Any) -> str | None:
        if isinstance(value, dict):
            return str(value.get("kind", default))
        return getattr(value, "kind", None)

    return pick


DataSpec = Annotated[
    Annotated[Points2DData, Tag("points2d")]
    | Annotated[DigitsData, Tag("digits")]
    | Annotated[Mnist1DData, Tag("mnist1d")]
    | Annotated[SurfaceData, Tag("surface")],
    Discriminator(_kind_or_default("points2d")),
]
LabelledData = Points2DData | DigitsData | Mnist1DData


class _NetSpec(_Strict):
    """What an MLP and a CNN's head share: hidden widths, activation, bias, batch norm, dropout, init."""

    hidden: list[Annotated[int, Field(ge=1)]] = Field(default_factory=lambda: [8, 8], min_length=1)
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
        False, description="a CNN, at the end: its first convolution as a dense layer, with the same outputs"
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
            return [("params", 2, "2")]  # (a surface with an MLP is refused by spec_errors)
        layers: list[tuple[str, int, str]] = []

        def add(name: str, factors: list[int], width: int) -> None:
            weights, terms = math.prod(factors), ["·".join(map(str, factors))]
            biases = width if model.bias else 0
            norm = 2 * width if model.batch_norm and name != "output" else 0
            terms += [str(width)] * bool(biases) + [f"2·{width}"] * bool(norm)
            layers.append((name, weights + biases + norm, " + ".join(terms)))

        fan_in = data.in_features
        if isinstance(model, ConvNetSpec):
            example = data.example_shape if not isinstance(data, Points2DData) else None
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

    data: Points2DData = Field(default_factory=Points2DData)
    seed: int = Field(0, ge=0, le=2**31 - 1, description="the job's seed (the data's own seed wins when set)")


def val_count(n_samples: int, val_fraction: float) -> int:
    """Validation examples split off a dataset of n_samples; at least one on each side."""
    return min(n_samples - 1, max(1, round(n_samples * val_fraction)))

"""Pydantic models at every boundary: the job spec, the public job, the events."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag

from trainscope.config import Limits

Points2DName = Literal["circle", "xor", "gauss", "spiral", "moons"]
Activation = Literal["relu", "leaky_relu", "sigmoid", "tanh", "gelu", "identity"]
OptimizerName = Literal["sgd", "momentum", "rmsprop", "adam", "adamw"]
DeviceChoice = Literal["auto", "cpu", "cuda"]

DIGITS_SAMPLES = 1797  # scikit-learn's bundled 8x8 digits


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Points2DData(_Strict):
    """A generated 2-D, two-class dataset."""

    kind: Literal["points2d"] = "points2d"
    dataset: Points2DName = "circle"
    n_points: int = Field(500, ge=20)
    noise: float = Field(0.1, ge=0.0, le=1.0, description="standard deviation of the added noise")
    val_fraction: float = Field(0.3, ge=0.05, le=0.9)

    in_features: ClassVar[int] = 2
    n_classes: ClassVar[int] = 2

    @property
    def n_samples(self) -> int:
        return self.n_points


class DigitsData(_Strict):
    """scikit-learn's bundled 8x8 handwritten digits (no download)."""

    kind: Literal["digits"] = "digits"
    val_fraction: float = Field(0.3, ge=0.05, le=0.9)

    in_features: ClassVar[int] = 64
    n_classes: ClassVar[int] = 10

    @property
    def n_samples(self) -> int:
        return DIGITS_SAMPLES


def _kind_or_default(default: str) -> Callable[[Any], str | None]:
    """A discriminator that lets a client leave out `kind` for the first family."""

    def pick(value: Any) -> str | None:
        if isinstance(value, dict):
            return str(value.get("kind", default))
        return getattr(value, "kind", None)

    return pick


DataSpec = Annotated[
    Annotated[Points2DData, Tag("points2d")] | Annotated[DigitsData, Tag("digits")],
    Discriminator(_kind_or_default("points2d")),
]


class MLPSpec(_Strict):
    kind: Literal["mlp"] = "mlp"
    hidden: list[Annotated[int, Field(ge=1)]] = Field(default_factory=lambda: [8, 8], min_length=1)
    activation: Activation = "tanh"
    bias: bool = True
    batch_norm: bool = False
    dropout: float = Field(0.0, ge=0.0, lt=1.0)


ModelSpec = MLPSpec  # becomes a union on `kind` when CNNs, autoencoders, ... arrive


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
    system_every: int = Field(200, ge=0, description="samples/s, device memory and utilization")
    probe_size: int = Field(256, ge=10, description="fixed examples the probes look at")
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
    data: DataSpec = Field(default_factory=Points2DData)
    model: ModelSpec = Field(default_factory=MLPSpec)
    optim: OptimSpec = Field(default_factory=OptimSpec)
    probes: ProbeSpec = Field(default_factory=ProbeSpec)

    @property
    def train_size(self) -> int:
        n = self.data.n_samples
        return n - val_count(n, self.data.val_fraction)

    def parameter_count(self) -> int:
        """Trainable parameters, by arithmetic (the server never imports torch)."""
        widths = [self.data.in_features, *self.model.hidden, self.data.n_classes]
        count = 0
        for fan_in, fan_out in itertools.pairwise(widths):
            count += fan_in * fan_out + (fan_out if self.model.bias else 0)
        if self.model.batch_norm:
            count += 2 * sum(self.model.hidden)
        return count


def val_count(n_samples: int, val_fraction: float) -> int:
    """Validation examples split off a dataset of n_samples; at least one on each side."""
    return min(n_samples - 1, max(1, round(n_samples * val_fraction)))


class SpecError(ValueError):
    """A spec violates a rule; `loc` names the field inside the spec."""

    def __init__(self, loc: tuple[str | int, ...], msg: str) -> None:
        super().__init__(msg)
        self.loc = loc
        self.msg = msg


def spec_errors(spec: JobSpec, limits: Limits) -> list[SpecError]:
    """Every rule across fields or against the configured limits that the spec breaks (empty: it fits)."""
    errors: list[SpecError] = []
    if spec.optim.batch_size > spec.train_size:
        errors.append(SpecError(("optim", "batch_size"), f"must be at most the training-set size ({spec.train_size})"))
    if len(spec.model.hidden) > limits.max_hidden_layers:
        errors.append(SpecError(("model", "hidden"), f"at most {limits.max_hidden_layers} hidden layers"))
    for i, width in enumerate(spec.model.hidden):
        if width > limits.max_width:
            errors.append(SpecError(("model", "hidden", i), f"at most {limits.max_width} units per layer"))
    if not limits.min_lr <= spec.optim.lr <= limits.max_lr:
        errors.append(SpecError(("optim", "lr"), f"must lie in [{limits.min_lr:g}, {limits.max_lr:g}]"))
    if spec.optim.steps > limits.max_steps:
        errors.append(SpecError(("optim", "steps"), f"at most {limits.max_steps}"))
    if spec.optim.eval_every > spec.optim.steps:
        errors.append(SpecError(("optim", "eval_every"), "must be at most the number of steps"))
    if spec.optim.batch_size > limits.max_batch_size:
        errors.append(SpecError(("optim", "batch_size"), f"at most {limits.max_batch_size}"))
    if isinstance(spec.data, Points2DData) and spec.data.n_points > limits.max_points:
        errors.append(SpecError(("data", "n_points"), f"at most {limits.max_points}"))
    if spec.probes.probe_size > limits.max_probe_size:
        errors.append(SpecError(("probes", "probe_size"), f"at most {limits.max_probe_size}"))
    if spec.probes.histogram_bins > limits.max_histogram_bins:
        errors.append(SpecError(("probes", "histogram_bins"), f"at most {limits.max_histogram_bins}"))
    if (count := spec.parameter_count()) > limits.max_parameters:
        errors.append(SpecError(("model",), f"{count} parameters; at most {limits.max_parameters}"))
    return errors


class JobStatus(StrEnum):
    queued = "queued"
    running = "running"
    paused = "paused"
    done = "done"
    failed = "failed"
    cancelled = "cancelled"
    diverged = "diverged"

    @property
    def terminal(self) -> bool:
        return self in TERMINAL


TERMINAL = frozenset({JobStatus.done, JobStatus.failed, JobStatus.cancelled, JobStatus.diverged})
TRANSITIONS: dict[JobStatus, frozenset[JobStatus]] = {
    JobStatus.queued: frozenset({JobStatus.running, JobStatus.cancelled, JobStatus.failed}),
    JobStatus.running: frozenset({JobStatus.paused} | TERMINAL),
    JobStatus.paused: frozenset({JobStatus.running} | TERMINAL),
    **{end: frozenset() for end in TERMINAL},
}


class InvalidTransition(RuntimeError):
    pass


def check_transition(old: JobStatus, new: JobStatus) -> None:
    """Raise unless the lifecycle allows old -> new."""
    if new not in TRANSITIONS[old]:
        raise InvalidTransition(f"a {old.value} job cannot become {new.value}")


class JobPublic(BaseModel):
    id: str
    name: str
    status: JobStatus
    spec: JobSpec
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    message: str = ""
    last_seq: int = 0
    summary: dict[str, float] = Field(default_factory=dict, description="latest step and figures")


class JobsPublic(BaseModel):
    jobs: list[JobPublic]
    count: int


class _EventBase(BaseModel):
    job: str
    seq: int = Field(ge=1)
    step: int = Field(ge=0)
    wall: float


class StatusEvent(_EventBase):
    type: Literal["status"] = "status"
    status: JobStatus
    message: str = ""
    detail: dict[str, Any] = Field(default_factory=dict)


class ScalarPoint(BaseModel):
    step: int
    values: dict[str, float]


class ScalarsEvent(_EventBase):
    type: Literal["scalars"] = "scalars"
    points: list[ScalarPoint]


class HistogramEvent(_EventBase):
    type: Literal["histogram"] = "histogram"
    tag: str
    min: float
    max: float
    counts: list[int]


class LayerFigures(BaseModel):
    name: str
    grad_norm: float | None
    weight_norm: float | None
    dead_fraction: float | None = Field(description="units that output 0 on every probe example")
    saturation: float | None = Field(description="sigmoid/tanh outputs near their limits")


class LayersEvent(_EventBase):
    type: Literal["layers"] = "layers"
    layers: list[LayerFigures]


class EmbeddingEvent(_EventBase):
    type: Literal["embedding"] = "embedding"
    tag: str
    dims: int
    n: int
    points: str = Field(description="base64 little-endian float32, n x dims, row-major")
    labels: list[int]
    explained: list[float]


class BoundaryEvent(_EventBase):
    type: Literal["boundary"] = "boundary"
    grid: int
    x_range: list[float]
    y_range: list[float]
    probs: str = Field(description="base64 float32 P(class 1), grid x grid, row i at y_range[0] + i * dy")


class NetworkLayer(BaseModel):
    name: str
    shape: list[int]
    weights: str = Field(description="base64 float32, out x in, row-major")


class NetworkEvent(_EventBase):
    type: Literal["network"] = "network"
    layers: list[NetworkLayer]
    unit_maps: dict[str, Any] | None = None


class SystemEvent(_EventBase):
    type: Literal["system"] = "system"
    device: str
    steps_per_s: float | None = None
    samples_per_s: float | None = None
    gpu_name: str | None = None
    gpu_memory_mb: float | None = None
    gpu_memory_peak_mb: float | None = None
    gpu_utilization: float | None = None


class ControlEvent(_EventBase):
    type: Literal["control"] = "control"
    action: Literal["set_lr"]
    lr: float
    previous: float


class DatasetEvent(_EventBase):
    type: Literal["dataset"] = "dataset"
    train: dict[str, Any]
    val: dict[str, Any]


Event = Annotated[
    StatusEvent
    | ScalarsEvent
    | HistogramEvent
    | LayersEvent
    | EmbeddingEvent
    | BoundaryEvent
    | NetworkEvent
    | SystemEvent
    | ControlEvent
    | DatasetEvent,
    Field(discriminator="type"),
]


class PauseCommand(_Strict):
    action: Literal["pause"]


class ResumeCommand(_Strict):
    action: Literal["resume"]


class StepCommand(_Strict):
    """Run `steps` more steps while paused, then stay paused."""

    action: Literal["step"]
    steps: int = Field(1, ge=1)


class SetLrCommand(_Strict):
    action: Literal["set_lr"]
    lr: float = Field(gt=0.0)


JobCommand = Annotated[PauseCommand | ResumeCommand | StepCommand | SetLrCommand, Field(discriminator="action")]


class EventsPublic(BaseModel):
    events: list[Event]
    last_seq: int


class ScalarSeries(BaseModel):
    tag: str
    steps: list[int]
    values: list[float]
    total: int = Field(description="points stored before downsampling")

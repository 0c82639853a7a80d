"""The job's lifecycle, its public record, the events it streams and the commands it obeys."""

from __future__ import annotations

import dataclasses
import time
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag

from trainscope.schemas.data import Strict
from trainscope.schemas.spec import JobSpec
from trainscope.schemas.text import Name, Notes


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
    stored_bytes: int = Field(0, description="bytes of its events in the store (limits.max_job_bytes bounds it)")
    notes: str = Field("", description="what its owner wrote about it")
    group_id: str | None = Field(None, description="the group (a lesson's or a sweep's) it was submitted in")


class JobUpdate(BaseModel):
    """A new name or notes for a job (PATCH); a field left out stays as it is."""

    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    notes: Notes | None = None


class JobsPublic(BaseModel):
    jobs: list[JobPublic]
    count: int = Field(description="jobs on this page")
    total: int = Field(description="jobs that match the filters, on every page")


def left_out_when_none(default: None = None, description: str | None = None) -> Any:
    """An optional field that a stored or streamed event leaves out when it has no value (as it always
    has: readers test for the key)."""
    return Field(default, description=description, exclude_if=lambda value: value is None)


class EventBase(BaseModel):
    """What every event has. Training makes an event with its step and its own fields (the wall time is
    when it was made); the worker adds the job and the server's pump its number, seq, from 1 per job."""

    job: str = Field("", description="the job (added where the event leaves its worker)")
    seq: int = Field(0, ge=0, description="the event's number in its job, gap-free from 1 (added by the server)")
    step: int = Field(ge=0)
    wall: float = Field(default_factory=time.time, description="when it was made, seconds since the epoch")


class StatusEvent(EventBase):
    type: Literal["status"] = "status"
    status: JobStatus
    message: str = ""
    detail: dict[str, Any] = Field(default_factory=dict)


@dataclasses.dataclass(slots=True)
class ScalarPoint:
    """One step's scalars. A plain dataclass (pydantic validates and serializes it as a model): a run makes
    one per step, and constructing it costs 0.2 us against a model's 2.3 us, a tenth of a tiny net's step."""

    step: int
    values: dict[str, float]


class ScalarsEvent(EventBase):
    type: Literal["scalars"] = "scalars"
    points: list[ScalarPoint]


class HistogramEvent(EventBase):
    type: Literal["histogram"] = "histogram"
    tag: str
    min: float
    max: float
    counts: list[int]


class LayerFigures(BaseModel):
    name: str
    grad_norm: float | None
    weight_norm: float | None
    dead_fraction: float | None = Field(
        description="units that output 0 (LeakyReLU: stay negative) on every training example"
    )
    revived: float | None = left_out_when_none(description="units dead at the previous sample that are alive now")
    saturation: float | None = Field(description="sigmoid/tanh outputs near their limits")


class LayersEvent(EventBase):
    type: Literal["layers"] = "layers"
    layers: list[LayerFigures]


class EmbeddingEvent(EventBase):
    type: Literal["embedding"] = "embedding"
    tag: str
    dims: int
    n: int
    points: str = Field(description="base64 little-endian float32, n x dims, row-major")
    labels: list[int] | list[float] = Field(description="class of each point, or (regression) its target value")
    target: Literal["class", "value"] = "class"
    explained: list[float]
    width: int | None = left_out_when_none(description="units of the embedded tap, where `vectors` is given")
    vectors: str | None = left_out_when_none(
        description="base64 float32, n x width: the tap's own vectors (every snapshot of a small tap; else the "
        "last, up to a size)",
    )
    names: list[str] | None = left_out_when_none(description="each point's own name (a word), where it has one")
    classes: list[str] | None = left_out_when_none(description="the name of each class a label numbers")
    columns: dict[str, list[str]] | None = left_out_when_none(
        description="more about each point, a column of text per name (its split, a word's count...)",
    )


class BoundaryEvent(EventBase):
    type: Literal["boundary"] = "boundary"
    grid: int
    x_range: list[float]
    y_range: list[float]
    output: Literal["p_class1", "value", "class"] = Field(
        "p_class1", description="what the grid holds: P(class 1), a value, or (more than two classes) the class"
    )
    probs: str = Field(description="base64 float32 output, grid x grid, row i at y_range[0] + i * dy")


class NetworkLayer(BaseModel):
    name: str
    shape: list[int]
    weights: str = Field(description="base64 float32, out x in, row-major")
    gradients: str | None = left_out_when_none(description="the loss gradient of each weight, same layout")


class NetworkEvent(EventBase):
    type: Literal["network"] = "network"
    layers: list[NetworkLayer]
    inputs: list[str] = Field(default_factory=list, description="the input units' names (x1, x1_sq...)")
    unit_maps: dict[str, Any] | None = left_out_when_none(
        description="each input, then each hidden unit, over the plane"
    )


class SystemEvent(EventBase):
    type: Literal["system"] = "system"
    device: str
    steps_per_s: float | None = left_out_when_none()
    samples_per_s: float | None = left_out_when_none()
    memory_peak_mb: float | None = left_out_when_none(description="the worker process's peak resident memory")
    gpu_name: str | None = left_out_when_none()
    gpu_memory_mb: float | None = left_out_when_none()
    gpu_memory_peak_mb: float | None = left_out_when_none()
    gpu_utilization: float | None = left_out_when_none(
        description="NVML: the share (%) of the last sample period in which a kernel ran on the device, whoever "
        "ran it; a GPU is '100% utilized' by one small kernel at a time"
    )
    gpu_memory_used_mb: float | None = left_out_when_none(
        description="NVML: memory in use on the whole device, by every process (the job's own is gpu_memory_mb)"
    )
    step_path: str | None = left_out_when_none(
        description="how each step is computed: eager (torch, op by op), numpy (a tiny MLP's step written out), "
        "vmap (a lockstep group's runs as one model under torch.func.vmap) or cuda_graph (captured once, replayed)"
    )
    stacked_runs: int | None = left_out_when_none(
        description="how many matched runs trained as one stacked model with this one (a lockstep group)"
    )


class ControlEvent(EventBase):
    type: Literal["control"] = "control"
    action: Literal["set_lr"]
    lr: float
    previous: float


class DrawnPoints(BaseModel):
    points: str = Field(description="base64 float32, n x 2, row-major")
    labels: list[int] | list[float] = Field(description="each point's class, or its value")


class DatasetEvent(EventBase):
    type: Literal["dataset"] = "dataset"
    target: Literal["class", "value"] = Field("class", description="what a label is: a class or a value")
    train: DrawnPoints
    val: DrawnPoints


class ImagesEvent(EventBase):
    """Small images drawn as a grid: input examples (tag `inputs`, captioned true → predicted), a
    convolution's kernels (`kernels/conv1`) or one example's feature maps (`maps/conv1`)."""

    type: Literal["images"] = "images"
    tag: str
    n: int
    height: int
    width: int
    pixels: str = Field(description="base64 float32, n x height x width, row-major; row 0 is the top")
    captions: list[str] = Field(default_factory=list, description="one per image, or none")
    sequence: bool = Field(
        False,
        description="sequence data: inputs are 1 x length lines to draw as curves; a kernels or maps "
        "image has a row per channel, drawn under the first input",
    )


class ConfusionEvent(EventBase):
    """How often each true class (row) was predicted as each class (column), on the probe set."""

    type: Literal["confusion"] = "confusion"
    counts: list[list[int]]
    validation: int = Field(0, description="how many of the counted examples are validation, the rest training")


class _Analysis(EventBase):
    """A one-off measurement: headline figures plus, by its name, what there is to draw."""

    type: Literal["analysis"] = "analysis"
    figures: dict[str, float] = Field(default_factory=dict)


class GradientCheckEntry(BaseModel):
    layer: str
    index: list[int]
    autograd: float
    numeric: float
    relative: float


class GradientCheckData(BaseModel):
    checks: list[GradientCheckEntry] = Field(description="per layer, its weight with the largest gradient")


class GradientCheckEvent(_Analysis):
    """Autograd's gradient against central finite differences, one weight per layer."""

    name: Literal["gradient_check"] = "gradient_check"
    data: GradientCheckData


class LinearCollapseData(BaseModel):
    weight: list[list[float]] = Field(description="the one affine map's matrix, outputs x inputs")
    bias: list[float]


class LinearCollapseEvent(_Analysis):
    """An identity-activation network multiplied out into one affine map, and how far apart they predict."""

    name: Literal["linear_collapse"] = "linear_collapse"
    data: LinearCollapseData


class BatchNormData(BaseModel):
    running_mean: str = Field(description="base64 float32 per unit, the first batch norm's running mean")
    running_var: str
    batch_mean: str = Field(description="the same statistics of the validation set")
    batch_var: str


class BatchNormEvent(_Analysis):
    """Batch norm in train and eval mode: accuracies and the first layer's statistics."""

    name: Literal["bn_modes"] = "bn_modes"
    data: BatchNormData


class GradientVarianceEvent(_Analysis):
    """How far a mini-batch gradient lies from the full-batch one (figures only)."""

    name: Literal["grad_variance"] = "grad_variance"
    data: dict[str, Any] = Field(default_factory=dict)


class QueryPointsData(BaseModel):
    points: list[list[float]]
    probs: list[list[float]] = Field(description="the class probabilities at each point")


class QueryPointsEvent(_Analysis):
    name: Literal["query_points"] = "query_points"
    data: QueryPointsData


class MemoryData(BaseModel):
    device: str
    measured: dict[str, float] = Field(
        description="bytes held by the first training step (training/footprint.py): parameters, gradients, "
        "optimizer_state, saved_for_backward and, on a GPU, peak"
    )
    estimate: dict[str, float | None] = Field(
        description="the same parts estimated from the spec (training/memory.py): parameters, gradients, "
        "optimizer_state, activations (null: not modelled for the kind), per_example, batch, total"
    )


class MemoryEvent(_Analysis):
    """What a training step holds, measured and estimated; its figures: each part's bytes, measured/* and
    estimate/*."""

    name: Literal["memory"] = "memory"
    data: MemoryData


class ParameterRow(BaseModel):
    name: str
    formula: str
    by_formula: int
    by_torch: int


class ParametersData(BaseModel):
    layers: list[ParameterRow]


class ParametersEvent(_Analysis):
    """Each layer's trainable parameters, by the spec's formula and by torch's count."""

    name: Literal["parameters"] = "parameters"
    data: ParametersData


class UnrolledConvolutionData(BaseModel):
    shape: list[int] = Field(description="the dense layer's weight shape, outputs x inputs")


class UnrolledConvolutionEvent(_Analysis):
    """A CNN's first convolution written as a dense layer with the same outputs."""

    name: Literal["unrolled_convolution"] = "unrolled_convolution"
    data: UnrolledConvolutionData


class UnrolledNetworkData(BaseModel):
    widths: list[int] = Field(description="the equivalent MLP's layer widths, input first")


class UnrolledNetworkEvent(_Analysis):
    """A ReLU CNN written as an MLP (max pooling as ReLUs) with the same outputs."""

    name: Literal["unrolled_network"] = "unrolled_network"
    data: UnrolledNetworkData


class SurfaceDrawing(BaseModel):
    objective: str
    grid: int
    x_range: list[float]
    y_range: list[float]
    values: str = Field(description="base64 float32 loss, grid x grid, row i at y_range[0] + i * dy")
    minimum: list[float]
    largest_curvature: float | None = Field(description="the largest Hessian eigenvalue, where it is constant")


class SurfaceEvent(_Analysis):
    """A 2-parameter problem's whole loss surface around its start, drawn before the first step."""

    name: Literal["surface"] = "surface"
    data: SurfaceDrawing


class PriorSamplesEvent(_Analysis):
    """Codes drawn from N(0, I) and decoded: how far each lands from its nearest training example, against
    how far each validation example is from its own (figures: sample_distance, validation_distance, ratio)."""

    name: Literal["prior_samples"] = "prior_samples"
    data: dict[str, Any] = Field(default_factory=dict)


class PCAReferenceEvent(_Analysis):
    """PCA with as many components as the code has numbers, fitted on the training set: its validation
    error beside the model's, and (a linear model) the largest angle between the two subspaces."""

    name: Literal["pca_reference"] = "pca_reference"
    data: dict[str, Any] = Field(default_factory=dict)


ANALYSES: tuple[type[_Analysis], ...] = (
    GradientCheckEvent,
    LinearCollapseEvent,
    BatchNormEvent,
    GradientVarianceEvent,
    QueryPointsEvent,
    ParametersEvent,
    MemoryEvent,
    UnrolledConvolutionEvent,
    UnrolledNetworkEvent,
    SurfaceEvent,
    PriorSamplesEvent,
    PCAReferenceEvent,
)
EVENTS: tuple[type[EventBase], ...] = (
    StatusEvent,
    ScalarsEvent,
    HistogramEvent,
    LayersEvent,
    EmbeddingEvent,
    BoundaryEvent,
    NetworkEvent,
    SystemEvent,
    ControlEvent,
    DatasetEvent,
    ImagesEvent,
    ConfusionEvent,
    *ANALYSES,
)


def event_tag(value: Any) -> str | None:
    """An event's type, and an analysis's name with it: each analysis is its own event."""
    fields: dict[str, Any] = value if isinstance(value, dict) else getattr(value, "__dict__", {})
    kind = fields.get("type")
    return f"analysis/{fields.get('name')}" if kind == "analysis" else kind


def tag_of(event: type[EventBase]) -> str:
    fields = event.model_fields
    kind = fields["type"].default
    return f"analysis/{fields['name'].default}" if kind == "analysis" else str(kind)


# Told apart by a function, not a field: OpenAPI's discriminator maps one value of one field to a schema.
if TYPE_CHECKING:
    Event = EventBase  # what the type checker knows; narrow with isinstance
else:
    Event = Annotated[
        Union[tuple(Annotated[event, Tag(tag_of(event))] for event in EVENTS)],  # noqa: UP007 (a runtime tuple)
        Discriminator(event_tag),
    ]


class PauseCommand(Strict):
    action: Literal["pause"]


class ResumeCommand(Strict):
    action: Literal["resume"]


class StepCommand(Strict):
    """Run `steps` more steps while paused, then stay paused."""

    action: Literal["step"]
    steps: int = Field(1, ge=1)


class SetLrCommand(Strict):
    action: Literal["set_lr"]
    lr: float = Field(gt=0.0)


class CancelCommand(Strict):
    """Stop at the next report (POST /cancel, or the server enforcing a limit)."""

    action: Literal["cancel"] = "cancel"


JobCommand = Annotated[PauseCommand | ResumeCommand | StepCommand | SetLrCommand, Field(discriminator="action")]
# what reaches a running job: a client's command, or a cancel
Command = PauseCommand | ResumeCommand | StepCommand | SetLrCommand | CancelCommand


class EventsPublic(BaseModel):
    events: list[Event]
    last_seq: int


class ScalarSeries(BaseModel):
    tag: str
    steps: list[int]
    values: list[float]
    total: int = Field(description="points stored before downsampling")

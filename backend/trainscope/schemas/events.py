"""The job's lifecycle, its public record, the events it streams and the commands it obeys."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

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
    dead_fraction: float | None = Field(
        description="units that output 0 (LeakyReLU: stay negative) on every training example"
    )
    revived: float | None = Field(None, description="units dead at the previous sample that are alive now")
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
    labels: list[int] | list[float] = Field(description="class of each point, or (regression) its target value")
    target: Literal["class", "value"] = "class"
    explained: list[float]
    width: int | None = Field(None, description="units of the embedded layer, where `vectors` is given")
    vectors: str | None = Field(
        None,
        description="base64 float32, n x width: the layer's own activations (at the last step only, up to a size)",
    )


class BoundaryEvent(_EventBase):
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
    gradients: str | None = Field(None, description="the loss gradient of each weight, same layout")


class NetworkEvent(_EventBase):
    type: Literal["network"] = "network"
    layers: list[NetworkLayer]
    inputs: list[str] = Field(default_factory=list, description="the input units' names (x1, x1_sq...)")
    unit_maps: dict[str, Any] | None = Field(None, description="each input, then each hidden unit, over the plane")


class SystemEvent(_EventBase):
    type: Literal["system"] = "system"
    device: str
    steps_per_s: float | None = None
    samples_per_s: float | None = None
    memory_peak_mb: float | None = Field(None, description="the worker process's peak resident memory")
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
    target: Literal["class", "value"] = Field("class", description="what a label is: a class or a value")
    train: dict[str, Any]
    val: dict[str, Any]


class ImagesEvent(_EventBase):
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


class ConfusionEvent(_EventBase):
    """How often each true class (row) was predicted as each class (column), on the probe set."""

    type: Literal["confusion"] = "confusion"
    counts: list[list[int]]
    validation: int = Field(0, description="how many of the counted examples are validation, the rest training")


class AnalysisEvent(_EventBase):
    """A one-off measurement (gradient check, collapsed linear map, batch-norm modes, gradient variance,
    a loss surface): headline figures plus the arrays to draw."""

    type: Literal["analysis"] = "analysis"
    name: str
    figures: dict[str, float]
    data: dict[str, Any] = Field(default_factory=dict)


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
    | DatasetEvent
    | ImagesEvent
    | ConfusionEvent
    | AnalysisEvent,
    Field(discriminator="type"),
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

"""The job spec: data (data.py), model, optimizer and probes, each field with its own bounds (rules.py:
across fields)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal, Protocol

from pydantic import BaseModel, Field, model_validator

from trainscope.schemas.data import Coordinate, LabelledData, PlanarDataSpec, Points2DData, Strict, SurfaceData
from trainscope.schemas.kinds.mlp import MLPSpec
from trainscope.schemas.registry import Layer, offered, registry

OptimizerName = Literal["sgd", "momentum", "rmsprop", "adam", "adamw", "random_search"]
DeviceChoice = Literal["auto", "cpu", "cuda"]
PlantedBug = Literal["none", "shuffled_labels", "no_zero_grad", "softmax_into_loss"]


class Kinded(Protocol):
    """What the type checker knows of a model spec: its kind (narrow with isinstance for the rest)."""

    @property
    def kind(self) -> str: ...


if TYPE_CHECKING:
    ModelSpec = Kinded
    DataSpec = LabelledData | SurfaceData
else:  # the tagged unions of every registered kind, for pydantic
    ModelSpec = registry().model_union()
    DataSpec = registry().data_union()


class OptimSpec(Strict):
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


class ProbeSpec(Strict):
    """How often each probe samples, in steps (0 turns a probe off). Each costs time only when it samples;
    the defaults keep all of them within 5% of a bare loop's throughput (benchmarks/throughput.py)."""

    # Each probe says which of a kind's taps it reads ("needs": every entry met, "a|b" by either): a kind
    # offers the probes its taps allow (registry.offered). "layers": a network's weighted layers;
    # "matrices": weight matrices that each feed the next (the network diagram).
    histogram_every: int = Field(
        200, ge=0, description="activation, weight and gradient histograms", json_schema_extra={"needs": ["layers"]}
    )
    histogram_bins: int = Field(30, ge=2)
    layers_every: int = Field(
        200,
        ge=0,
        description="per-layer gradient/weight norms, dead units, saturation",
        json_schema_extra={"needs": ["layers"]},
    )
    embedding_every: int = Field(
        200,
        ge=0,
        description="PCA of a representation on the probe set (embedding_tap)",
        json_schema_extra={"needs": ["hidden|latent|embeddings"]},
    )
    embedding_tap: str | None = Field(
        None,
        max_length=40,
        pattern=r"^[a-z_]+(/[0-9]+)?$",
        description="the tap the embedding projects: hidden/0, hidden/1..., latent, embeddings (null: the "
        "kind's representation: its embeddings, else its latent code, else its last hidden layer)",
    )
    boundary_every: int = Field(
        100,
        ge=0,
        description="class probability over the input plane (2-D data)",
        json_schema_extra={"needs": ["logits"]},
    )
    boundary_grid: int = Field(40, ge=4, le=200, description="grid cells per side of the boundary map")
    network_every: int = Field(
        200,
        ge=0,
        description="weights and each hidden unit's map (network view)",
        json_schema_extra={"needs": ["matrices"]},
    )
    images_every: int = Field(
        200,
        ge=0,
        description="image data: examples with their predictions or reconstructions; a CNN: its kernels and "
        "feature maps",
        json_schema_extra={"needs": ["logits|reconstruction|centroids"]},
    )
    confusion_every: int = Field(
        200,
        ge=0,
        description="classes: the confusion matrix on the probe set",
        json_schema_extra={"needs": ["logits"]},
    )
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
    memory: bool = Field(
        False,
        description="at the first step: what it holds (parameters, gradients, optimizer state, saved for backward, "
        "the peak on a GPU) beside the estimate made from the spec",
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


class LoaderSpec(Strict):
    """How batches reach the step: a simulated loader as slow as asked, to see what waiting for data costs,
    and prefetching, loaders working ahead while the step computes (training/loader.py)."""

    delay: float = Field(
        0.0,
        ge=0.0,
        le=4.0,
        description="each batch takes this many times the step's own compute to load (0: ready at once); a "
        "multiple of the step, not of a clock, so it costs the same share on any machine",
    )
    prefetch: int = Field(
        0, ge=0, le=8, description="loaders working ahead while the step computes, as a DataLoader's workers (0: none)"
    )


class DistributedSpec(Strict):
    """Data parallelism: the run as `world_size` processes (ranks), each with the whole model and a
    1/world_size share of every batch, their gradients averaged (torch.distributed's DDP) before each step."""

    world_size: int = Field(1, ge=1, description="ranks (processes) training the run together; 1: one process")
    backend: Literal["auto", "gloo", "nccl"] = Field(
        "auto", description="how ranks exchange gradients: gloo (CPU), nccl (one GPU each); auto picks by device"
    )


def probe_needs(field: str) -> list[str]:
    """What a probe reads of a kind's taps (ProbeSpec's `needs`; none: every kind has it)."""
    extra = ProbeSpec.model_fields[field].json_schema_extra
    return list(extra.get("needs", [])) if isinstance(extra, dict) else []  # type: ignore[arg-type]


def probes_offered(taps: tuple[str, ...]) -> list[str]:
    """The probes (ProbeSpec's sampling fields) a kind with these taps offers."""
    return [name for name in ProbeSpec.model_fields if name.endswith("_every") and offered(probe_needs(name), taps)]


class JobSpec(Strict):
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
    distributed: DistributedSpec = Field(default_factory=DistributedSpec)
    loader: LoaderSpec = Field(default_factory=LoaderSpec)

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

    def layer_parameters(self) -> list[Layer]:
        """Each layer's trainable parameters by formula, and the formula, as the model's kind counts them
        (none for data the kind does not train on: the rules refuse that pairing)."""
        kind = registry().model(self.model.kind)
        return kind.layers(self.model, self.data) if self.data.kind in kind.data else []


class DatasetTextRequest(Strict):
    """The data of a job whose data is text (a corpus) and its seed: the text it would train on."""

    data: DataSpec
    seed: int = Field(0, ge=0, le=2**31 - 1, description="the job's seed (the data's own seed wins when set)")


class DatasetText(BaseModel):
    text: str


class DatasetPreviewRequest(Strict):
    """The data of a job and its seed: the points it would train on, drawn before it starts."""

    data: PlanarDataSpec = Field(default_factory=Points2DData)
    seed: int = Field(0, ge=0, le=2**31 - 1, description="the job's seed (the data's own seed wins when set)")

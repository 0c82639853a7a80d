"""The probes every network has: histograms, per-layer figures, the embedding, the decision boundary
(2-D data), the network diagram, and the system's throughput."""

from __future__ import annotations

import contextlib
import math
import sys
import time

import torch
from torch.utils.hooks import RemovableHandle

from trainscope.schemas import (
    BoundaryEvent,
    EmbeddingEvent,
    EventBase,
    HistogramEvent,
    LayerFigures,
    LayersEvent,
    NetworkEvent,
    NetworkLayer,
    SurfaceData,
    SystemEvent,
)
from trainscope.training.models import PLAIN_INPUTS, LayeredNet
from trainscope.training.probes.base import Fetched, Probe, ProbeContext, b64, finite_or_none, hidden_taps
from trainscope.training.telemetry import (
    SATURATION_BANDS,
    dead_units,
    histogram,
    pca_project,
    plane_grid,
    saturation,
)

NETWORK_WEIGHT_CAP = 50_000  # the network view draws every edge; past this many it is unreadable anyway
UNIT_MAP_GRID = 16


def network_of(ctx: ProbeContext) -> LayeredNet:
    assert ctx.network is not None, "a probe of weighted layers on a kind without them"
    return ctx.network


class Histograms(Probe):
    """Activation, weight and gradient histograms per layer (TensorBoard's histogram/distribution data)."""

    field = "histogram_every"

    def __init__(self, ctx: ProbeContext) -> None:
        self.every = ctx.spec.probes.histogram_every
        self.bins = ctx.spec.probes.histogram_bins
        self.network = network_of(ctx)
        self.names = self.network.layer_names()
        self.linear_names = [*self.names, "output"]
        self._handles: list[RemovableHandle] = []
        self._acts: list[torch.Tensor] = []

    def arm(self, ctx: ProbeContext) -> None:
        self._acts = []
        self._handles = [
            m.register_forward_hook(lambda _m, _i, out: self._acts.append(histogram(out, self.bins)))
            for m in self.network.activations
        ]

    def collect(self, ctx: ProbeContext) -> dict[str, torch.Tensor]:
        for handle in self._handles:
            handle.remove()
        self._handles = []
        linears = self.network.linears()
        out = {"weight": torch.stack([histogram(layer.weight, self.bins) for layer in linears])}
        grads = [layer.weight.grad for layer in linears]
        if all(g is not None for g in grads):
            out["grad"] = torch.stack([histogram(g, self.bins) for g in grads if g is not None])
        if self._acts:
            out["act"] = torch.stack(self._acts)
        return out

    def events(self, step: int, fetched: Fetched) -> list[EventBase]:
        events: list[EventBase] = []
        for kind, rows in fetched.items():
            names = self.names if kind == "act" else self.linear_names
            for name, row in zip(names, rows, strict=True):
                counts = [int(c) for c in row[2:]]
                tag = f"{kind}/{name}"
                events.append(HistogramEvent(step=step, tag=tag, min=float(row[0]), max=float(row[1]), counts=counts))
        return events


def per_hidden(values: list[torch.Tensor], output: torch.Tensor) -> torch.Tensor:
    """A figure per hidden layer, then the output's (no hidden layer at all: the output's alone)."""
    return torch.cat([*(value.float().reshape(1) for value in values), output])


class LayerStats(Probe):
    """Per layer: gradient norm, weight norm, saturation on the probe set, and the dead-unit fraction on
    the whole training set with the units revived since the previous sample. A dead ReLU unit gets
    exactly zero gradient on every training example, so only a change in the layers below can revive
    it; a probe subset would call units dead that some training example still reaches. Costs one
    forward pass over the training set per sample."""

    field = "layers_every"

    def __init__(self, ctx: ProbeContext) -> None:
        self.every = ctx.spec.probes.layers_every
        self.network = network_of(ctx)
        self.activation = self.network.activation_name
        self.names = [*self.network.layer_names(), "output"]
        self._dead_before: list[torch.Tensor] | None = None

    def collect(self, ctx: ProbeContext) -> dict[str, torch.Tensor]:
        # Few, fused ops: at small sizes each eager op costs more than its arithmetic.
        linears = self.network.linears()
        weights = [layer.weight.detach() for layer in linears]
        grads = [
            layer.weight.grad if layer.weight.grad is not None else torch.zeros_like(w)
            for layer, w in zip(linears, weights, strict=True)
        ]
        nan = torch.full((1,), float("nan"), device=weights[0].device)
        leaky = self.activation == "leaky_relu"
        dead_now = [dead_units(o, leaky) for o in ctx.training_outputs()]
        before = self._dead_before or dead_now
        self._dead_before = dead_now
        dead = per_hidden([d.float().mean() for d in dead_now], nan)
        revived = per_hidden([(b & ~d).sum() for b, d in zip(before, dead_now, strict=True)], nan)
        sat = nan.expand(len(linears))
        if self.activation in SATURATION_BANDS:
            sat = per_hidden([saturation(o, self.activation) for o in ctx.probe_outputs()], nan)
        grad_norms = torch.stack(torch._foreach_norm(grads))
        weight_norms = torch.stack(torch._foreach_norm(weights))
        return {"rows": torch.stack([grad_norms, weight_norms, dead, revived.float(), sat], dim=1)}

    def events(self, step: int, fetched: Fetched) -> list[EventBase]:
        layers = []
        for name, (grad_norm, weight_norm, dead, revived, sat) in zip(self.names, fetched["rows"], strict=True):
            figures = {
                "grad_norm": grad_norm,
                "weight_norm": weight_norm,
                "dead_fraction": dead,
                "revived": revived,
                "saturation": sat,
            }
            layers.append(LayerFigures(name=name, **{k: finite_or_none(v) for k, v in figures.items()}))
        return [LayersEvent(step=step, layers=layers)]


# a tap's own vectors (for nearest neighbours, t-SNE and TensorBoard's projector), up to 1,000 probe
# examples of a 256-wide layer (1 MB as float32; a larger tap keeps its PCA): with the last snapshot, and
# with every snapshot where the points are named (words: a similarity may be asked at any step; 76 words
# of 32 numbers are ~13 KB of base64 a snapshot). A classifier's hidden layer sends them once: every
# snapshot of the digits MLP's would be ~87 KB, 40 times a run
RAW_VECTORS_MAX = 256_000


def representation(ctx: ProbeContext) -> str | None:
    """The tap the embedding projects: the spec's choice, else the kind's representation (its embeddings,
    else its latent code, else its last hidden layer; a CNN without a head: its last feature maps); None
    where there is none (logistic regression has no representation of its own)."""
    taps = ctx.taps(ctx.probe_x[:1])
    if ctx.spec.probes.embedding_tap is not None:
        return ctx.spec.probes.embedding_tap
    hidden = [f"hidden/{i}" for i in range(len(hidden_taps(taps)))]
    return next((name for name in ("embeddings", "latent", *hidden[-1:]) if name in taps), None)


class Embedding(Probe):
    """PCA (3 components) of a tap on the probe set (see representation), signs kept stable; the tap's
    vectors themselves with the last snapshot, and with every one where the points are named; each point's
    name, its class's name and more columns where the context has them."""

    field = "embedding_every"

    def __init__(self, ctx: ProbeContext) -> None:
        self.tap = representation(ctx)
        self.every = ctx.spec.probes.embedding_every if self.tap is not None else 0
        self.labels = ctx.probe_y.cpu().tolist()  # once, at set-up
        self.names, self.classes, self.columns = ctx.names, ctx.classes, ctx.columns or None
        self.target = "class" if ctx.probe_y.dtype == torch.int64 else "value"
        self._previous: torch.Tensor | None = None

    def collect(self, ctx: ProbeContext) -> dict[str, torch.Tensor]:
        assert self.tap is not None
        tapped = ctx.probe_taps()[self.tap]
        points = torch.nan_to_num(tapped.reshape(len(tapped), -1), nan=0.0, posinf=0.0, neginf=0.0)
        projection, components, explained = pca_project(points, 3, self._previous)
        self._previous = components
        wanted = ctx.last or ctx.names is not None
        raw = {"vectors": points} if wanted and points.numel() <= RAW_VECTORS_MAX else {}
        return {"points": projection, "explained": explained, **raw}

    def events(self, step: int, fetched: Fetched) -> list[EventBase]:
        assert self.tap is not None
        points, vectors = fetched["points"], fetched.get("vectors")
        event = EmbeddingEvent(
            step=step,
            tag=self.tap,
            dims=int(points.shape[1]),
            n=int(points.shape[0]),
            points=b64(points),
            labels=self.labels,
            target=self.target,
            explained=[float(v) for v in fetched["explained"]],
            width=int(vectors.shape[1]) if vectors is not None else None,
            vectors=b64(vectors) if vectors is not None else None,
            names=self.names,
            classes=self.classes,
            columns=self.columns,
        )
        return [event]


class Boundary(Probe):
    """Probability of class 1 (regression: the predicted value; more than two classes: the predicted
    class) over a grid on the input plane (2-D only)."""

    field = "boundary_every"

    def __init__(self, ctx: ProbeContext) -> None:
        data = ctx.spec.data
        assert not isinstance(data, SurfaceData)
        self.output = "value" if data.regression else "class" if data.n_outputs > 2 else "p_class1"
        self.every = ctx.spec.probes.boundary_every if ctx.plane is not None else 0
        self.size = ctx.spec.probes.boundary_grid
        self.plane = ctx.plane or ((0.0, 1.0), (0.0, 1.0))
        self.grid = plane_grid(*self.plane, self.size).to(ctx.probe_x.device)

    def collect(self, ctx: ProbeContext) -> dict[str, torch.Tensor]:
        outputs = ctx.taps(self.grid)["logits"]
        if self.output == "value":
            return {"probs": outputs[:, 0]}
        if self.output == "class":
            return {"probs": outputs.argmax(1).float()}
        return {"probs": outputs.softmax(1)[:, 1]}

    def events(self, step: int, fetched: Fetched) -> list[EventBase]:
        x_range, y_range = list(self.plane[0]), list(self.plane[1])
        probs = b64(fetched["probs"])
        return [
            BoundaryEvent(step=step, grid=self.size, x_range=x_range, y_range=y_range, output=self.output, probs=probs)
        ]


class Network(Probe):
    """Every weight and its gradient (for the network diagram) and, on 2-D data, each hidden unit's output
    over the plane."""

    field = "network_every"

    def __init__(self, ctx: ProbeContext) -> None:
        self.every = ctx.spec.probes.network_every
        self.network = network_of(ctx)
        self.names = [*self.network.layer_names(), "output"]
        # the named inputs come with their maps over the plane, so only for 2-D data
        self.inputs = list(getattr(ctx.spec.data, "features", PLAIN_INPUTS)) if ctx.plane else []
        self.shapes = [tuple(layer.weight.shape) for layer in self.network.linears()]
        self.plane = ctx.plane
        self.grid = plane_grid(*ctx.plane, UNIT_MAP_GRID).to(ctx.probe_x.device) if ctx.plane else None
        if sum(math.prod(s) for s in self.shapes) > NETWORK_WEIGHT_CAP:
            self.every = 0

    def collect(self, ctx: ProbeContext) -> dict[str, torch.Tensor]:
        linears = self.network.linears()
        out = {"weights": torch.cat([layer.weight.detach().reshape(-1) for layer in linears])}
        grads = [layer.weight.grad for layer in linears]
        if all(g is not None for g in grads):
            out["grads"] = torch.cat([g.reshape(-1) for g in grads if g is not None])
        if self.grid is not None:
            inputs = self.network.input_features(self.grid)
            units = hidden_taps(ctx.taps(self.grid))
            out["units"] = torch.cat([inputs.T, *(o.T for o in units)])  # input units, then hidden, x cells
        return out

    def events(self, step: int, fetched: Fetched) -> list[EventBase]:
        weights, grads, layers, start = fetched["weights"], fetched.get("grads"), [], 0
        for name, (rows, cols) in zip(self.names, self.shapes, strict=True):
            part = slice(start, start + rows * cols)
            gradients = b64(grads[part]) if grads is not None else None
            layers.append(NetworkLayer(name=name, shape=[rows, cols], weights=b64(weights[part]), gradients=gradients))
            start += rows * cols
        maps = None
        if self.plane is not None and "units" in fetched:
            x_range, y_range = list(self.plane[0]), list(self.plane[1])
            maps = {"grid": UNIT_MAP_GRID, "x_range": x_range, "y_range": y_range, "values": b64(fetched["units"])}
        return [NetworkEvent(step=step, layers=layers, inputs=list(self.inputs), unit_maps=maps)]


def peak_resident_mb() -> float | None:
    """This process's peak resident memory (None where the OS does not say: no `resource` on Windows)."""
    try:
        import resource
    except ImportError:
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10  # bytes on macOS, KiB on Linux


class System(Probe):
    """Throughput since the last sample, and device memory and utilization on a GPU."""

    field = "system_every"

    def __init__(self, ctx: ProbeContext) -> None:
        self.every = ctx.spec.probes.system_every
        self.batch = ctx.spec.optim.batch_size
        self.device, self.ctx = ctx.probe_x.device, ctx
        self._last: tuple[int, float] | None = None

    def events(self, step: int, fetched: Fetched) -> list[EventBase]:
        now = time.perf_counter()
        ctx = self.ctx
        event = SystemEvent(
            step=step, device=str(self.device), memory_peak_mb=peak_resident_mb(), step_path=ctx.step_path
        )
        if ctx.stacked_runs > 1:
            event.stacked_runs = ctx.stacked_runs
        if self._last is not None and now > self._last[1]:
            event.steps_per_s = (step - self._last[0]) / (now - self._last[1])
            event.samples_per_s = event.steps_per_s * self.batch
        self._last = (step, now)
        if self.device.type == "cuda":
            event.gpu_name = torch.cuda.get_device_name(self.device)
            event.gpu_memory_mb = torch.cuda.memory_allocated(self.device) / 2**20
            event.gpu_memory_peak_mb = torch.cuda.max_memory_allocated(self.device) / 2**20
            with contextlib.suppress(Exception):  # needs NVML (trainscope[gpu]: nvidia-ml-py); absent on some machines
                # NVML's figures for the whole device: the share of the last sample period in which a kernel
                # ran (not how much of the GPU it used), and the memory in use by every process on it
                event.gpu_utilization = float(torch.cuda.utilization(self.device))
                event.gpu_memory_used_mb = torch.cuda.device_memory_used(self.device) / 2**20
        return [event]

"""Telemetry probes. Each samples every N steps (0: never), computes on the job's device and hands its
tensors to Telemetry, which makes one device-to-host transfer for all the probes sampling a step.

A probe overrides only the hooks it needs: arm() before the training forward (forward hooks live only
for that one pass), collect() after backward (gradients present, weights not yet stepped), events()
once its tensors are on the host.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch.utils.hooks import RemovableHandle

from trainscope.schemas import JobSpec, Points2DData
from trainscope.training.models import LayeredNet
from trainscope.training.points import b64_floats
from trainscope.training.telemetry import (
    SATURATION_BANDS,
    class_probabilities,
    dead_units,
    eval_outputs,
    histogram,
    pca_project,
    plane_grid,
    saturation,
)

Emit = Callable[[dict[str, Any]], None]
Fetched = dict[str, np.ndarray]

NETWORK_WEIGHT_CAP = 50_000  # the network view draws every edge; past this many it is unreadable anyway
UNIT_MAP_GRID = 16


def b64(array: np.ndarray | torch.Tensor) -> str:
    """A tensor or array as base64 little-endian float32 (one host read for a tensor)."""
    if isinstance(array, torch.Tensor):
        array = array.detach().cpu().numpy()
    return b64_floats(array)


def finite_or_none(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None


@dataclass
class ProbeContext:
    """What probes look at; the probe set's activations are computed at most once per sampling step."""

    model: LayeredNet
    spec: JobSpec
    probe_x: torch.Tensor
    probe_y: torch.Tensor
    plane: tuple[tuple[float, float], tuple[float, float]] | None  # x and y range of 2-D data
    train_x: torch.Tensor | None = None  # the whole training set: a unit is dead only if it is dead on all of it
    _probe: tuple[torch.Tensor, list[torch.Tensor]] | None = field(default=None, repr=False)

    def new_step(self) -> None:
        self._probe = None

    def _probe_pass(self) -> tuple[torch.Tensor, list[torch.Tensor]]:
        # one eval-mode forward over the probe set per sampling step, shared by every probe that samples
        if self._probe is None:
            self._probe = eval_forward(self.model, self.probe_x)
        return self._probe

    def probe_outputs(self) -> list[torch.Tensor]:
        """Each hidden layer's activation output on the probe set, in eval mode."""
        return self._probe_pass()[1]

    def probe_logits(self) -> torch.Tensor:
        """The model's outputs on the probe set, in eval mode (from the same forward pass)."""
        return self._probe_pass()[0]

    def training_outputs(self) -> list[torch.Tensor]:
        """Each hidden layer's activation output on the whole training set (the probe set without one)."""
        if self.train_x is None:
            return self.probe_outputs()
        return hidden_outputs(self.model, self.train_x)


def eval_forward(model: LayeredNet, inputs: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """Outputs and each hidden layer's activation output in eval mode (no dropout, batch-norm running
    statistics)."""
    was_training = model.training
    model.eval()
    with torch.no_grad():
        logits, hidden = model.forward_with_hidden(inputs)
    model.train(was_training)
    return logits, hidden


def hidden_outputs(model: LayeredNet, inputs: torch.Tensor) -> list[torch.Tensor]:
    return eval_forward(model, inputs)[1]


class Probe:
    """No-op hooks; `every` steps between samples (0: never), and always at the first and last step."""

    every = 0

    def wants(self, step: int, last: bool = False) -> bool:
        return self.every > 0 and (step == 1 or step % self.every == 0 or last)

    def arm(self, ctx: ProbeContext) -> None:
        """Before the training forward pass of a sampling step."""

    def collect(self, ctx: ProbeContext) -> dict[str, torch.Tensor]:
        """After backward: the device tensors this probe needs on the host."""
        return {}

    def events(self, step: int, fetched: Fetched) -> list[dict[str, Any]]:
        """The events for this step, from the fetched arrays."""
        return []


class Histograms(Probe):
    """Activation, weight and gradient histograms per layer (TensorBoard's histogram/distribution data)."""

    def __init__(self, ctx: ProbeContext) -> None:
        self.every = ctx.spec.probes.histogram_every
        self.bins = ctx.spec.probes.histogram_bins
        self.names = ctx.model.layer_names()
        self.linear_names = [*self.names, "output"]
        self._handles: list[RemovableHandle] = []
        self._acts: list[torch.Tensor] = []

    def arm(self, ctx: ProbeContext) -> None:
        self._acts = []
        self._handles = [
            m.register_forward_hook(lambda _m, _i, out: self._acts.append(histogram(out, self.bins)))
            for m in ctx.model.activations
        ]

    def collect(self, ctx: ProbeContext) -> dict[str, torch.Tensor]:
        for handle in self._handles:
            handle.remove()
        self._handles = []
        linears = ctx.model.linears()
        out = {"weight": torch.stack([histogram(layer.weight, self.bins) for layer in linears])}
        grads = [layer.weight.grad for layer in linears]
        if all(g is not None for g in grads):
            out["grad"] = torch.stack([histogram(g, self.bins) for g in grads if g is not None])
        if self._acts:
            out["act"] = torch.stack(self._acts)
        return out

    def events(self, step: int, fetched: Fetched) -> list[dict[str, Any]]:
        events = []
        for kind, rows in fetched.items():
            names = self.names if kind == "act" else self.linear_names
            for name, row in zip(names, rows, strict=True):
                events.append(
                    {
                        "type": "histogram",
                        "step": step,
                        "tag": f"{kind}/{name}",
                        "min": float(row[0]),
                        "max": float(row[1]),
                        "counts": [int(c) for c in row[2:]],
                    }
                )
        return events


class LayerStats(Probe):
    """Per layer: gradient norm, weight norm, saturation on the probe set, and the dead-unit fraction on
    the whole training set with the units revived since the previous sample. A dead ReLU unit gets
    exactly zero gradient on every training example, so only a change in the layers below can revive
    it; a probe subset would call units dead that some training example still reaches. Costs one
    forward pass over the training set per sample."""

    def __init__(self, ctx: ProbeContext) -> None:
        self.every = ctx.spec.probes.layers_every
        self.activation = ctx.model.activation_name
        self.names = [*ctx.model.layer_names(), "output"]
        self._dead_before: list[torch.Tensor] | None = None

    def collect(self, ctx: ProbeContext) -> dict[str, torch.Tensor]:
        # Few, fused ops: at small sizes each eager op costs more than its arithmetic.
        linears = ctx.model.linears()
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
        dead = torch.cat([torch.stack([d.float().mean() for d in dead_now]), nan])
        revived = torch.cat([torch.stack([(b & ~d).sum() for b, d in zip(before, dead_now, strict=True)]), nan])
        sat = nan.expand(len(linears))
        if self.activation in SATURATION_BANDS:
            outputs = ctx.probe_outputs()
            sat = torch.cat([torch.stack([saturation(o, self.activation) for o in outputs]).float(), nan])
        grad_norms = torch.stack(torch._foreach_norm(grads))
        weight_norms = torch.stack(torch._foreach_norm(weights))
        return {"rows": torch.stack([grad_norms, weight_norms, dead, revived.float(), sat], dim=1)}

    def events(self, step: int, fetched: Fetched) -> list[dict[str, Any]]:
        layers = []
        for name, (grad_norm, weight_norm, dead, revived, sat) in zip(self.names, fetched["rows"], strict=True):
            figures = {
                "grad_norm": grad_norm,
                "weight_norm": weight_norm,
                "dead_fraction": dead,
                "revived": revived,
                "saturation": sat,
            }
            layers.append({"name": name, **{k: finite_or_none(v) for k, v in figures.items()}})
        return [{"type": "layers", "step": step, "layers": layers}]


class Embedding(Probe):
    """PCA (3 components) of the penultimate layer's activations on the probe set, signs kept stable."""

    def __init__(self, ctx: ProbeContext) -> None:
        self.every = ctx.spec.probes.embedding_every
        self.labels = ctx.probe_y.cpu().tolist()  # once, at set-up
        self.target = "class" if ctx.probe_y.dtype == torch.int64 else "value"
        self._previous: torch.Tensor | None = None

    def collect(self, ctx: ProbeContext) -> dict[str, torch.Tensor]:
        last = ctx.probe_outputs()[-1]  # a CNN without a head: its last feature maps, flattened
        points = torch.nan_to_num(last.reshape(len(last), -1), nan=0.0, posinf=0.0, neginf=0.0)
        projection, components, explained = pca_project(points, 3, self._previous)
        self._previous = components
        return {"points": projection, "explained": explained}

    def events(self, step: int, fetched: Fetched) -> list[dict[str, Any]]:
        points = fetched["points"]
        return [
            {
                "type": "embedding",
                "step": step,
                "tag": "penultimate",
                "dims": int(points.shape[1]),
                "n": int(points.shape[0]),
                "points": b64(points),
                "labels": self.labels,
                "target": self.target,
                "explained": [float(v) for v in fetched["explained"]],
            }
        ]


class Boundary(Probe):
    """Probability of class 1 (regression: the predicted value) over a grid on the input plane (2-D only)."""

    def __init__(self, ctx: ProbeContext) -> None:
        assert ctx.plane is not None
        self.regression = isinstance(ctx.spec.data, Points2DData) and ctx.spec.data.regression
        self.every = ctx.spec.probes.boundary_every
        self.size = ctx.spec.probes.boundary_grid
        self.plane = ctx.plane
        self.grid = plane_grid(*ctx.plane, self.size).to(ctx.probe_x.device)

    def collect(self, ctx: ProbeContext) -> dict[str, torch.Tensor]:
        if self.regression:
            return {"probs": eval_outputs(ctx.model, self.grid)[:, 0]}
        return {"probs": class_probabilities(ctx.model, self.grid)[:, 1]}

    def events(self, step: int, fetched: Fetched) -> list[dict[str, Any]]:
        return [
            {
                "type": "boundary",
                "step": step,
                "grid": self.size,
                "x_range": list(self.plane[0]),
                "y_range": list(self.plane[1]),
                "output": "value" if self.regression else "p_class1",
                "probs": b64(fetched["probs"]),
            }
        ]


class Network(Probe):
    """Every weight and its gradient (for the network diagram) and, on 2-D data, each hidden unit's output
    over the plane."""

    def __init__(self, ctx: ProbeContext) -> None:
        self.every = ctx.spec.probes.network_every
        self.names = [*ctx.model.layer_names(), "output"]
        # the named inputs come with their maps over the plane, so only for 2-D data
        self.inputs = list(getattr(ctx.spec.data, "features", ())) if ctx.plane else []
        self.shapes = [tuple(layer.weight.shape) for layer in ctx.model.linears()]
        self.plane = ctx.plane
        self.grid = plane_grid(*ctx.plane, UNIT_MAP_GRID).to(ctx.probe_x.device) if ctx.plane else None
        # the diagram draws a matrix per layer: not a convolution's kernels (those get their own view)
        if any(len(shape) != 2 for shape in self.shapes) or sum(math.prod(s) for s in self.shapes) > NETWORK_WEIGHT_CAP:
            self.every = 0

    def collect(self, ctx: ProbeContext) -> dict[str, torch.Tensor]:
        linears = ctx.model.linears()
        out = {"weights": torch.cat([layer.weight.detach().reshape(-1) for layer in linears])}
        grads = [layer.weight.grad for layer in linears]
        if all(g is not None for g in grads):
            out["grads"] = torch.cat([g.reshape(-1) for g in grads if g is not None])
        if self.grid is not None:
            inputs = ctx.model.input_features(self.grid)
            units = hidden_outputs(ctx.model, self.grid)
            out["units"] = torch.cat([inputs.T, *(o.T for o in units)])  # input units, then hidden, x cells
        return out

    def events(self, step: int, fetched: Fetched) -> list[dict[str, Any]]:
        weights, grads, layers, start = fetched["weights"], fetched.get("grads"), [], 0
        for name, (rows, cols) in zip(self.names, self.shapes, strict=True):
            part = slice(start, start + rows * cols)
            layer = {"name": name, "shape": [rows, cols], "weights": b64(weights[part])}
            if grads is not None:
                layer["gradients"] = b64(grads[part])
            layers.append(layer)
            start += rows * cols
        event: dict[str, Any] = {"type": "network", "step": step, "layers": layers, "inputs": list(self.inputs)}
        if self.plane is not None and "units" in fetched:
            event["unit_maps"] = {
                "grid": UNIT_MAP_GRID,
                "x_range": list(self.plane[0]),
                "y_range": list(self.plane[1]),
                "values": b64(fetched["units"]),
            }
        return [event]


EXAMPLES_SHOWN = 16  # input examples drawn with their predictions


class Pictures(Probe):
    """Image or sequence data: the first probe examples with their true and predicted class. A CNN also:
    each convolution's kernels (averaged over its input channels) and the first probe example's feature
    maps after each convolution. An image CNN's kernels and maps are one small image per channel; a
    sequence CNN's are one image each, a row per channel, drawn under the example's line."""

    def __init__(self, ctx: ProbeContext) -> None:
        example: tuple[int, ...] = getattr(ctx.spec.data, "example_shape", (1, 1, 1))
        self.every = ctx.spec.probes.images_every if hasattr(ctx.spec.data, "example_shape") else 0
        self.sequence = len(example) == 2
        self.sides = (1, example[1]) if self.sequence else (example[1], example[2])  # height, width
        layers = zip(ctx.model.layer_names(), ctx.model.linears(), strict=False)
        self.convs = [(name, layer) for name, layer in layers if isinstance(layer, torch.nn.Conv1d | torch.nn.Conv2d)]
        self.examples = ctx.probe_x[:EXAMPLES_SHOWN]
        self.truth = ctx.probe_y[:EXAMPLES_SHOWN].tolist()  # once, at set-up

    def collect(self, ctx: ProbeContext) -> dict[str, torch.Tensor]:
        out = {"inputs": self.examples, "predicted": ctx.probe_logits()[:EXAMPLES_SHOWN].argmax(1)}
        maps = ctx.probe_outputs()
        for index, (name, layer) in enumerate(self.convs):
            out[f"kernels/{name}"] = layer.weight.detach().mean(dim=1)  # out channels x (k | k x k)
            out[f"maps/{name}"] = maps[index][0]  # channels x (length | h x w) of the first probe example
        return out

    def events(self, step: int, fetched: Fetched) -> list[dict[str, Any]]:
        height, width = self.sides
        inputs = fetched["inputs"].reshape(len(self.truth), height, width)
        captions = [f"{truth} → {int(p)}" for truth, p in zip(self.truth, fetched["predicted"], strict=True)]
        events = [images_event(step, "inputs", inputs, captions, self.sequence)]
        for tag, array in fetched.items():
            if tag.startswith(("kernels/", "maps/")):
                events.append(images_event(step, tag, array[None] if self.sequence else array, None, self.sequence))
        return events


def images_event(
    step: int, tag: str, images: np.ndarray, captions: list[str] | None = None, sequence: bool = False
) -> dict[str, Any]:
    n, height, width = images.shape
    event = {"type": "images", "step": step, "tag": tag, "n": n, "height": height, "width": width}
    return {**event, "pixels": b64(images), "captions": captions or [], "sequence": sequence}


class Confusion(Probe):
    """Classes: how often each true class was predicted as each class, on the probe set (eval mode)."""

    def __init__(self, ctx: ProbeContext) -> None:
        self.classes = getattr(ctx.spec.data, "n_outputs", 0) if ctx.probe_y.dtype == torch.int64 else 0
        self.every = ctx.spec.probes.confusion_every if self.classes > 1 else 0

    def collect(self, ctx: ProbeContext) -> dict[str, torch.Tensor]:
        predicted = ctx.probe_logits().argmax(1)
        pairs = ctx.probe_y * self.classes + predicted
        return {"counts": torch.bincount(pairs, minlength=self.classes**2).reshape(self.classes, self.classes)}

    def events(self, step: int, fetched: Fetched) -> list[dict[str, Any]]:
        return [{"type": "confusion", "step": step, "counts": fetched["counts"].astype(int).tolist()}]


class System(Probe):
    """Throughput since the last sample, and device memory and utilization on a GPU."""

    def __init__(self, ctx: ProbeContext) -> None:
        self.every = ctx.spec.probes.system_every
        self.batch = ctx.spec.optim.batch_size
        self.device = ctx.probe_x.device
        self._last: tuple[int, float] | None = None

    def events(self, step: int, fetched: Fetched) -> list[dict[str, Any]]:
        now = time.perf_counter()
        event: dict[str, Any] = {"type": "system", "step": step, "device": str(self.device)}
        if self._last is not None and now > self._last[1]:
            steps_per_s = (step - self._last[0]) / (now - self._last[1])
            event.update(steps_per_s=steps_per_s, samples_per_s=steps_per_s * self.batch)
        self._last = (step, now)
        if self.device.type == "cuda":
            event["gpu_name"] = torch.cuda.get_device_name(self.device)
            event["gpu_memory_mb"] = torch.cuda.memory_allocated(self.device) / 2**20
            event["gpu_memory_peak_mb"] = torch.cuda.max_memory_allocated(self.device) / 2**20
            with contextlib.suppress(Exception):  # needs NVML (pynvml); absent on some machines
                event["gpu_utilization"] = float(torch.cuda.utilization(self.device))
        return [event]


class Telemetry:
    """Runs the probes that want a step and fetches all their tensors in one device-to-host transfer."""

    def __init__(self, ctx: ProbeContext) -> None:
        self.ctx = ctx
        self.min_interval_s = ctx.spec.probes.min_interval_s
        self._last_sample: dict[int, float] = {}  # probe index -> monotonic time of its last sample
        probes: list[Probe] = [Histograms(ctx), LayerStats(ctx), Embedding(ctx), System(ctx)]
        probes += [Pictures(ctx), Confusion(ctx)]
        if ctx.plane is not None:
            probes.append(Boundary(ctx))
        probes.append(Network(ctx))
        self.probes = [p for p in probes if p.every > 0]
        self._active: list[Probe] = []
        self._next_due: float = 1  # the next step any probe samples on (the first and last always)

    def before_forward(self, step: int, last: bool = False) -> None:
        if step < self._next_due and not last:  # most steps: one comparison, no probe asked
            return
        self._next_due = min((step // p.every + 1) * p.every for p in self.probes) if self.probes else math.inf
        now = time.monotonic()
        self._active = []
        for index, probe in enumerate(self.probes):
            if not probe.wants(step, last):
                continue
            recent = now - self._last_sample.get(index, -math.inf) < self.min_interval_s
            if recent and step != 1 and not last:
                continue
            self._last_sample[index] = now
            self._active.append(probe)
        for probe in self._active:
            probe.arm(self.ctx)

    def after_backward(self, step: int, emit: Emit) -> None:
        if not self._active:
            return
        self.ctx.new_step()
        wanted = [(probe, probe.collect(self.ctx)) for probe in self._active]
        tensors = [t for _, parts in wanted for t in parts.values()]
        host = np.empty(0)
        if tensors:
            # the one device-to-host transfer of this step
            host = torch.cat([t.detach().reshape(-1).double() for t in tensors]).cpu().numpy()
        start = 0
        for probe, parts in wanted:
            fetched: Fetched = {}
            for key, tensor in parts.items():
                fetched[key] = host[start : start + tensor.numel()].reshape(tuple(tensor.shape))
                start += tensor.numel()
            for event in probe.events(step, fetched):
                emit(event)
        self._active = []

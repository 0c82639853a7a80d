"""The probes of image and sequence data and of classes: examples with their predictions, a CNN's
kernels and feature maps, and the confusion matrix."""

from __future__ import annotations

import numpy as np
import torch

from trainscope.schemas import ConfusionEvent, EventBase, ImagesEvent
from trainscope.training.probes.base import Fetched, Probe, ProbeContext, b64

EXAMPLES_SHOWN = 16  # input examples drawn with their predictions
# the taps that are images of the data's shape, and the tag of their images event: a reconstruction of
# each example shown, what a generative kind makes of codes of its own (a sample, an interpolation), or
# the centres k-means found
IMAGE_TAPS = {
    "reconstruction": "reconstructions",
    "samples": "samples",
    "interpolation": "interpolation",
    "centroids": "centroids",
    "grid": "grid",  # decodings of a square grid of codes over a 2-number code's plane
}
PER_EXAMPLE = {"reconstruction"}  # one image per probe example: only those of the examples shown


class Pictures(Probe):
    """Image or sequence data: the first probe examples with their true class, and what the kind makes of
    them: a classifier's predicted class (its `logits` tap), an autoencoder's reconstruction (its
    `reconstruction` tap, as images of their own). A CNN also: each convolution's kernels (averaged over
    its input channels) and the first probe example's feature maps after each convolution. An image CNN's
    kernels and maps are one small image per channel; a sequence CNN's are one image each, a row per
    channel, drawn under the example's line."""

    field = "images_every"

    def __init__(self, ctx: ProbeContext) -> None:
        example: tuple[int, ...] = getattr(ctx.spec.data, "example_shape", (1, 1, 1))
        self.every = ctx.spec.probes.images_every if hasattr(ctx.spec.data, "example_shape") else 0
        self.sequence = len(example) == 2
        self.sides = (1, example[1]) if self.sequence else (example[1], example[2])  # height, width
        network = ctx.network
        layers = zip(network.layer_names(), network.linears(), strict=False) if network is not None else []
        self.convs = [(name, layer) for name, layer in layers if isinstance(layer, torch.nn.Conv1d | torch.nn.Conv2d)]
        self.examples = ctx.probe_x[:EXAMPLES_SHOWN]
        self.truth = ctx.probe_y[:EXAMPLES_SHOWN].tolist()  # once, at set-up
        self.taps = ctx.offered()

    def collect(self, ctx: ProbeContext) -> dict[str, torch.Tensor]:
        out = {"inputs": self.examples}
        if "logits" in self.taps:
            out["predicted"] = ctx.probe_logits()[:EXAMPLES_SHOWN].argmax(1)
        for tap, tag in IMAGE_TAPS.items():
            if tap in self.taps:
                images = ctx.probe_taps()[tap]
                out[tag] = images[:EXAMPLES_SHOWN] if tap in PER_EXAMPLE else images
        maps = ctx.probe_outputs()
        for index, (name, layer) in enumerate(self.convs):
            out[f"kernels/{name}"] = layer.weight.detach().mean(dim=1)  # out channels x (k | k x k)
            out[f"maps/{name}"] = maps[index][0]  # channels x (length | h x w) of the first probe example
        return out

    def events(self, step: int, fetched: Fetched) -> list[EventBase]:
        height, width = self.sides
        inputs = fetched["inputs"].reshape(len(self.truth), height, width)
        captions = [str(truth) for truth in self.truth]
        if "predicted" in fetched:
            captions = [f"{truth} → {int(p)}" for truth, p in zip(self.truth, fetched["predicted"], strict=True)]
        events: list[EventBase] = [images_event(step, "inputs", inputs, captions, self.sequence)]
        for tag in IMAGE_TAPS.values():
            if tag in fetched:
                images = fetched[tag].reshape(len(fetched[tag]), height, width)
                events.append(images_event(step, tag, images, None, self.sequence))
        for tag, array in fetched.items():
            if tag.startswith(("kernels/", "maps/")):
                events.append(images_event(step, tag, array[None] if self.sequence else array, None, self.sequence))
        return events


def images_event(
    step: int, tag: str, images: np.ndarray, captions: list[str] | None = None, sequence: bool = False
) -> ImagesEvent:
    n, height, width = images.shape
    pixels, captions = b64(images), captions or []
    return ImagesEvent(
        step=step, tag=tag, n=n, height=height, width=width, pixels=pixels, captions=captions, sequence=sequence
    )


class Confusion(Probe):
    """Classes: how often each true class was predicted as each class, on the probe set (eval mode)."""

    field = "confusion_every"

    def __init__(self, ctx: ProbeContext) -> None:
        self.classes = getattr(ctx.spec.data, "n_outputs", 0) if ctx.probe_y.dtype == torch.int64 else 0
        self.every = ctx.spec.probes.confusion_every if self.classes > 1 else 0
        self.validation = ctx.probe_validation

    def collect(self, ctx: ProbeContext) -> dict[str, torch.Tensor]:
        predicted = ctx.probe_logits().argmax(1)
        pairs = ctx.probe_y * self.classes + predicted
        return {"counts": torch.bincount(pairs, minlength=self.classes**2).reshape(self.classes, self.classes)}

    def events(self, step: int, fetched: Fetched) -> list[EventBase]:
        counts = fetched["counts"].astype(int).tolist()
        return [ConfusionEvent(step=step, counts=counts, validation=self.validation)]

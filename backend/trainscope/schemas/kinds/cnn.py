"""CNNs: convolutions over images (cnn2d, on digits) or sequences (cnn1d, on MNIST-1D), then an MLP head."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal

from pydantic import Field

from trainscope.schemas.data import Strict
from trainscope.schemas.errors import SpecError, at_most
from trainscope.schemas.kinds.mlp import Activation, LayerCounter, NetSpec, hidden_rules, hidden_tap_rules
from trainscope.schemas.registry import Layer, ModelKind, Words

if TYPE_CHECKING:
    from trainscope.config import Limits
    from trainscope.schemas.spec import JobSpec


class ConvLayer(Strict):
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


class ConvNetSpec(NetSpec):
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


def cnn_layers(model: ConvNetSpec, data: Any) -> list[Layer]:
    example = getattr(data, "example_shape", None)
    if example is None or len(example) != model.dims + 1:
        return []  # not the data this model convolves: refused by the registry's pairing rule
    counter, channels = LayerCounter(model), example[0]
    for i, conv in enumerate(model.conv):
        counter.add(f"conv{i + 1}", [conv.kernel] * model.dims + [channels, conv.channels], conv.channels)
        channels = conv.channels
    fan_in = math.prod(max(side, 0) for side in model.feature_shape(example))
    return counter.dense(fan_in, data.n_outputs, "fc")


def cnn_rules(spec: JobSpec, limits: Limits) -> list[SpecError]:
    """Convolutions must leave at least one position, each at most max_width channels; the one-off
    analyses written for an MLP's matrices are not for it."""
    model, example = spec.model, getattr(spec.data, "example_shape", None)
    assert isinstance(model, ConvNetSpec)
    if example is None or len(example) != model.dims + 1:
        return []  # the pairing rule says what data it needs
    errors = hidden_rules(spec, limits) + hidden_tap_rules(spec, len(model.conv) + len(model.hidden))
    errors += [
        at_most(("model", "conv", i, "channels"), limits.max_width, " channels")
        for i, conv in enumerate(model.conv)
        if conv.channels > limits.max_width
    ]
    size = min(example[1:])
    for i, conv in enumerate(model.conv):
        size = conv.out_size(size)
        if size < 1:
            message = f"the input is used up before this layer's output ({size} positions): less stride or pooling"
            errors.append(SpecError(("model", "conv", i), message, "image_used_up"))
            break
    for name in ("gradient_check", "linear_collapse", "bn_modes"):
        if getattr(spec.probes, name):
            errors.append(SpecError(("probes", name), "only for an mlp model", "only_mlp"))
    return errors


def cnn(spec: type[ConvNetSpec], data: str, en: Words, ko: Words) -> ModelKind:
    return ModelKind(
        spec,
        task="trainscope.training.tasks.supervised:SupervisedTask",
        data_parallel=True,
        lockstep=True,
        data=(data,),
        layers=cnn_layers,
        rules=cnn_rules,
        taps=("layers", "matrices", "hidden", "logits"),  # matrices: its panel says where its kernels are
        views=("parameters",),
        words={"en": en, "ko": ko},
    )


KINDS = [
    cnn(
        CNN2DSpec,
        "digits",
        Words("CNN (images)", "filters that slide over an image: a stroke is found wherever it is"),
        Words("CNN (이미지)", "이미지 위를 미끄러지는 필터: 획이 어디에 있든 찾습니다"),
    ),
    cnn(
        CNN1DSpec,
        "mnist1d",
        Words("CNN (sequences)", "filters that slide along a sequence"),
        Words("CNN (시퀀스)", "시퀀스를 따라 미끄러지는 필터"),
    ),
]

"""The autoencoder: an encoder to a latent code of `latent` numbers and a mirrored decoder back to the
input, trained to reproduce it (no labels; a digit's class only colours its code). With the identity
activation it is linear, and its best is the subspace PCA finds."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import Field

from trainscope.schemas.errors import SpecError, at_most
from trainscope.schemas.kinds.cnn import ConvLayer
from trainscope.schemas.kinds.mlp import Activation, LayerCounter, NetSpec, hidden_rules
from trainscope.schemas.registry import Layer, ModelKind, Words

if TYPE_CHECKING:
    from trainscope.config import Limits
    from trainscope.schemas.spec import JobSpec


class CodingSpec(NetSpec):
    """What an autoencoder and a VAE share: a code between a dense encoder and its mirror."""

    latent: int = Field(8, ge=1, le=256, description="numbers in the code between encoder and decoder")
    hidden: list[Annotated[int, Field(ge=1)]] = Field(
        default_factory=lambda: [64], description="the encoder's hidden widths; the decoder mirrors them"
    )
    activation: Activation = "relu"
    loss: Literal["mse", "bce"] = Field(
        "mse",
        description="mse: squared error of a linear output; bce: binary cross-entropy of a sigmoid output "
        "(pixels in [0, 1] read as probabilities)",
    )


class AutoencoderSpec(CodingSpec):
    kind: Literal["autoencoder"] = "autoencoder"
    conv: list[ConvLayer] = Field(
        default_factory=list,
        max_length=4,
        description="convolutions before the dense encoder, without pooling (a stride of 2 halves the image); "
        "the decoder mirrors them with transposed convolutions back to the image",
    )


@dataclass(frozen=True)
class ConvStage:
    """A convolution of the encoder and the transposed one that undoes it in the decoder: channels in and
    out, the image side before and after, and the output padding that brings the side back exactly."""

    layer: ConvLayer
    channels_in: int
    side_in: int
    side_out: int

    @property
    def output_padding(self) -> int:
        layer = self.layer
        return self.side_in - ((self.side_out - 1) * layer.stride - 2 * layer.padding + layer.kernel)


def conv_stages(model: AutoencoderSpec, example: tuple[int, ...]) -> list[ConvStage]:
    channels, side, stages = example[0], example[1], []
    for layer in model.conv:
        stages.append(ConvStage(layer, channels, side, layer.out_size(side)))
        channels, side = layer.channels, layer.out_size(side)
    return stages


def dense_inputs(model: AutoencoderSpec, data: Any) -> int:
    """What the dense encoder sees: the pixels, or the last convolution's maps flattened."""
    stages = conv_stages(model, data.example_shape)
    return stages[-1].layer.channels * stages[-1].side_out ** 2 if stages else int(data.in_features)


def widths(model: CodingSpec, inputs: int, convolved: bool = False) -> list[tuple[str, int, int]]:
    """Each dense layer's name, inputs and outputs: the encoder, the code, the decoder, the output (after
    convolutions, the decoder's last dense layer makes the maps the transposed convolutions start from)."""
    encoder = [inputs, *model.hidden, model.latent]
    decoder = [model.latent, *reversed(model.hidden), inputs]
    names = [f"enc{i + 1}" for i in range(len(model.hidden))] + ["latent"]
    names += [f"dec{i + 1}" for i in range(len(model.hidden))] + ["maps" if convolved else "output"]
    pairs = [*itertools.pairwise(encoder), *itertools.pairwise(decoder)]
    return [(name, fan_in, fan_out) for name, (fan_in, fan_out) in zip(names, pairs, strict=True)]


def autoencoder_layers(model: AutoencoderSpec, data: Any) -> list[Layer]:
    counter, stages = LayerCounter(model), conv_stages(model, data.example_shape)
    for i, stage in enumerate(stages):
        k = stage.layer.kernel
        counter.add(f"conv{i + 1}", [k, k, stage.channels_in, stage.layer.channels], stage.layer.channels)
    for name, fan_in, fan_out in widths(model, dense_inputs(model, data), bool(stages)):
        counter.add(name, [fan_in, fan_out], fan_out)
    for i, stage in reversed(list(enumerate(stages))):
        k = stage.layer.kernel
        name = "output" if i == 0 else f"deconv{i}"
        counter.add(name, [k, k, stage.layer.channels, stage.channels_in], stage.channels_in)
    return counter.layers


def autoencoder_rules(spec: JobSpec, limits: Limits) -> list[SpecError]:
    model = spec.model
    assert isinstance(model, CodingSpec)
    errors = hidden_rules(spec, limits)
    for name in ("batch_norm", "dropout"):
        if getattr(model, name):
            errors.append(SpecError(("model", name), "an autoencoder here has none", "not_for_autoencoder"))
    if model.latent > limits.max_width:
        errors.append(at_most(("model", "latent"), limits.max_width))
    example = getattr(spec.data, "example_shape", (1, 1, 1))
    stages: list[ConvStage] = conv_stages(model, example) if isinstance(model, AutoencoderSpec) else []  # a VAE: none
    for i, stage in enumerate(stages):
        loc = ("model", "conv", i)
        if stage.layer.pool != "none":
            errors.append(
                SpecError((*loc, "pool"), "an autoencoder's convolutions pool nothing", "not_for_autoencoder")
            )
        elif stage.side_out < 1:
            errors.append(SpecError(loc, f"leaves no image: {stage.side_in} pixels a side came in", "conv_too_deep"))
        elif not 0 <= stage.output_padding < stage.layer.stride:
            message = f"cannot be undone exactly from {stage.side_out} back to {stage.side_in} pixels"
            errors.append(SpecError(loc, message, "conv_not_invertible"))
        if stage.layer.channels > limits.max_width:
            errors.append(at_most((*loc, "channels"), limits.max_width))
    return errors


KINDS = [
    ModelKind(
        AutoencoderSpec,
        task="trainscope.training.tasks.autoencoder:AutoencoderTask",
        data_parallel=True,
        lockstep=True,
        data=("digits",),
        layers=autoencoder_layers,
        rules=autoencoder_rules,
        taps=("layers", "matrices", "hidden", "latent", "reconstruction", "samples"),
        views=("parameters",),
        words={
            "en": Words("Autoencoder", "squeezes each input through a small code and rebuilds it"),
            "ko": Words("오토인코더", "입력을 작은 코드로 압축했다가 다시 복원합니다"),
        },
    )
]

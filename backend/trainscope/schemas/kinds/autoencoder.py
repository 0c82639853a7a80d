"""The autoencoder: an encoder to a latent code of `latent` numbers and a mirrored decoder back to the
input, trained to reproduce it (no labels; a digit's class only colours its code). With the identity
activation it is linear, and its best is the subspace PCA finds."""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import Field

from trainscope.schemas.errors import SpecError, at_most
from trainscope.schemas.kinds.mlp import Activation, LayerCounter, NetSpec, hidden_rules
from trainscope.schemas.registry import Layer, ModelKind, Words

if TYPE_CHECKING:
    from trainscope.config import Limits
    from trainscope.schemas.spec import JobSpec


class AutoencoderSpec(NetSpec):
    kind: Literal["autoencoder"] = "autoencoder"
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


def widths(model: AutoencoderSpec, inputs: int) -> list[tuple[str, int, int]]:
    """Each weighted layer's name, inputs and outputs: the encoder, the code, the decoder, the output."""
    encoder = [inputs, *model.hidden, model.latent]
    decoder = [model.latent, *reversed(model.hidden), inputs]
    names = [f"enc{i + 1}" for i in range(len(model.hidden))] + ["latent"]
    names += [f"dec{i + 1}" for i in range(len(model.hidden))] + ["output"]
    pairs = [*itertools.pairwise(encoder), *itertools.pairwise(decoder)]
    return [(name, fan_in, fan_out) for name, (fan_in, fan_out) in zip(names, pairs, strict=True)]


def autoencoder_layers(model: AutoencoderSpec, data: Any) -> list[Layer]:
    counter = LayerCounter(model)
    for name, fan_in, fan_out in widths(model, data.in_features):
        counter.add(name, [fan_in, fan_out], fan_out)
    return counter.layers


def autoencoder_rules(spec: JobSpec, limits: Limits) -> list[SpecError]:
    model = spec.model
    assert isinstance(model, AutoencoderSpec)
    errors = hidden_rules(spec, limits)
    for name in ("batch_norm", "dropout"):
        if getattr(model, name):
            errors.append(SpecError(("model", name), "an autoencoder here has none", "not_for_autoencoder"))
    if model.latent > limits.max_width:
        errors.append(at_most(("model", "latent"), limits.max_width))
    return errors


KINDS = [
    ModelKind(
        AutoencoderSpec,
        task="trainscope.training.tasks.autoencoder:AutoencoderTask",
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

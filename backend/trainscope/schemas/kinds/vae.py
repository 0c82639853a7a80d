"""The variational autoencoder: an autoencoder whose encoder gives each input a Gaussian over codes (a
mean and a log-variance per number), trained on the reconstruction of a code drawn from it plus beta
times its KL divergence from N(0, I), so that codes drawn from N(0, I) decode to plausible inputs."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from trainscope.schemas.kinds.autoencoder import CodingSpec, autoencoder_rules, widths
from trainscope.schemas.kinds.mlp import LayerCounter
from trainscope.schemas.registry import Layer, ModelKind, Words


class VAESpec(CodingSpec):
    kind: Literal["vae"] = "vae"
    latent: int = Field(16, ge=1, le=256, description="numbers in the code; each has a mean and a variance")
    hidden: list[Annotated[int, Field(ge=1)]] = Field(
        default_factory=lambda: [256], description="the encoder's hidden widths; the decoder mirrors them"
    )
    loss: Literal["mse", "bce"] = Field(
        "bce", description="the reconstruction term, summed over an example's pixels: bce (pixels in [0, 1]) or mse"
    )
    beta: float = Field(1.0, ge=0.0, le=100.0, description="the KL term's weight (0: a noisy autoencoder)")


def vae_layers(model: VAESpec, data: Any) -> list[Layer]:
    """As an autoencoder's, but the layer into the code gives a mean and a log-variance per number."""
    counter = LayerCounter(model)
    for name, fan_in, fan_out in widths(model, data.in_features):
        width = 2 * fan_out if name == "latent" else fan_out
        counter.add(name, [fan_in, width], width)
    return counter.layers


KINDS = [
    ModelKind(
        VAESpec,
        task="trainscope.training.tasks.vae:VAETask",
        data_parallel=True,
        data=("digits",),
        layers=vae_layers,
        rules=autoencoder_rules,
        taps=("layers", "hidden", "latent", "reconstruction", "samples", "interpolation", "grid"),
        views=("parameters",),
        words={
            "en": Words("VAE", "an autoencoder whose codes follow N(0, I): draw one, decode it, get a new digit"),
            "ko": Words("VAE", "코드가 N(0, I)를 따르는 오토인코더: 하나를 뽑아 복원하면 새 숫자가 나옵니다"),
        },
    )
]

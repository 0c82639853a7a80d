"""Measures of a model that codes its inputs (an autoencoder, a VAE), made once a run has finished: PCA
with the same number of components as a reference for what a code of that size can keep, and how near
real data its decodings of codes drawn from N(0, I) land (what makes a model generative)."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from trainscope.schemas.events import PCAReferenceEvent, PriorSamplesEvent
from trainscope.training.datasets import Split

Decode = Callable[[torch.Tensor], torch.Tensor]  # codes (n, k) -> reconstructed inputs (n, d), in eval mode
PRIOR_DRAWS = 500  # enough for the mean distance to settle to ~1% (its spread over seeds, measured: 0.4%)


def principal_components(x: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The training mean and the top k principal directions (k, d), by SVD of the centred data."""
    mean = x.mean(0)
    _, _, vh = torch.linalg.svd((x - mean).double(), full_matrices=False)
    return mean, vh[:k].to(x.dtype)


def largest_angle(a: torch.Tensor, b: torch.Tensor) -> float:
    """The largest principal angle, in degrees, between the column spaces of a and b (d x k each)."""
    qa, _ = torch.linalg.qr(a.double())
    qb, _ = torch.linalg.qr(b.double())
    cosines = torch.linalg.svdvals(qa.T @ qb).clamp(max=1.0)
    return math.degrees(math.acos(float(cosines.min())))


def pca_reference(
    decode: Decode, model_error: float, split: Split, k: int, linear: bool, step: int
) -> PCAReferenceEvent:
    """PCA's validation error with k components beside the model's; for a linear model also the largest
    angle between its decoded subspace (decode(I) - decode(0): one direction per code number) and PCA's."""
    mean, components = principal_components(split.x_train, k)
    rebuilt = (split.x_val - mean) @ components.T @ components + mean
    pca_error = float(((rebuilt - split.x_val) ** 2).mean())
    figures = {"pca_val_mse": pca_error, "model_val_mse": model_error, "ratio": model_error / pca_error}
    if linear:
        with torch.no_grad():
            codes = torch.cat([torch.zeros(1, k), torch.eye(k)]).to(split.x_val.device)
            decoded = decode(codes)
        figures["angle_degrees"] = largest_angle((decoded[1:] - decoded[:1]).T, components.T)
    return PCAReferenceEvent(step=step, figures=figures)


def prior_samples(decode: Decode, split: Split, k: int, seed: int, step: int) -> PriorSamplesEvent:
    """PRIOR_DRAWS codes from N(0, I) decoded: their mean distance to the nearest training example, and the
    validation examples' mean distance to theirs. Near 1 the samples look like new digits; far above, the
    decoder was never taught what those codes mean."""
    generator = torch.Generator().manual_seed(seed + 3)
    codes = torch.randn(PRIOR_DRAWS, k, generator=generator).to(split.x_train.device)
    with torch.no_grad():
        samples = decode(codes)
    sample_distance = float(torch.cdist(samples, split.x_train).min(1).values.mean())
    validation_distance = float(torch.cdist(split.x_val, split.x_train).min(1).values.mean())
    figures = {
        "sample_distance": sample_distance,
        "validation_distance": validation_distance,
        "ratio": sample_distance / validation_distance,
    }
    return PriorSamplesEvent(step=step, figures=figures)

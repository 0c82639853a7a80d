"""The measures of a coding model against references: PCA's error against scikit-learn's, subspace
angles on known subspaces, distances to the nearest example against a brute-force numpy computation;
both coding kinds report them when a run finishes, and a 2-number VAE decodes its latent grid."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch
from sklearn.decomposition import PCA

from tests.recorded import recorder
from trainscope.schemas import JobSpec
from trainscope.schemas.decode import floats
from trainscope.training.codes import PRIOR_DRAWS, largest_angle, pca_reference, prior_samples
from trainscope.training.datasets import load_split
from trainscope.training.driver import fit
from trainscope.training.tasks.vae import GRID, plane_codes

DIGITS = load_split(JobSpec.model_validate({"data": {"kind": "digits"}}).data, 0, torch.device("cpu"))  # type: ignore[arg-type]


@pytest.mark.parametrize("k", [2, 8])
def test_pca_reference_error_is_scikit_learns_and_pcas_own_decoder_is_at_zero_angle(k: int) -> None:
    reference = PCA(k).fit(DIGITS.x_train.double().numpy())
    rebuilt = reference.inverse_transform(reference.transform(DIGITS.x_val.double().numpy()))
    expected = float(((rebuilt - DIGITS.x_val.double().numpy()) ** 2).mean())
    components = torch.from_numpy(reference.components_).float()
    mean = torch.from_numpy(reference.mean_).float()

    def pca_decoder(codes: torch.Tensor) -> torch.Tensor:
        return codes @ components + mean

    event = pca_reference(pca_decoder, expected, DIGITS, k, True, 5)
    assert event.figures["pca_val_mse"] == pytest.approx(expected, rel=1e-4)
    assert event.figures["ratio"] == pytest.approx(1.0, rel=1e-4)
    assert event.figures["angle_degrees"] < 0.1
    assert "angle_degrees" not in pca_reference(pca_decoder, expected, DIGITS, k, False, 5).figures


def test_largest_angle_of_known_subspaces() -> None:
    e = torch.eye(4)
    assert largest_angle(e[:, :2], e[:, :2]) == pytest.approx(0.0, abs=1e-6)
    assert largest_angle(e[:, :2], e[:, 2:]) == pytest.approx(90.0)
    tilted = torch.stack([e[:, 0], (e[:, 1] + e[:, 2]) / 2**0.5], 1)  # one direction shared, one 45 degrees off
    assert largest_angle(e[:, :2], tilted) == pytest.approx(45.0)


def test_prior_samples_distances_are_the_nearest_examples() -> None:
    x_train, x_val = DIGITS.x_train.double().numpy(), DIGITS.x_val.double().numpy()

    def nearest_mean(points: np.ndarray) -> float:
        distances = np.sqrt(((points[:, None, :] - x_train[None, :, :]) ** 2).sum(-1))
        return float(distances.min(1).mean())

    def copies_of_training_digits(codes: torch.Tensor) -> torch.Tensor:
        return DIGITS.x_train[: len(codes)]

    exact = prior_samples(copies_of_training_digits, DIGITS, 4, 0, 1)
    assert exact.figures["sample_distance"] == pytest.approx(0.0, abs=1e-3)
    assert exact.figures["validation_distance"] == pytest.approx(nearest_mean(x_val), rel=1e-5)

    def the_mean_digit(codes: torch.Tensor) -> torch.Tensor:
        return DIGITS.x_train.mean(0).expand(len(codes), -1)

    blurred = prior_samples(the_mean_digit, DIGITS, 4, 0, 1)
    assert blurred.figures["sample_distance"] == pytest.approx(nearest_mean(x_train.mean(0, keepdims=True)), rel=1e-5)
    assert blurred.figures["ratio"] == pytest.approx(
        blurred.figures["sample_distance"] / exact.figures["validation_distance"]
    )
    assert PRIOR_DRAWS == 500


def coding_run(kind: str, latent: int, activation: str = "relu") -> list[dict[str, Any]]:
    spec = JobSpec.model_validate(
        {
            "data": {"kind": "digits"},
            "model": {"kind": kind, "latent": latent, "hidden": [32], "activation": activation},
            "optim": {"steps": 60, "batch_size": 64, "lr": 0.003},
            "probes": {"images_every": 60, "min_interval_s": 0},
        }
    )
    events: list[dict[str, Any]] = []
    assert fit(spec, recorder(events)).status == "done"
    return events


@pytest.mark.parametrize("kind", ["autoencoder", "vae"])
def test_both_coding_kinds_report_pca_and_their_prior_samples_when_they_finish(kind: str) -> None:
    events = coding_run(kind, 4, "identity" if kind == "autoencoder" else "relu")
    analyses = {e["name"]: e for e in events if e["type"] == "analysis"}
    pca, samples = analyses["pca_reference"], analyses["prior_samples"]
    assert pca["step"] == samples["step"] == 60
    assert pca["figures"]["model_val_mse"] > pca["figures"]["pca_val_mse"] > 0  # 60 steps: not PCA's yet
    assert ("angle_degrees" in pca["figures"]) == (kind == "autoencoder")  # a linear model's subspace only
    assert samples["figures"]["ratio"] > 0


def test_a_two_number_vae_decodes_a_grid_over_its_code_plane() -> None:
    codes = plane_codes(torch.device("cpu"))
    assert codes.shape == (GRID * GRID, 2)
    assert codes[0].tolist() == pytest.approx([-1.6449, 1.6449], abs=1e-4)  # the top left: x low, y high
    assert codes[-1].tolist() == pytest.approx([1.6449, -1.6449], abs=1e-4)
    grids = [e for e in coding_run("vae", 2) if e["type"] == "images" and e["tag"] == "grid"]
    assert grids and grids[-1]["n"] == GRID * GRID and grids[-1]["height"] == 8
    assert floats(grids[-1]["pixels"]).min() >= 0  # sigmoid outputs: pixels in [0, 1]
    assert not [e for e in coding_run("vae", 4) if e["type"] == "images" and e["tag"] == "grid"]

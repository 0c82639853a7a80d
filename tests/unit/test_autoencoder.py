"""The autoencoder kind: the linear one finds PCA's subspace, its parameters count as the formula says, its
probes show the code and the reconstructions, and its rules refuse what it does not have."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from scipy.linalg import subspace_angles
from sklearn.decomposition import PCA

from tests.recorded import recorder
from trainscope.config import Limits
from trainscope.schemas import JobSpec, spec_errors
from trainscope.schemas.decode import floats
from trainscope.training.datasets import load_split
from trainscope.training.driver import Driver, EmitPolicy, NoControl, fit

CPU = torch.device("cpu")


def autoencoder(model: dict[str, Any], **optim: Any) -> JobSpec:
    settings = {"steps": 300, "lr": 0.01, "batch_size": 128, **optim}
    return JobSpec.model_validate(
        {"data": {"kind": "digits"}, "model": {"kind": "autoencoder", **model}, "optim": settings}
    )


def test_a_linear_autoencoder_finds_the_subspace_and_the_error_of_pca() -> None:
    spec = autoencoder({"latent": 4, "hidden": [], "activation": "identity"}, steps=1500, eval_every=1500)
    run = Driver(spec, lambda event: None, NoControl(), EmitPolicy())
    result = run.run()
    split = load_split(spec.data, spec.seed, CPU)  # type: ignore[arg-type]
    pca = PCA(4).fit(split.x_train.numpy())
    rebuilt = pca.inverse_transform(pca.transform(split.x_val.numpy()))
    pca_error = float(((rebuilt - split.x_val.numpy()) ** 2).mean())
    # measured on seed 0: 1.006x PCA's error (latent 2: 1.014x, latent 8: 1.002x)
    assert pca_error <= result.summary["val/loss"] <= 1.05 * pca_error
    decoder = run.task.model.linears()[-1].weight.detach().numpy()  # type: ignore[operator]  # 64 x 4
    assert np.degrees(subspace_angles(decoder, pca.components_.T)).max() < 10  # the same 4-D subspace


def test_its_layers_count_as_the_formula_says_and_its_probes_show_the_code_and_the_reconstructions() -> None:
    spec = autoencoder({"latent": 2, "hidden": [32, 16], "loss": "bce"}, steps=40)
    spec.probes.min_interval_s = 0
    events: list[dict[str, Any]] = []
    result = fit(spec, recorder(events))
    assert result.status == "done" and 0 < result.summary["val/mse"] < result.summary["val/loss"]
    (table,) = [e for e in events if e["type"] == "analysis" and e["name"] == "parameters"]
    rows = table["data"]["layers"]
    assert [row["name"] for row in rows] == ["enc1", "enc2", "latent", "dec1", "dec2", "output"]
    assert all(row["by_formula"] == row["by_torch"] for row in rows)
    embedding = [e for e in events if e["type"] == "embedding"][-1]
    assert embedding["tag"] == "latent" and embedding["dims"] == 2  # a 2-number code: its own plane
    pictures = {e["tag"]: e for e in events if e["type"] == "images"}
    assert set(pictures) == {"inputs", "reconstructions", "samples"}  # samples: decodings of N(0, I) codes
    rebuilt = floats(pictures["reconstructions"]["pixels"])
    assert rebuilt.min() >= 0 and rebuilt.max() <= 1  # BCE's sigmoid: pixels, as the inputs are
    assert pictures["inputs"]["captions"][0] in {str(d) for d in range(10)}  # the class, nothing predicted
    kinds = {e["type"] for e in events}
    assert "boundary" not in kinds and "confusion" not in kinds  # no class logits to read
    assert {"histogram", "layers", "network"} <= kinds  # a network's probes, on its weighted layers


def test_what_an_autoencoder_does_not_have_is_refused_at_its_field() -> None:
    refused = autoencoder({"batch_norm": True, "latent": 200})
    assert {error.loc for error in spec_errors(refused, Limits(max_width=128))} == {
        ("model", "batch_norm"),
        ("model", "latent"),
    }
    wrong_data = JobSpec.model_validate({"model": {"kind": "autoencoder"}})  # 2-D points: no images to rebuild
    assert [error.kind for error in spec_errors(wrong_data, Limits())] == ["data_pairing"]

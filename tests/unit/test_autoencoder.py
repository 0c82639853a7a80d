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
from trainscope.training.control import EmitPolicy, NoControl
from trainscope.training.datasets import load_split
from trainscope.training.driver import Driver, fit

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


HALVING = {"channels": 8, "stride": 2, "pool": "none"}  # a 3x3 convolution of stride 2: half the side
CONVOLVED = {"kind": "autoencoder", "conv": [HALVING, HALVING], "hidden": [32], "latent": 4}


def test_a_convolutional_autoencoder_counts_as_its_formula_and_rebuilds_the_image_it_was_given() -> None:
    """8x8 digits through two stride-2 convolutions (8 -> 4 -> 2 pixels a side), a dense code of 4, then
    the transposed convolutions back to exactly 8 x 8; it learns (the validation error falls)."""
    events: list[dict[str, Any]] = []
    result = fit(autoencoder(CONVOLVED, steps=300, lr=0.003, batch_size=64), recorder(events))
    assert result.status == "done"
    table = next(e for e in events if e["type"] == "analysis" and e["name"] == "parameters")
    rows = {row["name"]: row for row in table["data"]["layers"]}
    assert list(rows) == ["conv1", "conv2", "enc1", "latent", "dec1", "maps", "deconv1", "output"]
    assert all(row["by_formula"] == row["by_torch"] for row in rows.values())
    assert rows["conv2"]["formula"] == "3·3·8·8 + 8" and rows["output"]["formula"] == "3·3·8·1 + 1"
    assert rows["maps"]["by_torch"] == 32 * 8 * 2 * 2 + 8 * 2 * 2  # back to 8 maps of 2 x 2
    pictures = {e["tag"]: e for e in events if e["type"] == "images"}
    assert (pictures["reconstructions"]["height"], pictures["reconstructions"]["width"]) == (8, 8)
    assert {"kernels/conv1", "maps/conv1"} <= set(pictures)  # its convolutions drawn as a CNN's are
    points = [p["values"] for e in events if e["type"] == "scalars" for p in e["points"]]
    losses = [values["val/loss"] for values in points if "val/loss" in values]
    assert losses[-1] < 0.6 * losses[0]


def test_a_convolutional_autoencoder_refuses_pooling_and_an_image_it_cannot_rebuild() -> None:
    pooled = {**CONVOLVED, "conv": [{"channels": 8, "stride": 2, "pool": "max"}]}
    assert [(e.loc, e.kind) for e in spec_errors(autoencoder(pooled), Limits())] == [
        (("model", "conv", 0, "pool"), "not_for_autoencoder")
    ]
    too_wide = {**CONVOLVED, "conv": [{"channels": 8, "kernel": 9, "padding": 0, "pool": "none"}]}
    assert [(e.loc, e.kind) for e in spec_errors(autoencoder(too_wide), Limits())] == [
        (("model", "conv", 0), "conv_too_deep")
    ]

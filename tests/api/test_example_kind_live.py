"""A model kind from another distribution (examples/trainscope-polynomial), installed beside Trainscope by
pip, runs through a live server: listed with its words, its specs checked, trained, stored and streamed,
with no file of the package edited."""

from __future__ import annotations

import json

from tests.conftest import EXAMPLE_KIND
from tests.live import LiveServer, assert_gap_free, watch


def test_a_kind_from_another_distribution_is_listed_checked_trained_and_streamed(
    polynomial_server: LiveServer,
) -> None:
    server = polynomial_server
    meta = server.get("/api/meta").json()
    assert "polynomial" in meta["choices"]["model.kind"] and "curve" in meta["choices"]["data.kind"]
    polynomial = meta["kinds"]["model"]["polynomial"]
    assert polynomial["source"] == "trainscope-polynomial" and polynomial["data"] == ["curve"]
    assert polynomial["words"]["ko"]["name"] == "다항식"
    assert meta["kinds"]["model"]["mlp"]["source"] == "trainscope"

    wrong_data = server.post("/api/jobs", {"model": {"kind": "polynomial"}})
    assert wrong_data.status_code == 422
    (error,) = wrong_data.json()["detail"]
    assert error["loc"] == ["body", "model", "kind"] and error["type"] == "data_pairing"
    too_high = server.post("/api/jobs", {"data": {"kind": "curve"}, "model": {"kind": "polynomial", "degree": 99}})
    assert too_high.status_code == 422 and too_high.json()["detail"][0]["loc"][-1] == "degree"

    spec = json.loads((EXAMPLE_KIND / "spec.json").read_text())
    job = server.submit(spec)
    streamed = watch(server.ws_url, job["id"], timeout=180).events  # the socket closes when the job ends
    assert_gap_free(streamed)
    assert server.job(job["id"])["status"] == "done"
    assert streamed == server.stored_events(job["id"])
    points = [p["values"] for e in streamed if e["type"] == "scalars" for p in e["points"]]
    assert {"train/loss", "weights/norm", "val/loss", "lr"} <= {tag for values in points for tag in values}
    validation = [values["val/loss"] for values in points if "val/loss" in values]
    # from zero weights to the noise's own level (0.05 squared): the polynomial learned the cubic
    assert validation[-1] < 2 * 0.05**2 < points[0]["train/loss"] / 5

"""A table of invalid specs, each answered 422 naming the field, by a live server."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from tests.live import LiveServer

INVALID: list[tuple[dict[str, Any], list[str | int]]] = [
    ({"data": {"dataset": "swirl"}}, ["body", "data", "points2d", "dataset"]),
    ({"data": {"kind": "images"}}, ["body", "data"]),
    ({"data": {"noise": -0.1}}, ["body", "data", "points2d", "noise"]),
    ({"data": {"n_points": 5}}, ["body", "data", "points2d", "n_points"]),
    ({"data": {"n_points": 10**6}}, ["body", "data", "n_points"]),
    ({"data": {"val_fraction": 0.99}}, ["body", "data", "points2d", "val_fraction"]),
    ({"model": {"hidden": "8,8"}}, ["body", "model", "mlp", "hidden"]),  # a list, not the form's text
    ({"model": {"hidden": [0]}}, ["body", "model", "mlp", "hidden", 0]),
    ({"model": {"hidden": [8] * 40}}, ["body", "model", "hidden"]),
    ({"model": {"hidden": [8, 5000]}}, ["body", "model", "hidden", 1]),
    ({"model": {"hidden": [1024, 1024, 1024]}}, ["body", "model"]),  # too many parameters
    ({"model": {"activation": "swish"}}, ["body", "model", "mlp", "activation"]),
    ({"model": {"dropout": 1.0}}, ["body", "model", "mlp", "dropout"]),
    ({"optim": {"optimizer": "lbfgs"}}, ["body", "optim", "optimizer"]),
    ({"optim": {"lr": 0}}, ["body", "optim", "lr"]),
    ({"optim": {"lr": 1e5}}, ["body", "optim", "lr"]),
    ({"optim": {"batch_size": 0}}, ["body", "optim", "batch_size"]),
    ({"optim": {"batch_size": 400}}, ["body", "optim", "batch_size"]),  # > the 350 training examples
    ({"optim": {"steps": 10**7}}, ["body", "optim", "steps"]),
    ({"optim": {"steps": 10, "eval_every": 20}}, ["body", "optim", "eval_every"]),
    ({"optim": {"weight_decay": -1}}, ["body", "optim", "weight_decay"]),
    ({"device": "tpu"}, ["body", "device"]),
    ({"seed": -1}, ["body", "seed"]),
    ({"probes": {"histogram_bins": 10_000}}, ["body", "probes", "histogram_bins"]),
    ({"surprise": 1}, ["body", "surprise"]),
    ({"data": {"kind": "surface"}}, ["body", "model", "kind"]),  # surface data needs a params2d model
    ({"data": {"offset": [99, 0]}}, ["body", "data", "points2d", "offset", 0]),
    ({"data": {"val_fraction": 0.5, "test_fraction": 0.5}}, ["body", "data"]),  # no training examples left
    ({"model": {"kind": "params2d", "start": [0, 1e9]}}, ["body", "model", "params2d", "start", 1]),
    ({"data": {"features": ["x1", "x3"]}}, ["body", "data", "points2d", "features", 1]),
    ({"model": {"kind": "cnn2d"}}, ["body", "model", "kind"]),  # a CNN needs images
    ({"probes": {"unroll_conv": True}}, ["body", "probes", "unroll_conv"]),  # only a CNN has one
    ({"optim": {"optimizer": "random_search"}}, ["body", "optim", "optimizer"]),  # only on a surface problem
    (
        {"data": {"kind": "surface", "objective": "beale", "dims": 3}, "model": {"kind": "params2d"}},
        ["body", "data", "dims"],  # only regression has more than 2 weights
    ),
    ({"data": {"kind": "digits", "canvas": 16, "shift": 5}}, ["body", "data", "shift"]),  # off a 16-pixel canvas
    ({"data": {"kind": "digits", "canvas": 40}}, ["body", "data", "digits", "canvas"]),
    (
        {"data": {"kind": "digits"}, "model": {"kind": "cnn2d", "conv": [{"stride": 4}, {"stride": 4}]}},
        ["body", "model", "conv", 1],
    ),  # the 8x8 image is used up
    (
        {"data": {"kind": "digits"}, "model": {"kind": "cnn2d", "conv": [{"kernel": 10}]}},
        ["body", "model", "cnn2d", "conv", 0, "kernel"],
    ),
    (
        {"data": {"kind": "digits"}, "model": {"kind": "cnn2d", "conv": [{"channels": 5000}]}},
        ["body", "model", "conv", 0, "channels"],
    ),
    (
        {"data": {"kind": "digits"}, "model": {"kind": "cnn2d"}, "probes": {"gradient_check": True}},
        ["body", "probes", "gradient_check"],
    ),
    ({"data": {"kind": "digits"}, "model": {"kind": "cnn1d"}}, ["body", "model", "kind"]),  # needs sequences
    ({"data": {"kind": "mnist1d"}, "model": {"kind": "cnn2d"}}, ["body", "model", "kind"]),  # needs images
    ({"data": {"kind": "mnist1d", "samples": 50}}, ["body", "data", "mnist1d", "samples"]),
    (
        {"data": {"kind": "mnist1d"}, "model": {"kind": "cnn1d", "conv": [{"stride": 4, "pool": "max"}] * 3}},
        ["body", "model", "conv", 2],
    ),  # 40 positions used up: 10 -> 5, 2 -> 1, then nothing
    ({"data": {"features": ["x1", "x1"]}}, ["body", "data", "points2d", "features"]),
    ({"data": {"features": []}}, ["body", "data", "points2d", "features"]),
    ({"data": {"dataset": "plane"}, "probes": {"gradient_check": True}}, ["body", "probes", "gradient_check"]),
]


@pytest.mark.parametrize(("spec", "loc"), INVALID, ids=[str(loc[1:]) for _, loc in INVALID])
def test_invalid_spec_is_422_on_the_right_field(server: LiveServer, spec: dict[str, Any], loc: list[Any]) -> None:
    response = server.post("/api/jobs", spec)
    assert response.status_code == 422, response.text
    details = response.json()["detail"]
    assert loc in [d["loc"] for d in details], details
    assert all(d["msg"] for d in details)
    # a type a page can say in its own language: pydantic's, or one of ours with its figures
    assert all(d["type"] != "value_error" or "features" in d["loc"] for d in details), details


def test_our_rules_give_a_type_and_the_figures_a_message_needs(server: LiveServer) -> None:
    lr = server.post("/api/jobs", {"optim": {"lr": 1e5}}).json()["detail"][0]
    assert (lr["type"], lr["ctx"]) == ("out_of_range", {"min": 1e-6, "max": 1e4})
    batch = server.post("/api/jobs", {"optim": {"batch_size": 400}}).json()["detail"][0]
    assert (batch["type"], batch["ctx"]) == ("over_train", {"n": 350})
    steps = server.post("/api/jobs", {"optim": {"steps": 10**7}}).json()["detail"][0]
    assert steps["type"] == "less_than_equal" and steps["ctx"]["le"] < 10**7


# Raw bodies: JSON as clients may send it, with numbers JSON has no spelling for and text UTF-8 cannot carry.
RAW_INVALID: list[tuple[str, str, list[str | int]]] = [
    ("/api/jobs", '{"optim": {"lr": NaN}}', ["body", "optim", "lr"]),
    ("/api/jobs", '{"optim": {"lr": 1e999}}', ["body", "optim", "lr"]),
    ("/api/jobs", '{"data": {"noise": NaN}}', ["body", "data", "points2d", "noise"]),
    ("/api/jobs", '{"model": {"dropout": -1e999}}', ["body", "model", "mlp", "dropout"]),
    ("/api/jobs", '{"probes": {"min_interval_s": Infinity}}', ["body", "probes", "min_interval_s"]),
    ("/api/jobs", '{"data": {"offset": [NaN, 0]}}', ["body", "data", "points2d", "offset", 0]),
    ("/api/jobs", '{"optim": {"steps": 1e999}}', ["body", "optim", "steps"]),
    ("/api/jobs", '{"name": "\\ud800"}', ["body", "name"]),
    ("/api/jobs/nosuchjob/control", '{"action": "set_lr", "lr": NaN}', ["body", "set_lr", "lr"]),
    ("/api/groups", '{"grid": {"optim.lr": ' + "[" * 900 + "]" * 900 + "}}", ["body", "grid", "optim.lr", 0]),
    ("/api/groups", '{"grid": {"optim.lr": []}}', ["body", "grid", "optim.lr"]),
    ("/api/groups", '{"variations": []}', ["body"]),
    ("/api/groups", '{"name": "\\udfff"}', ["body", "name"]),
    ("/api/lessons/bias/run", '{"overrides": {"optim.lr": NaN}}', ["body", "overrides"]),
]


@pytest.mark.parametrize(("path", "body", "loc"), RAW_INVALID, ids=[f"{p} {b[:30]}" for p, b, _ in RAW_INVALID])
def test_non_finite_numbers_bad_text_and_deep_nesting_are_422(
    server: LiveServer, path: str, body: str, loc: list[Any]
) -> None:
    response = httpx.post(server.url + path, content=body, headers={"content-type": "application/json"}, timeout=10)
    assert response.status_code == 422, response.text
    details = response.json()["detail"]
    assert any(d["loc"][: len(loc)] == loc for d in details), details


def test_an_event_seq_past_any_stored_is_refused(server: LiveServer) -> None:
    job = server.submit({"optim": {"steps": 20, "eval_every": 10}})
    server.wait_status(job["id"], {"done"})
    response = server.get(f"/api/jobs/{job['id']}/events", after=10**20)
    assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["query", "after"]
    with (
        connect(f"{server.ws_url}/ws/jobs/{job['id']}?after={10**30}") as socket,
        pytest.raises(ConnectionClosed) as closed,
    ):
        socket.recv(timeout=10)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4400
    assert "past this job's last event" in closed.value.rcvd.reason


def test_a_memory_estimate_is_given_for_a_valid_spec_and_refused_at_the_field_for_an_invalid_one(
    server: LiveServer,
) -> None:
    spec = {"data": {"kind": "digits"}, "model": {"hidden": [32]}, "optim": {"optimizer": "momentum", "batch_size": 10}}
    response = server.post("/api/jobs/estimate", spec)
    assert response.status_code == 200, response.text
    parameters = (64 * 32 + 32 + 32 * 10 + 10) * 4
    per_example = (64 + 32 + 10) * 4 + 8  # the input, the hidden layer's output, log-softmax, the label
    assert response.json() == {
        "parameters": parameters,
        "gradients": parameters,
        "optimizer_state": parameters,  # momentum: one copy
        "activations": per_example * 10,
        "per_example": per_example,
        "batch": 10,
        "total": 3 * parameters + per_example * 10,
    }
    for invalid, loc in INVALID[:12]:
        refused = server.post("/api/jobs/estimate", invalid)
        assert refused.status_code == 422 and any(e["loc"] == loc for e in refused.json()["detail"]), invalid

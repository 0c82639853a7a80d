"""Groups of matched runs against a live server: planning, validation, shared starts, all-or-nothing."""

from __future__ import annotations

from typing import Any

from tests.live import LiveServer

BASE = {"seed": 3, "data": {"dataset": "moons", "n_points": 200}, "optim": {"steps": 60, "eval_every": 20}}


def first_loss(server: LiveServer, job_id: str) -> float:
    events = server.stored_events(job_id)
    value: float = next(e for e in events if e["type"] == "scalars")["points"][0]["values"]["train/loss"]
    return value


def test_variations_share_the_start_and_differ_in_one_setting(server: LiveServer) -> None:
    body = {
        "name": "rates",
        "base": BASE,
        "variations": [
            {"label": "slow", "changes": {"optim.lr": 0.001}},
            {"label": "fast", "changes": {"optim.lr": 0.1}},
        ],
    }
    response = server.post("/api/groups", body)
    assert response.status_code == 201, response.text
    group = response.json()
    assert [run["label"] for run in group["runs"]] == ["slow", "fast"]
    assert group["differs"] == ["optim.lr"] and group["verdict"] is None
    group = server.wait_group(group["id"])
    specs = [run["job"]["spec"] for run in group["runs"]]
    assert [s["optim"]["lr"] for s in specs] == [0.001, 0.1]
    assert all(s["seed"] == 3 and s["data"]["n_points"] == 200 for s in specs)
    assert all(run["job"]["status"] == "done" for run in group["runs"])
    # same seed, same initial weights, same data, same first batch: the first loss is identical
    slow, fast = (first_loss(server, run["job_id"]) for run in group["runs"])
    assert slow == fast


def initial_weights(server: LiveServer, job_id: str) -> list[str]:
    """Each layer's weights in the network event of step 1 (sampled after backward, before the update)."""
    network = next(e for e in server.stored_events(job_id) if e["type"] == "network")
    assert network["step"] == 1
    return [layer["weights"] for layer in network["layers"]]


def test_a_grid_expands_to_every_combination_from_one_start(server: LiveServer) -> None:
    body = {"base": BASE, "grid": {"model.activation": ["relu", "tanh"], "model.bias": [True, False]}}
    group = server.post("/api/groups", body).json()
    combos = [(r["changes"]["model.activation"], r["changes"]["model.bias"]) for r in group["runs"]]
    assert combos == [("relu", True), ("relu", False), ("tanh", True), ("tanh", False)]
    assert group["differs"] == ["model.activation", "model.bias"]
    assert any(g["id"] == group["id"] for g in server.get("/api/groups").json()["groups"])
    group = server.wait_group(group["id"])
    # leaving the bias out or changing the activation does not change a single initial weight
    starts = [initial_weights(server, run["job_id"]) for run in group["runs"]]
    assert all(start == starts[0] for start in starts)
    other_seed = server.submit({**BASE, "seed": 4})
    server.wait_status(other_seed["id"], {"done"})
    assert initial_weights(server, other_seed["id"]) != starts[0]


def errors_of(response: Any) -> list[tuple[Any, ...]]:
    assert response.status_code == 422, response.text
    return [tuple(e["loc"]) for e in response.json()["detail"]]


def test_invalid_variations_are_refused_with_their_location(server: LiveServer) -> None:
    before = len(server.get("/api/jobs", limit=1000).json()["jobs"])
    body = {
        "base": BASE,
        "variations": [{"changes": {"optim.lr": 0.01}}, {"changes": {"model.activation": "swish", "optim.steps": 0}}],
    }
    locs = errors_of(server.post("/api/groups", body))
    assert ("body", "variations", 1, "changes", "model", "mlp", "activation") in locs
    assert ("body", "variations", 1, "changes", "optim", "steps") in locs
    # cross-field rules and limits too, and nothing was queued: a group is created whole or not at all
    locs = errors_of(
        server.post("/api/groups", {"base": BASE, "variations": [{"changes": {"optim.batch_size": 10**6}}]})
    )
    assert ("body", "variations", 0, "changes", "optim", "batch_size") in locs
    assert len(server.get("/api/jobs", limit=1000).json()["jobs"]) == before


def test_group_size_and_shape_are_bounded(server: LiveServer) -> None:
    grid = {"optim.lr": [0.01 * (i + 1) for i in range(41)]}  # limits.max_group_runs is 40
    assert errors_of(server.post("/api/groups", {"base": BASE, "grid": grid})) == [("body",)]
    both = {"base": BASE, "grid": {"optim.lr": [0.1]}, "variations": [{"changes": {}}]}
    assert errors_of(server.post("/api/groups", both)) == [("body", "grid")]
    assert server.get("/api/groups/nope").status_code == 404


def test_lessons_are_listed_read_and_validated(server: LiveServer) -> None:
    listing = server.get("/api/lessons").json()
    assert listing["count"] == len(listing["lessons"]) >= 11
    first = listing["lessons"][0]
    assert first["id"] == "activations" and first["runs"] == 3 and first["title"]["ko"]
    lesson = server.get("/api/lessons/bias").json()
    assert lesson["observation"]["check"] == "bias" and lesson["experiments"][0]["group"]["variations"]
    assert server.get("/api/lessons/nope").status_code == 404
    assert server.post("/api/lessons/nope/run", {}).status_code == 404
    locs = errors_of(server.post("/api/lessons/bias/run", {"overrides": {"optim.steps": -1}}))
    assert all(loc[:2] == ("body", "overrides") and loc[-2:] == ("optim", "steps") for loc in locs)

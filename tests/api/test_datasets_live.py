"""The dataset drawn before a run is the one the run then trains on; bad data settings are 422s."""

from __future__ import annotations

from typing import Any

import pytest

from tests.live import LiveServer
from trainscope.schemas.kinds.skipgram import generated_corpus

DATA = {"dataset": "moons", "n_points": 300, "noise": 0.2, "val_fraction": 0.25}


def test_the_preview_matches_the_dataset_event_of_a_job(server: LiveServer) -> None:
    response = server.post("/api/datasets/preview", {"data": DATA, "seed": 7})
    assert response.status_code == 200, response.text
    shown = response.json()
    assert len(shown["train"]["labels"]) == 225 and len(shown["val"]["labels"]) == 75
    job = server.submit({"seed": 7, "data": DATA, "optim": {"steps": 5, "eval_every": 5}})
    server.wait_status(job["id"], {"done"})
    events = server.get(f"/api/jobs/{job['id']}/events").json()["events"]
    dataset = next(e for e in events if e["type"] == "dataset")
    assert dataset["train"] == shown["train"] and dataset["val"] == shown["val"]


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"data": {"n_points": 10**6}}, ["body", "data", "n_points"]),
        ({"data": {"dataset": "swirl"}}, ["body", "data", "points2d", "dataset"]),  # the union's tag, as for jobs
        ({"data": {"features": ["x9"]}}, ["body", "data", "points2d", "features", 0]),
        ({"data": {"val_fraction": 0.5, "test_fraction": 0.5}}, ["body", "data"]),
        ({"seed": -1}, ["body", "seed"]),
    ],
)
def test_bad_preview_settings_are_422_at_their_field(server: LiveServer, body: dict[str, Any], loc: list[Any]) -> None:
    response = server.post("/api/datasets/preview", body)
    assert response.status_code == 422, response.text
    assert loc in [d["loc"] for d in response.json()["detail"]]


def test_text_data_is_shown_as_the_text_a_job_trains_on(server: LiveServer) -> None:
    """A corpus's text before a run: the generated one for the job's seed (the data's own seed winning),
    or the spec's own text as it is; data that is not text is refused at its kind."""
    assert server.get("/api/meta").json()["kinds"]["data"]["corpus"]["text"] is True
    body = {"data": {"kind": "corpus", "language": "ko", "sentences": 1000}, "seed": 4}
    assert server.post("/api/datasets/text", body).json() == {"text": generated_corpus("ko", 1000, 4)}
    body["data"]["seed"] = 9
    assert server.post("/api/datasets/text", body).json()["text"] == generated_corpus("ko", 1000, 9)
    own = {"data": {"kind": "corpus", "text": "<b>my</b> words"}}
    assert server.post("/api/datasets/text", own).json() == {"text": "<b>my</b> words"}
    refused = server.post("/api/datasets/text", {"data": {"kind": "points2d"}})
    assert refused.status_code == 422 and refused.json()["detail"][0]["type"] == "not_text"

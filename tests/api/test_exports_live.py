"""Exports on a live server: every stored point of a finished run, as CSV in long format and as JSON
Lines of its events, streamed; read back, they equal what the REST reads return."""

from __future__ import annotations

import csv
import io
import json

import httpx
import pytest

from tests.live import LiveServer

SPEC = {"data": {"dataset": "moons", "n_points": 200}, "optim": {"steps": 300, "eval_every": 50}}


@pytest.fixture(scope="module")
def finished(server: LiveServer) -> dict[str, object]:
    job = server.submit(SPEC)
    server.wait_status(job["id"], {"done"})
    # a name with a comma, quotes and a newline: user text, which CSV must carry intact
    httpx.patch(f"{server.url}/api/jobs/{job['id']}", json={"name": 'moons, "first"\ntry'}).raise_for_status()
    return server.job(job["id"])


def test_csv_holds_every_scalar_point_bit_equal_to_the_scalars_read(server: LiveServer, finished: dict) -> None:
    response = server.get(f"/api/jobs/{finished['id']}/export", format="csv")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert f'filename="trainscope-{finished["id"]}.csv"' in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert {row["run"] for row in rows} == {'moons, "first"\ntry'}
    for tag in ("train/loss", "val/loss", "val/acc", "lr"):
        series = server.get(f"/api/jobs/{finished['id']}/scalars", tag=tag, max_points=1000).json()
        exported = [row for row in rows if row["tag"] == tag]
        assert [int(row["step"]) for row in exported] == series["steps"], tag
        assert [float(row["value"]) for row in exported] == series["values"], tag  # exactly, not approximately
    assert len([row for row in rows if row["tag"] == "train/loss"]) == 300  # every step, not a thinned curve
    assert all(float(row["wall"]) > 1e9 for row in rows)


def test_jsonl_is_every_stored_event_in_seq_order(server: LiveServer, finished: dict) -> None:
    response = server.get(f"/api/jobs/{finished['id']}/export", format="jsonl")
    assert response.headers["content-type"] == "application/x-ndjson"
    lines = [json.loads(line) for line in response.text.splitlines()]
    assert [event["seq"] for event in lines] == list(range(1, finished["last_seq"] + 1))
    assert lines == server.stored_events(finished["id"])
    assert lines[-1]["type"] == "status" and lines[-1]["status"] == "done"


def test_a_bad_format_or_an_unknown_job_is_refused(server: LiveServer, finished: dict) -> None:
    response = server.get(f"/api/jobs/{finished['id']}/export", format="xml")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "format"]
    assert server.get("/api/jobs/nosuchjob/export").status_code == 404

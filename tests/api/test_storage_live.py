"""The storage budget on a live server: a job whose probes write past its share of bytes is stopped
with that reason, and once the store holds its whole budget new jobs are refused (507) until runs are
deleted. Budgets here are tiny so that a few seconds of heavy probes reach them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.live import LiveServer

JOB_BYTES, STORE_BYTES, READ_BYTES = 300_000, 2**20, 50_000
# a boundary map of 200x200 cells at every step: ~200 KB an event, the heaviest a spec may ask for
HEAVY = {
    "optim": {"steps": 4000, "eval_every": 100},
    "probes": {"boundary_every": 1, "boundary_grid": 200, "min_interval_s": 0},
}
LIGHT = {"optim": {"steps": 30, "eval_every": 10}, "probes": {"histogram_every": 0, "network_every": 0}}


@pytest.fixture(scope="module")
def budgeted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    env = {
        "TRAINSCOPE_LIMITS__MAX_JOB_BYTES": str(JOB_BYTES),
        "TRAINSCOPE_LIMITS__MAX_STORE_BYTES": str(STORE_BYTES),
        "TRAINSCOPE_READ_CHUNK_BYTES": str(READ_BYTES),
    }
    live = LiveServer(Path(tmp_path_factory.mktemp("budget")) / "budget.db", workers=1, env=env).start()
    yield live
    live.stop()


def all_events(server: LiveServer, job_id: str) -> list[list[dict[str, Any]]]:
    """The job's events, page by page as /events gives them (each about READ_BYTES)."""
    pages, after, last_seq = [], 0, server.job(job_id)["last_seq"]
    while after < last_seq:  # bounded: every page holds at least one event
        page = server.get(f"/api/jobs/{job_id}/events", after=after, limit=10_000).json()["events"]
        pages.append(page)
        after = page[-1]["seq"]
    return pages


def stored(server: LiveServer, job_id: str) -> int:
    """Characters of the job's events as stored: compact JSON, as the pump writes them."""
    return sum(len(json.dumps(e, separators=(",", ":"))) for page in all_events(server, job_id) for e in page)


def test_a_job_past_its_byte_budget_stops_failed_with_the_reason(budgeted: LiveServer) -> None:
    job = budgeted.wait_status(budgeted.submit(HEAVY)["id"], {"done", "failed", "cancelled"}, timeout=60)
    assert job["status"] == "failed", job
    assert "MB a job may store" in job["message"] and job["summary"]["step"] < 4000
    assert job["stored_bytes"] == stored(budgeted, job["id"]) < 1.5 * JOB_BYTES  # what it kept, and a final status
    assert budgeted.health()["store_bytes"] > 0


def test_a_heavy_job_is_read_in_pages_bounded_by_bytes(budgeted: LiveServer) -> None:
    job_id = budgeted.wait_status(budgeted.submit(HEAVY)["id"], {"failed"}, timeout=60)["id"]
    pages, last_seq = all_events(budgeted, job_id), budgeted.job(job_id)["last_seq"]
    assert len(pages) > 1 and [e["seq"] for page in pages for e in page] == list(range(1, last_seq + 1))
    for page in pages:  # each page about READ_BYTES, or a single event larger than that
        assert len(page) == 1 or sum(len(str(event)) for event in page) < 1.2 * READ_BYTES
    assert budgeted.delete(f"/api/jobs/{job_id}").status_code == 204


def test_a_full_store_refuses_new_jobs_until_runs_are_deleted(budgeted: LiveServer) -> None:
    finished = []
    while budgeted.health()["store_bytes"] < STORE_BYTES:  # bounded: each run adds ~JOB_BYTES
        assert len(finished) < 10
        job = budgeted.submit(HEAVY)
        finished.append(budgeted.wait_status(job["id"], {"done", "failed"}, timeout=60)["id"])
    refused = budgeted.post("/api/jobs", LIGHT)
    assert refused.status_code == 507 and "delete runs" in refused.json()["detail"]
    group = budgeted.post("/api/groups", {"base": LIGHT, "grid": {"optim.lr": [0.01, 0.02]}})
    assert group.status_code == 507
    health = budgeted.health()
    assert health["store_bytes"] >= health["store_budget_bytes"] == STORE_BYTES

    for job_id in finished:
        assert budgeted.delete(f"/api/jobs/{job_id}").status_code == 204
    assert budgeted.health()["store_bytes"] < STORE_BYTES
    job = budgeted.submit(LIGHT)
    assert budgeted.wait_status(job["id"], {"done"})["status"] == "done"

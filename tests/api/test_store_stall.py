"""A store that cannot be written (SQLite's own "database or disk is full") stalls the pump: every
change is answered 503 within command_timeout_s instead of hanging, a submission the client was told
failed never runs, and a running job's worker is not blamed (killed as hung) for the pump's stall.

The app runs in this process (a real uvicorn server on a loopback port in a thread, real worker
processes, real SQLite) over a store that raises SQLite's real error on writes while `full` is set: a
full disk on demand."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from sqlalchemy.exc import OperationalError

from tests.live import free_port, wait_for
from trainscope.app import create_app
from trainscope.config import Settings
from trainscope.store.base import WriteBatch
from trainscope.store.sql import SqlStore

QUICK = {"optim": {"steps": 30, "eval_every": 10}}
# paced to ~10 s, past the stall (flat out, the NumPy tiny path trains it in well under a second)
LONGER = {"optim": {"steps": 3000, "eval_every": 100}, "probes": {"min_interval_s": 0.05}, "pace": 300}


class DiskFullStore(SqlStore):
    full = False
    error = "database or disk is full"

    def _write(self, batch: WriteBatch) -> None:
        if self.full:
            raise OperationalError("INSERT INTO events", {}, sqlite3.OperationalError(self.error))
        super()._write(batch)


@pytest.fixture
def app_and_store(tmp_path: Path) -> Iterator[tuple[httpx.Client, DiskFullStore]]:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'db.sqlite'}",
        workers=1,
        command_timeout_s=1.0,
        hang_timeout_s=1.0,
        heartbeat_s=0.2,
    )
    store = DiskFullStore(settings.database_url)
    server = uvicorn.Server(uvicorn.Config(create_app(settings, store), port=free_port(), log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        wait_for(lambda: server.started, 60, "the server to start", 0.1)
        with httpx.Client(base_url=f"http://127.0.0.1:{server.config.port}", timeout=10) as client:
            wait_for(lambda: client.get("/api/health").json()["ready_workers"] == 1, 60, "a warm worker", 0.2)
            yield client, store
    finally:
        store.full = False
        server.should_exit = True
        thread.join(60)


def job(client: httpx.Client, job_id: str) -> dict[str, Any]:
    result: dict[str, Any] = client.get(f"/api/jobs/{job_id}").json()
    return result


def test_a_full_disk_is_a_quick_503_and_the_unanswered_submission_is_withdrawn_not_run(
    app_and_store: tuple[httpx.Client, DiskFullStore],
) -> None:
    client, store = app_and_store
    store.full = True
    start = time.monotonic()
    refused = client.post("/api/jobs", json=QUICK)
    assert refused.status_code == 503 and refused.headers["retry-after"] == "5", refused.text
    assert time.monotonic() - start < 3  # command_timeout_s is 1 s
    store.full = False
    # the submission was in the batch the disk refused: once written, it is withdrawn before any dispatch
    withdrawn = wait_for(lambda: client.get("/api/jobs").json()["jobs"], 30, "the refused job's record")
    wait_for(lambda: job(client, withdrawn[0]["id"])["status"] == "cancelled", 30, "the withdrawal")
    assert "withdrawn" in job(client, withdrawn[0]["id"])["message"]
    assert job(client, withdrawn[0]["id"])["started_at"] is None  # it never ran
    accepted = client.post("/api/jobs", json=QUICK)
    assert accepted.status_code == 201
    wait_for(lambda: job(client, accepted.json()["id"])["status"] == "done", 30, "a job once the disk has room")


def test_a_stalled_pump_does_not_get_a_working_worker_killed_as_hung(
    app_and_store: tuple[httpx.Client, DiskFullStore],
) -> None:
    client, store = app_and_store
    running = client.post("/api/jobs", json=LONGER).json()["id"]
    wait_for(lambda: job(client, running)["status"] == "running", 30, "the long job to start")
    store.error = "database is locked"  # a stall to wait out (a full disk stops the jobs instead)
    store.full = True  # its next events stall the pump
    time.sleep(2.0)  # past hang_timeout_s (1 s): the watchdog must hear the worker, not wait on the pump
    store.full = False
    finished = wait_for(lambda: (j := job(client, running))["status"] in ("done", "failed") and j, 60, "the end")
    assert finished["status"] == "done", finished  # not "worker hung"

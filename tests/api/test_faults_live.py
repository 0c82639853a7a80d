"""Worker death, server restart and a full queue, against live servers of their own; a worker's death, a
restart, a graceful stop and a job that raises on the local executor and on the Ray one."""

from __future__ import annotations

import os
import signal
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.api.test_jobs_live import LONG, QUICK
from tests.conftest import ray_env
from tests.live import LiveServer, Viewer, assert_gap_free, pid_alive, wait_for, watch

# how a job's end reads when its worker is killed: the process's signal, or Ray's word for a dead actor
DEATH = {"local": "worker process killed by SIGKILL", "ray": "Ray actor died: "}


def test_sigkill_a_worker_fails_its_job_and_the_next_job_succeeds(job_server: LiveServer, executor: str) -> None:
    job = job_server.submit(LONG)
    neighbour = job_server.submit({**QUICK, "optim": {"steps": 3000, "eval_every": 100}})  # on the other worker
    job_server.wait_status(job["id"], {"running"})
    job_server.wait_status(neighbour["id"], {"running", "done"})
    worker = next(w for w in job_server.health()["workers"] if w["job"] == job["id"])
    os.kill(worker["pid"], signal.SIGKILL)

    failed = job_server.wait_status(job["id"], {"failed"}, timeout=15)
    assert failed["message"].startswith(DEATH[executor])
    assert_gap_free(job_server.stored_events(job["id"]))
    assert job_server.wait_status(neighbour["id"], {"done", "failed"})["status"] == "done"  # untouched
    assert_gap_free(job_server.stored_events(neighbour["id"]))

    after = job_server.submit(QUICK)
    assert job_server.wait_status(after["id"], {"done", "failed"})["status"] == "done"
    wait_for(lambda: job_server.health()["ready_workers"] == job_server.workers, 60, "a replacement worker")
    assert worker["pid"] not in {w["pid"] for w in job_server.health()["workers"]}
    assert not pid_alive(worker["pid"])


@pytest.fixture
def one_worker(tmp_path: Path, executor: str, request: pytest.FixtureRequest) -> Iterator[LiveServer]:
    """A server of one worker, on each executor: its tests stop and restart it, or kill its worker."""
    env = {"TRAINSCOPE_LIMITS__QUEUE_LENGTH": "1"}
    if executor == "ray":
        env |= ray_env(request.getfixturevalue("ray_cluster"))
    live = LiveServer(tmp_path / "restart.db", workers=1, env=env).start()
    yield live
    live.stop(signal.SIGKILL)


def test_restart_keeps_history_fails_interrupted_and_requeues_waiting(one_worker: LiveServer) -> None:
    server = one_worker
    finished = server.submit(QUICK)
    server.wait_status(finished["id"], {"done"})
    history = server.stored_events(finished["id"])

    running = server.submit(LONG)
    server.wait_status(running["id"], {"running"})
    waiting = server.submit(QUICK)
    full = server.post("/api/jobs", QUICK)
    assert full.status_code == 429 and full.headers["retry-after"]
    viewer = Viewer()  # what a viewer saw was stored first: it must survive the crash
    follower = threading.Thread(target=watch, args=(server.ws_url, running["id"]), kwargs={"viewer": viewer})
    follower.start()
    wait_for(lambda: len(viewer.events) > 20, 30, "the viewer to receive events")

    server.stop(signal.SIGKILL)  # a crash: no chance to mark anything
    follower.join(30)
    assert viewer.close_code == 1006  # the connection just dropped
    server.start()

    assert server.job(finished["id"])["status"] == "done"
    assert server.stored_events(finished["id"]) == history
    interrupted = server.job(running["id"])
    assert interrupted["status"] == "failed" and interrupted["message"] == "server restarted"
    stored = server.stored_events(running["id"])
    assert_gap_free(stored)
    assert stored[: len(viewer.events)] == viewer.events  # every event a viewer was sent is still there
    assert server.wait_status(waiting["id"], {"done", "failed"})["status"] == "done"
    assert_gap_free(server.stored_events(waiting["id"]))


def test_graceful_stop_marks_the_running_job(one_worker: LiveServer) -> None:
    server = one_worker
    running = server.submit(LONG)
    server.wait_status(running["id"], {"running"})
    server.stop(signal.SIGTERM)
    server.start()
    stopped = server.job(running["id"])
    assert stopped["status"] == "failed"
    assert "stop" in stopped["message"]


def test_a_locked_database_delays_events_and_loses_none(tmp_path: Path) -> None:
    database = tmp_path / "locked.db"
    server = LiveServer(database, workers=1, env={"TRAINSCOPE_DATABASE_BUSY_TIMEOUT_MS": "100"}).start()
    try:
        job = server.submit({**QUICK, "optim": {"steps": 4000, "eval_every": 200}})
        server.wait_status(job["id"], {"running"})
        locker = sqlite3.connect(database)
        locker.execute("BEGIN EXCLUSIVE")  # another process holding the write lock
        wait_for(lambda: "store unavailable" in server.log(), 20, "the pump to report the locked database")
        locker.rollback()
        locker.close()
        assert server.wait_status(job["id"], {"done", "failed"})["status"] == "done"
        events = server.stored_events(job["id"])
        assert_gap_free(events)
        steps = [p["step"] for e in events if e["type"] == "scalars" for p in e["points"]]
        assert steps == list(range(1, 4001))  # every train-loss point, none lost while locked
    finally:
        server.stop()


def test_a_job_that_raises_fails_with_its_reason_and_the_worker_lives_on(tmp_path: Path) -> None:
    """On the local executor only: a job raises here because a fresh worker's CUDA is unknown to the server
    until it is ready, and a replacement actor is listed with its pid only once ready (the worker loop that
    catches the error is the same in an actor)."""
    server = LiveServer(tmp_path / "raises.db", workers=1).start()
    try:
        raises_and_lives_on(server)
    finally:
        server.stop(signal.SIGKILL)


def raises_and_lives_on(server: LiveServer) -> None:
    if any(w.get("cuda") for w in server.health()["workers"]):
        pytest.skip("needs a machine without CUDA")
    old = server.health()["workers"][0]["pid"]
    os.kill(old, signal.SIGKILL)  # while its replacement warms up, the server cannot yet know there is no CUDA
    wait_for(lambda: server.health()["workers"][0]["pid"] not in (old, None), 60, "a replacement worker")
    doomed = server.submit({**QUICK, "device": "cuda"})
    failed = server.wait_status(doomed["id"], {"failed", "done"})
    assert failed["status"] == "failed" and "CUDA" in failed["message"]
    survivor = server.health()["workers"][0]["pid"]
    after = server.submit(QUICK)
    assert server.wait_status(after["id"], {"done", "failed"})["status"] == "done"
    assert server.health()["workers"][0]["pid"] == survivor  # the same process ran both jobs


@pytest.fixture
def quick_watchdog(tmp_path: Path, executor: str, request: pytest.FixtureRequest) -> Iterator[LiveServer]:
    env = {"TRAINSCOPE_HANG_TIMEOUT_S": "1.5", "TRAINSCOPE_HEARTBEAT_S": "0.1"}
    if executor == "ray":  # a stopped actor is killed through Ray
        env |= ray_env(request.getfixturevalue("ray_cluster"))
    live = LiveServer(tmp_path / "watchdog.db", workers=1, env=env).start()
    yield live
    live.stop(signal.SIGKILL)


def test_the_watchdog_hears_the_heartbeat_not_the_training_loop(quick_watchdog: LiveServer) -> None:
    server = quick_watchdog
    # a fresh worker builds MNIST-1D for ~2.7 s here before its first event: past the 1.5 s limit, alive
    slow_start = {"data": {"kind": "mnist1d"}, "model": {"kind": "cnn1d"}, "optim": {"steps": 20, "eval_every": 10}}
    job = server.submit(slow_start)
    done = server.wait_status(job["id"], {"done", "failed"}, timeout=120)
    assert done["status"] == "done", done["message"]

    job = server.submit(LONG)
    server.wait_status(job["id"], {"running"})
    [worker] = server.health()["workers"]
    os.kill(worker["pid"], signal.SIGSTOP)  # stopped for less than the limit: a starved worker, not a hung one
    time.sleep(0.5)
    os.kill(worker["pid"], signal.SIGCONT)
    seq = server.job(job["id"])["last_seq"]
    wait_for(lambda: server.job(job["id"])["last_seq"] > seq + 10, 30, "the job to go on")
    assert server.job(job["id"])["status"] == "running"
    os.kill(worker["pid"], signal.SIGSTOP)  # and past it: truly stuck
    failed = server.wait_status(job["id"], {"failed"}, timeout=30)
    assert "hung" in failed["message"]
    wait_for(lambda: server.health()["ready_workers"] == 1, 60, "a replacement worker")

"""Data-parallel jobs through the real job path: a worker runs a job as 2 gloo ranks (other processes on the
local executor, actors in a placement group on Ray), whose losses equal one process's with the whole batch;
the controller reaches every rank; a rank killed mid-job fails the job naming it and leaves no process
behind (checked by PID), and the worker takes the next job."""

from __future__ import annotations

import os
import signal
from typing import Any

from tests.live import LiveServer, assert_gap_free, pid_alive, wait_for

# how a job's end names a killed rank: a process's signal here, or Ray's word for a dead actor
RANK_DEATH = {"local": "killed by SIGKILL", "ray": "failed on Ray: "}
SPIRAL = {"device": "cpu", "data": {"dataset": "spiral", "n_points": 400}}


def job_spec(world: int, batch: int, steps: int) -> dict[str, Any]:
    optim = {"steps": steps, "batch_size": batch, "lr": 0.01, "eval_every": 50}
    return {**SPIRAL, "optim": optim, "distributed": {"world_size": world}}


def train_losses(server: LiveServer, job_id: str) -> list[float]:
    events = server.stored_events(job_id)
    assert_gap_free(events)
    return [p["values"]["train/loss"] for e in events if e["type"] == "scalars" for p in e["points"]]


def rank_pids(server: LiveServer, job_id: str) -> list[int]:
    running = next(e for e in server.stored_events(job_id) if e["type"] == "status" and e["status"] == "running")
    pids: list[int] = running["detail"]["rank_pids"]
    return pids


def test_two_ranks_train_as_one_process_with_the_whole_batch_and_leave_nothing_behind(job_server: LiveServer) -> None:
    parallel = job_server.submit(job_spec(2, 32, 200))
    alone = job_server.submit(job_spec(1, 32, 200))
    for job in (parallel, alone):
        ended = job_server.wait_status(job["id"], {"done", "failed"})
        assert ended["status"] == "done", ended["message"]
    first, second = train_losses(job_server, parallel["id"]), train_losses(job_server, alone["id"])
    assert len(first) == len(second) == 200
    assert max(abs(a - b) for a, b in zip(first, second, strict=True)) <= 1e-4
    finished = job_server.job(parallel["id"])
    assert {"rank0/samples_per_s", "rank1/samples_per_s"} <= set(finished["summary"])
    worker, rank = rank_pids(job_server, parallel["id"])
    assert worker in {w["pid"] for w in job_server.health()["workers"]}  # rank 0 is the worker itself
    wait_for(lambda: not pid_alive(rank), 30, "the other rank's process to end with its job")


def test_pause_step_set_lr_and_cancel_reach_every_rank(server: LiveServer) -> None:
    job = server.submit(job_spec(2, 32, 100_000))
    job_id, control = job["id"], f"/api/jobs/{job['id']}/control"
    server.wait_status(job_id, {"running"})
    assert server.post(control, {"action": "pause"}).status_code == 202
    server.wait_status(job_id, {"paused"}, timeout=30)
    paused_at = server.job(job_id)["summary"]["step"]
    assert server.post(control, {"action": "step", "steps": 5}).status_code == 202
    wait_for(lambda: server.job(job_id)["summary"]["step"] == paused_at + 5, 30, "five more steps")
    assert server.post(control, {"action": "set_lr", "lr": 0.002}).status_code == 202
    assert server.post(control, {"action": "resume"}).status_code == 202
    wait_for(lambda: server.job(job_id)["summary"]["step"] > paused_at + 50, 30, "training to go on")
    assert server.post(f"/api/jobs/{job_id}/cancel").status_code == 202
    assert server.wait_status(job_id, {"cancelled", "failed"}, timeout=30)["status"] == "cancelled"
    events = server.stored_events(job_id)
    assert next(e for e in events if e["type"] == "control")["lr"] == 0.002
    rates = [p["values"] for e in events if e["type"] == "scalars" for p in e["points"] if "lr" in p["values"]]
    assert rates[-1]["lr"] == 0.002  # every rank stepped with the new rate, or their losses would part
    for pid in rank_pids(server, job_id)[1:]:
        wait_for(lambda pid=pid: not pid_alive(pid), 30, f"rank process {pid} to end")


def test_a_killed_rank_fails_the_job_naming_it_and_the_worker_runs_the_next(
    job_server: LiveServer, executor: str
) -> None:
    job = job_server.submit(job_spec(3, 48, 100_000))
    job_server.wait_status(job["id"], {"running"})
    worker, *ranks = rank_pids(job_server, job["id"])
    wait_for(lambda: job_server.job(job["id"])["summary"].get("step", 0) > 20, 60, "the ranks to train together")
    os.kill(ranks[0], signal.SIGKILL)
    failed = job_server.wait_status(job["id"], {"failed", "done", "cancelled"}, timeout=60)
    assert failed["status"] == "failed"
    assert failed["message"].startswith(f"RuntimeError: rank 1 of the job's data-parallel ranks {RANK_DEATH[executor]}")
    wait_for(lambda: not any(pid_alive(pid) for pid in ranks), 30, "the other ranks to be ended")
    assert pid_alive(worker)  # the worker lives on and takes the next job
    after = job_server.submit(job_spec(2, 32, 50))
    assert job_server.wait_status(after["id"], {"done", "failed"})["status"] == "done"
    assert rank_pids(job_server, after["id"])[0] in {w["pid"] for w in job_server.health()["workers"]}


def test_a_rank_killed_as_it_starts_fails_the_job_and_a_cancel_then_is_heard(server: LiveServer) -> None:
    """While the other ranks start (importing torch takes seconds) rank 0 listens: a rank that dies then
    fails the job at once, and a cancel ends it, rather than both waiting out the process group's join."""
    doomed = server.submit(job_spec(2, 32, 100_000))
    server.wait_status(doomed["id"], {"running"})
    worker, rank = rank_pids(server, doomed["id"])
    os.kill(rank, signal.SIGKILL)
    failed = server.wait_status(doomed["id"], {"failed", "done", "cancelled"}, timeout=120)
    assert failed["message"] == "RuntimeError: rank 1 of the job's data-parallel ranks killed by SIGKILL"

    cancelled = server.submit(job_spec(2, 32, 100_000))
    server.wait_status(cancelled["id"], {"running"})
    assert server.post(f"/api/jobs/{cancelled['id']}/cancel").status_code == 202
    assert server.wait_status(cancelled["id"], {"failed", "done", "cancelled"}, timeout=120)["status"] == "cancelled"
    for pid in rank_pids(server, cancelled["id"])[1:]:
        wait_for(lambda pid=pid: not pid_alive(pid), 30, f"rank process {pid} to end")
    assert pid_alive(worker)

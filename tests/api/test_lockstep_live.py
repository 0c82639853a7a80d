"""Lockstep groups through a live server: a group's matched tiny runs train as one stacked model in one
worker, each stored run equal to the same spec run alone, each run controlled on its own."""

from __future__ import annotations

from typing import Any

import pytest

from tests.live import LiveServer, wait_for

BASE: dict[str, Any] = {
    "seed": 2,
    "data": {"dataset": "circle", "n_points": 300},
    "model": {"hidden": [4, 2]},
    "optim": {"optimizer": "sgd", "steps": 300, "eval_every": 25},
}


def train_losses(server: LiveServer, job_id: str) -> list[float]:
    return [
        p["values"]["train/loss"] for e in server.stored_events(job_id) if e["type"] == "scalars" for p in e["points"]
    ]


def running_status(server: LiveServer, job_id: str) -> dict[str, Any]:
    return next(e for e in server.stored_events(job_id) if e["type"] == "status" and e["status"] == "running")


def test_a_groups_matched_runs_train_stacked_and_each_equals_its_run_alone(server: LiveServer) -> None:
    rates = [0.01, 0.1, 1.0]
    body = {"base": BASE, "variations": [{"label": str(lr), "changes": {"optim.lr": lr}} for lr in rates]}
    group = server.wait_group(server.post("/api/groups", body).json()["id"])
    job_ids = [run["job_id"] for run in group["runs"]]
    assert all(run["job"]["status"] == "done" for run in group["runs"])
    for job_id in job_ids:
        running = running_status(server, job_id)
        assert "stacked with 2 matched runs" in running["message"]
        assert sorted(running["detail"]["stacked_with"]) == sorted(j for j in job_ids if j != job_id)
        systems = [e for e in server.stored_events(job_id) if e["type"] == "system"]
        assert systems and all(e["stacked_runs"] == 3 for e in systems)
    alone = server.submit({**BASE, "optim": {**BASE["optim"], "lr": rates[1]}})
    server.wait_status(alone["id"], {"done"})
    assert "stacked" not in running_status(server, alone["id"])["message"]
    assert train_losses(server, alone["id"]) == train_losses(server, job_ids[1])  # to the bit
    assert server.job(alone["id"])["summary"]["val/loss"] == server.job(job_ids[1])["summary"]["val/loss"]


def test_runs_that_do_not_stack_train_alone(server: LiveServer) -> None:
    body = {"base": BASE, "grid": {"optim.batch_size": [10, 20]}}
    group = server.wait_group(server.post("/api/groups", body).json()["id"])
    for run in group["runs"]:
        assert "stacked" not in running_status(server, run["job_id"])["message"]


def test_runs_of_a_stacked_group_are_paused_and_cancelled_on_their_own(server: LiveServer) -> None:
    """One run cancelled, one paused (set apart from its group): the third finishes meanwhile; the paused
    one, resumed, trains on."""
    paced = {**BASE, "pace": 300, "optim": {**BASE["optim"], "steps": 3000}}  # ~10 s: time to act mid-run
    body = {"base": paced, "variations": [{"changes": {"optim.lr": lr}} for lr in (0.01, 0.1, 1.0)]}
    group = server.post("/api/groups", body).json()
    first, middle, last = (run["job_id"] for run in group["runs"])
    wait_for(lambda: server.job(middle)["status"] == "running", 60, "the group to start")
    assert server.post(f"/api/jobs/{last}/control", {"action": "pause"}).status_code == 202
    server.wait_status(last, {"paused"})
    assert server.post(f"/api/jobs/{middle}/control", {"action": "set_lr", "lr": 0.5}).status_code == 202
    assert server.post(f"/api/jobs/{middle}/cancel").status_code == 202
    assert server.wait_status(middle, {"cancelled", "done", "failed"})["status"] == "cancelled"
    assert server.job(first)["status"] == "running"  # the others go on
    assert server.wait_status(first, {"done", "cancelled", "failed"})["status"] == "done"
    paused_at = server.job(last)["summary"]["step"]
    assert server.job(last)["status"] == "paused"  # it held no one
    assert server.post(f"/api/jobs/{last}/control", {"action": "resume"}).status_code == 202
    wait_for(lambda: server.job(last)["summary"]["step"] > paused_at + 100, 30, "the resumed run to train on")
    assert server.post(f"/api/jobs/{last}/cancel").status_code == 202
    assert server.wait_status(last, {"cancelled", "done", "failed"})["status"] == "cancelled"
    markers = [e for e in server.stored_events(middle) if e["type"] == "control"]
    assert [m["lr"] for m in markers] == [0.5]
    assert not any(e["type"] == "control" for j in (first, last) for e in server.stored_events(j))


def test_five_matched_runs_of_a_wider_net_stack_under_vmap(server: LiveServer) -> None:
    """Past the tiny path: 5 matched runs of a 72-wide net train as one model under vmap, each stored run
    within float rounding of the same spec run alone (vmap rounds a batched product differently)."""
    wide = {**BASE, "model": {"hidden": [72, 16]}, "optim": {**BASE["optim"], "steps": 100}}
    rates = [0.01, 0.03, 0.1, 0.3, 0.003]
    body = {"base": wide, "variations": [{"changes": {"optim.lr": lr}} for lr in rates]}
    group = server.wait_group(server.post("/api/groups", body).json()["id"])
    job_ids = [run["job_id"] for run in group["runs"]]
    for job_id in job_ids:
        assert "stacked with 4 matched runs" in running_status(server, job_id)["message"]
        systems = [e for e in server.stored_events(job_id) if e["type"] == "system"]
        assert systems and all(e["stacked_runs"] == 5 and e["step_path"] == "vmap" for e in systems)
    alone = server.submit({**wide, "optim": {**wide["optim"], "lr": rates[2]}})
    server.wait_status(alone["id"], {"done"})
    assert train_losses(server, alone["id"]) == pytest.approx(train_losses(server, job_ids[2]), rel=1e-4)
    summary, stacked = server.job(alone["id"])["summary"], server.job(job_ids[2])["summary"]
    assert stacked["val/acc"] == summary["val/acc"] and stacked["val/loss"] == pytest.approx(summary["val/loss"])

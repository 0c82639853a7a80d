"""REST and websocket against a live uvicorn with the real workers and a temp SQLite file; the job-life tests
(submit and stream, two viewers, cancel, control) run on the local executor and on the Ray one."""

from __future__ import annotations

import os
import threading
from typing import Any

import httpx
import pytest
from pydantic import TypeAdapter

from tests.live import LiveServer, Viewer, assert_gap_free, wait_for, watch
from trainscope.schemas import Event

QUICK = {"data": {"dataset": "moons", "n_points": 200}, "optim": {"steps": 120, "eval_every": 20}}
# About a minute of training: long enough to be caught running; the tests that use it end it early.
# paced: flat out, the NumPy tiny path trains 100,000 steps in ~6 s, less than a loaded CI takes
# between a test seeing "running" and acting on it (at 2,000 a second it trains for 50 s)
LONG = {"data": {"dataset": "circle", "n_points": 200}, "optim": {"steps": 100_000, "eval_every": 500}, "pace": 2000}


def test_submitted_job_runs_to_done_with_every_event_stored(job_server: LiveServer) -> None:
    job = job_server.submit(QUICK)
    assert job["status"] == "queued"
    viewer = watch(job_server.ws_url, job["id"])
    assert viewer.close_code == 1000

    stored = job_server.stored_events(job["id"])
    assert stored == viewer.events
    assert_gap_free(stored)
    TypeAdapter(list[Event]).validate_python(stored)  # every event matches the documented union
    statuses = [e["status"] for e in stored if e["type"] == "status"]
    assert statuses == ["queued", "running", "done"]
    train_steps = [p["step"] for e in stored if e["type"] == "scalars" for p in e["points"]]
    assert train_steps == list(range(1, 121))  # a train-loss point for every step, once
    evals = [p["step"] for e in stored if e["type"] == "scalars" for p in e["points"] if "val/acc" in p["values"]]
    assert evals == [20, 40, 60, 80, 100, 120]
    tags = {e["tag"] for e in stored if e["type"] == "histogram"}
    assert {"act/layer1", "act/layer2", "weight/output", "grad/layer1"} <= tags
    assert {"dataset", "layers", "embedding", "boundary", "network", "system"} <= {e["type"] for e in stored}

    final = job_server.job(job["id"])
    assert final["status"] == "done"
    assert final["last_seq"] == len(stored)
    assert final["summary"]["step"] == 120
    assert final["summary"]["val/acc"] > 0.8
    assert final["started_at"] and final["finished_at"]


def test_two_viewers_one_joining_mid_run_each_get_every_event_once(job_server: LiveServer) -> None:
    spec = {**QUICK, "optim": {"steps": 4000, "eval_every": 200}}
    job = job_server.submit(spec)
    early = Viewer()
    thread = threading.Thread(target=watch, args=(job_server.ws_url, job["id"]), kwargs={"viewer": early})
    thread.start()
    wait_for(lambda: any(e["type"] == "scalars" for e in early.events), 30, "the first viewer to see scalars")
    late = watch(job_server.ws_url, job["id"])
    thread.join(60)
    final = job_server.job(job["id"])
    assert final["status"] == "done"
    for viewer in (early, late):
        assert viewer.close_code == 1000
        assert_gap_free(viewer.events)
        assert len(viewer.events) == final["last_seq"]
    assert late.events == early.events
    assert late.messages < len(late.events), "replay should batch events into few messages"


def test_viewer_resumes_after_a_seq(server: LiveServer) -> None:
    job = server.submit(QUICK)
    full = watch(server.ws_url, job["id"])
    resumed = watch(server.ws_url, job["id"], after=5)
    assert resumed.events == full.events[5:]
    assert resumed.close_code == 1000
    caught_up = watch(server.ws_url, job["id"], after=len(full.events))  # an ended job, nothing left: closed
    assert caught_up.events == [] and caught_up.close_code == 1000


def test_unknown_job_and_bad_query_close_with_application_codes(server: LiveServer) -> None:
    assert watch(server.ws_url, "nope").close_code == 4404
    job = server.submit(QUICK)
    bad = watch(server.ws_url, job["id"], after=-1)  # type: ignore[arg-type]
    assert bad.close_code == 4400 and "after" in bad.close_reason
    assert server.get("/api/jobs/nope").status_code == 404


def test_cancel_a_running_job_then_delete_it(job_server: LiveServer) -> None:
    job = job_server.submit(LONG)
    job_server.wait_status(job["id"], {"running"})
    assert job_server.delete(f"/api/jobs/{job['id']}").status_code == 409  # still running
    response = job_server.post(f"/api/jobs/{job['id']}/cancel")
    assert response.status_code == 202
    cancelled = job_server.wait_status(job["id"], {"cancelled"}, timeout=10)
    assert "cancelled at step" in cancelled["message"]
    assert job_server.post(f"/api/jobs/{job['id']}/cancel").status_code == 409
    events = job_server.stored_events(job["id"])
    assert_gap_free(events)
    assert events[-1]["status"] == "cancelled"

    assert job_server.delete(f"/api/jobs/{job['id']}").status_code == 204
    assert job_server.get(f"/api/jobs/{job['id']}").status_code == 404
    assert job_server.get(f"/api/jobs/{job['id']}/events").status_code == 404


def test_list_filter_and_scalars_downsampled_on_read(server: LiveServer) -> None:
    job = server.submit(QUICK)
    server.wait_status(job["id"], {"done"})
    done = server.get("/api/jobs", status="done").json()
    assert job["id"] in {j["id"] for j in done["jobs"]}
    assert all(j["status"] == "done" for j in done["jobs"])
    series = server.get(f"/api/jobs/{job['id']}/scalars", tag="train/loss", max_points=10).json()
    assert series["total"] == 120
    assert len(series["steps"]) == 10
    assert series["steps"][0] == 1 and series["steps"][-1] == 120
    assert server.get(f"/api/jobs/{job['id']}/scalars", max_points=10**9).status_code == 422


def test_invalid_spec_is_422_naming_the_field(server: LiveServer) -> None:
    response = server.post("/api/jobs", {"optim": {"lr": 1e6}})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "optim", "lr"]


def test_meta_lists_choices_defaults_and_limits(server: LiveServer) -> None:
    meta: dict[str, Any] = server.get("/api/meta").json()
    assert "spiral" in meta["choices"]["data.dataset"]
    assert set(meta["choices"]["optim.optimizer"]) == {"sgd", "momentum", "rmsprop", "adam", "adamw", "random_search"}
    assert meta["defaults"]["optim"]["optimizer"] == "adam"
    assert meta["limits"]["max_steps"] >= 1000
    assert server.get("/docs").status_code == 200
    assert server.get("/vendor/plotly.min.js").status_code == 200


def test_cuda_request_on_a_cpu_only_server_is_422(server: LiveServer) -> None:
    if any(w.get("cuda") for w in server.health()["workers"]):
        pytest.skip("this machine has a CUDA device")
    response = server.post("/api/jobs", {"device": "cuda"})
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert detail[0]["loc"] == ["body", "device"] and "CUDA" in detail[0]["msg"]


def test_pause_step_resume_and_change_the_learning_rate(job_server: LiveServer) -> None:
    job = job_server.submit(LONG)
    job_id = job["id"]
    job_server.wait_status(job_id, {"running"})
    control = f"/api/jobs/{job_id}/control"
    assert job_server.post(control, {"action": "pause"}).status_code == 202
    job_server.wait_status(job_id, {"paused"}, timeout=10)
    paused_at = job_server.job(job_id)["summary"]["step"]
    assert job_server.post(control, {"action": "step", "steps": 7}).status_code == 202
    wait_for(lambda: job_server.job(job_id)["summary"]["step"] == paused_at + 7, 10, "seven more steps")
    assert job_server.job(job_id)["status"] == "paused"
    assert job_server.post(control, {"action": "set_lr", "lr": 0.001}).status_code == 202
    assert job_server.post(control, {"action": "set_lr", "lr": 1e9}).status_code == 422
    assert job_server.post(control, {"action": "resume"}).status_code == 202
    job_server.wait_status(job_id, {"running"}, timeout=10)
    wait_for(lambda: job_server.job(job_id)["summary"]["step"] > paused_at + 100, 10, "training to go on")
    assert job_server.post(f"/api/jobs/{job_id}/cancel").status_code == 202
    job_server.wait_status(job_id, {"cancelled"}, timeout=10)
    assert job_server.post(control, {"action": "pause"}).status_code == 409

    events = job_server.stored_events(job_id)
    assert_gap_free(events)
    marker = next(e for e in events if e["type"] == "control")
    assert marker["lr"] == 0.001 and marker["step"] == paused_at + 7
    statuses = [e["status"] for e in events if e["type"] == "status"]
    assert statuses == ["queued", "running", "paused", "running", "cancelled"]


def test_a_kind_that_steps_itself_has_no_learning_rate_to_set(server: LiveServer) -> None:
    """k-means has no optimizer: a rate sent to it is refused with the reason, not silently dropped."""
    assert server.get("/api/meta").json()["kinds"]["model"]["kmeans"]["gradients"] is False
    job = server.submit({"data": {"kind": "blobs"}, "model": {"kind": "kmeans"}, "optim": {"steps": 200}, "pace": 20})
    server.wait_status(job["id"], {"running"})
    refused = server.post(f"/api/jobs/{job['id']}/control", {"action": "set_lr", "lr": 0.1})
    assert refused.status_code == 422
    (error,) = refused.json()["detail"]
    assert error["loc"] == ["body", "action"] and error["type"] == "no_learning_rate" and "kmeans" in error["msg"]
    assert server.post(f"/api/jobs/{job['id']}/cancel").status_code == 202
    server.wait_status(job["id"], {"cancelled"}, timeout=30)
    assert not [e for e in server.stored_events(job["id"]) if e["type"] == "control"]


def test_compact_replay_thins_history_then_follows_live(server: LiveServer) -> None:
    job = server.submit({**QUICK, "optim": {"steps": 3000, "eval_every": 100}})
    full = watch(server.ws_url, job["id"])
    compact = watch(server.ws_url, job["id"], history="compact")
    assert compact.close_code == 1000
    steps = [p["step"] for e in compact.events if e["type"] == "scalars" for p in e["points"]]
    assert steps[0] == 1 and steps[-1] == 3000
    assert len(steps) <= 2000 + 30  # the cap on train points, plus the 30 evaluations
    assert len([e for e in full.events if e["type"] == "scalars" for p in e["points"]]) == 3000
    assert compact.events[-1]["status"] == "done"


def test_workers_run_at_a_lower_priority_than_the_server(server: LiveServer) -> None:
    """Training is throughput work: a worker training flat out must not take the server's turn."""
    assert server.process is not None
    server_nice = os.getpriority(os.PRIO_PROCESS, server.process.pid)
    workers = [w["pid"] for w in server.health()["workers"]]
    assert workers and all(os.getpriority(os.PRIO_PROCESS, pid) == min(19, server_nice + 10) for pid in workers)


def test_a_run_is_named_and_annotated_and_lists_filter_and_page(server: LiveServer) -> None:
    job = server.submit({**QUICK, "data": {"dataset": "xor", "n_points": 200}})
    server.wait_status(job["id"], {"done"})
    response = httpx.patch(f"{server.url}/api/jobs/{job['id']}", json={"name": "xor try", "notes": "<b>as text</b>"})
    assert response.status_code == 200, response.text
    assert (response.json()["name"], response.json()["notes"]) == ("xor try", "<b>as text</b>")
    assert httpx.patch(f"{server.url}/api/jobs/{job['id']}", json={"notes": "x" * 2001}).status_code == 422
    assert httpx.patch(f"{server.url}/api/jobs/nosuchjob", json={"name": "a"}).status_code == 404

    listed = server.get("/api/jobs", dataset="xor", lesson="false", limit=1).json()
    assert listed["jobs"][0]["id"] == job["id"] and listed["jobs"][0]["name"] == "xor try"
    everything = server.get("/api/jobs", limit=1000).json()
    assert everything["total"] == everything["count"] >= 1
    second = server.get("/api/jobs", limit=1, offset=1).json()
    assert second["total"] == everything["total"] and second["jobs"] == everything["jobs"][1:2]
    assert all(j["spec"]["data"].get("dataset") == "xor" for j in server.get("/api/jobs", dataset="xor").json()["jobs"])


def test_runs_sort_by_a_figure_and_filter_by_ranges_and_settings(server: LiveServer) -> None:
    grid = {"base": {**QUICK, "data": {"dataset": "moons", "n_points": 200}}, "grid": {"optim.lr": [0.001, 0.03, 0.3]}}
    created = server.post("/api/groups", grid)
    assert created.status_code == 201, created.text
    runs = {run["job_id"] for run in server.wait_group(created.json()["id"])["runs"]}

    def listed(**query: Any) -> list[dict[str, Any]]:
        # the most a page holds: the session's other runs (hundreds, by now) must not crowd these out
        response = httpx.get(f"{server.url}/api/jobs", params={**query, "limit": 1000}, timeout=10)
        assert response.status_code == 200, response.text
        return [job for job in response.json()["jobs"] if job["id"] in runs]

    best_first = listed(order="-val/acc")
    accuracies = [job["summary"]["val/acc"] for job in best_first]
    assert len(best_first) == 3 and accuracies == sorted(accuracies, reverse=True)
    assert [job["spec"]["optim"]["lr"] for job in listed(order="optim.lr")] == [0.001, 0.03, 0.3]
    middle = sorted(accuracies)[1]
    above = listed(where=[f"val/acc>={middle}", "optim.lr>0.002"])
    assert {job["id"] for job in above} == {
        job["id"] for job in best_first if job["summary"]["val/acc"] >= middle and job["spec"]["optim"]["lr"] > 0.002
    }
    for query, field in [
        ({"order": "val/acc;drop"}, ["query", "order"]),
        ({"where": ["val/acc>>1"]}, ["query", "where", 0]),
        ({"where": ["optim.lr>0.1", "optim.optimizer<adam"]}, ["query", "where", 1]),
        ({"where": ["bogus.field=1"]}, ["query", "where", 0]),
        ({"where": ["optim.lrx>0.1"]}, ["query", "where", 0]),  # no kind's spec has it
        ({"where": ["val/acc>0", "val/accc>0.5"]}, ["query", "where", 1]),  # no run reports it
        ({"order": "-val/accc"}, ["query", "order"]),
    ]:
        refused = httpx.get(f"{server.url}/api/jobs", params=query, timeout=10)
        assert refused.status_code == 422 and refused.json()["detail"][0]["loc"] == field, refused.text
    assert listed(where=["val/acc>2"]) == []  # a figure runs report, that none meets: nothing, not a 422
    too_many = httpx.get(f"{server.url}/api/jobs", params={"where": ["step>0"] * 9}, timeout=10)
    assert too_many.status_code == 422

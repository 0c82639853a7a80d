"""Access and limits on a live server started with a token and small limits."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

import httpx
import pytest
from websockets.sync.client import connect

from tests.api.test_jobs_live import LONG, QUICK
from tests.live import LiveServer, wait_for, watch

TOKEN = "s3cret-for-tests"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    env = {
        "TRAINSCOPE_TOKEN": TOKEN,
        "TRAINSCOPE_ALLOWED_ORIGINS": '["http://allowed.example"]',
        "TRAINSCOPE_LIMITS__MAX_BODY_BYTES": "2048",
        "TRAINSCOPE_LIMITS__MAX_JOBS_PER_CLIENT": "2",
        "TRAINSCOPE_LIMITS__MAX_VIEWERS_PER_JOB": "2",
        "TRAINSCOPE_LIMITS__MAX_JOB_SECONDS": "3",
        "TRAINSCOPE_HANG_TIMEOUT_S": "2",
        "TRAINSCOPE_TRUSTED_PROXIES": '["127.0.0.0/8"]',  # as if a reverse proxy on this machine fronted it
    }
    live = LiveServer(tmp_path_factory.mktemp("guarded") / "guarded.db", workers=1, env=env).start()
    yield live
    live.stop()


def call(server: LiveServer, method: str, path: str, body: Any = None, token: bool = True) -> httpx.Response:
    return httpx.request(method, server.url + path, json=body, headers=AUTH if token else {}, timeout=10)


def submit(server: LiveServer, spec: dict[str, Any]) -> str:
    response = call(server, "POST", "/api/jobs", spec)
    assert response.status_code == 201, response.text
    job_id: str = response.json()["id"]
    return job_id


def test_every_mutating_endpoint_needs_the_token_and_viewing_does_not(guarded: LiveServer) -> None:
    assert call(guarded, "POST", "/api/jobs", QUICK, token=False).status_code == 401
    wrong = httpx.post(guarded.url + "/api/jobs", json=QUICK, headers={"Authorization": "Bearer nope"}, timeout=10)
    assert wrong.status_code == 401 and wrong.headers["www-authenticate"] == "Bearer"
    job_id = submit(guarded, LONG)
    guarded.wait_status(job_id, {"running"})
    for method, path, body in [
        ("POST", f"/api/jobs/{job_id}/control", {"action": "pause"}),
        ("POST", f"/api/jobs/{job_id}/cancel", None),
        ("PATCH", f"/api/jobs/{job_id}", {"name": "mine now"}),
        ("DELETE", f"/api/jobs/{job_id}", None),
    ]:
        assert call(guarded, method, path, body, token=False).status_code == 401, path
    assert guarded.get(f"/api/jobs/{job_id}").status_code == 200  # viewing is open
    assert guarded.get("/api/meta").json()["token_required"] is True
    assert call(guarded, "POST", f"/api/jobs/{job_id}/control", {"action": "pause"}).status_code == 202
    assert call(guarded, "POST", f"/api/jobs/{job_id}/cancel").status_code == 202
    guarded.wait_status(job_id, {"cancelled"}, timeout=10)
    assert watch(guarded.ws_url, job_id).close_code == 1000  # following needs no token either
    assert call(guarded, "DELETE", f"/api/jobs/{job_id}").status_code == 204


def test_a_body_over_the_limit_is_413_declared_or_streamed(guarded: LiveServer) -> None:
    padded = {**QUICK, "name": "x" * 4000}
    assert call(guarded, "POST", "/api/jobs", padded).status_code == 413

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
        yield b'{"name": "'
        for _ in range(10):
            yield b"x" * 500
        yield b'"}'

    streamed = httpx.post(guarded.url + "/api/jobs", content=chunks(), headers=AUTH, timeout=10)
    assert streamed.status_code == 413
    assert call(guarded, "POST", "/api/jobs", {"surprise": True}).status_code == 422  # small bodies pass


def test_one_client_may_hold_only_its_share_of_jobs(guarded: LiveServer) -> None:
    first, second = submit(guarded, LONG), submit(guarded, LONG)
    refused = call(guarded, "POST", "/api/jobs", QUICK)
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0
    for job_id in (second, first):
        assert call(guarded, "POST", f"/api/jobs/{job_id}/cancel").status_code == 202
    for job_id in (first, second):
        guarded.wait_status(job_id, {"cancelled", "failed"}, timeout=15)


def test_behind_a_trusted_proxy_each_forwarded_client_has_its_own_share(guarded: LiveServer) -> None:
    def submit_as(client: str, spec: dict[str, Any]) -> httpx.Response:
        headers = {**AUTH, "X-Forwarded-For": f"203.0.113.9, {client}"}  # the left part is the client's say
        return httpx.post(guarded.url + "/api/jobs", json=spec, headers=headers, timeout=10)

    mine = [submit_as("198.51.100.1", LONG).json()["id"] for _ in range(2)]
    assert submit_as("198.51.100.1", QUICK).status_code == 429  # this client's share is full
    other = submit_as("198.51.100.2", LONG)  # another client behind the same proxy is not
    assert other.status_code == 201, other.text
    for job_id in (*mine, other.json()["id"]):
        assert call(guarded, "POST", f"/api/jobs/{job_id}/cancel").status_code == 202
    for job_id in (*mine, other.json()["id"]):
        guarded.wait_status(job_id, {"cancelled", "failed"}, timeout=15)


def test_a_job_past_its_time_limit_fails_with_that_reason(guarded: LiveServer) -> None:
    job_id = submit(guarded, LONG)
    failed = guarded.wait_status(job_id, {"failed"}, timeout=30)
    assert "time limit of 3 s" in failed["message"]


def test_a_hung_worker_is_killed_and_replaced(guarded: LiveServer) -> None:
    job_id = submit(guarded, LONG)
    guarded.wait_status(job_id, {"running"})
    worker = next(w for w in guarded.health()["workers"] if w["job"] == job_id)
    os.kill(worker["pid"], signal.SIGSTOP)  # alive but silent, as a worker stuck in a native call
    failed = guarded.wait_status(job_id, {"failed"}, timeout=20)
    assert "hung" in failed["message"]
    wait_for(lambda: guarded.health()["ready_workers"] == 1, 60, "a replacement worker")
    after = submit(guarded, QUICK)
    assert guarded.wait_status(after, {"done", "failed"})["status"] == "done"


def websocket_close(server: LiveServer, job_id: str, send: str | bytes | None = None, **headers: str) -> int | None:
    with connect(f"{server.ws_url}/ws/jobs/{job_id}", additional_headers=headers, open_timeout=10) as ws:
        if send is not None:
            ws.send(send)
        try:
            while True:
                ws.recv(timeout=10)
        except Exception:
            pass
        return ws.close_code


def test_websocket_origin_viewer_count_and_client_messages(guarded: LiveServer) -> None:
    job_id = submit(guarded, LONG)
    guarded.wait_status(job_id, {"running"})
    assert websocket_close(guarded, job_id, Origin="http://evil.example") == 4403
    assert websocket_close(guarded, job_id, send="hello") == 1008
    assert websocket_close(guarded, job_id, send="x" * 10_000) == 1009  # past the message size limit
    with ExitStack() as stack:
        url = f"{guarded.ws_url}/ws/jobs/{job_id}"
        holders = [
            stack.enter_context(connect(url, additional_headers={"Origin": "http://allowed.example"})),
            stack.enter_context(connect(url)),
        ]
        wait_for(lambda: all(h.recv(timeout=5) for h in holders), 10, "both viewers to receive")
        assert websocket_close(guarded, job_id) == 4429  # a third viewer of this job
    assert call(guarded, "POST", f"/api/jobs/{job_id}/cancel").status_code == 202
    guarded.wait_status(job_id, {"cancelled", "failed"}, timeout=10)


def test_cors_is_off_unless_configured(guarded: LiveServer) -> None:
    response = httpx.options(
        guarded.url + "/api/jobs",
        headers={"Origin": "http://evil.example", "Access-Control-Request-Method": "POST"},
        timeout=10,
    )
    assert "access-control-allow-origin" not in response.headers

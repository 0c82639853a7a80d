"""The workshop room over a live server with a token: followers are pushed the presenter's state and
every run and group the moment it is queued."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from tests.live import LiveServer

TOKEN = {"Authorization": "Bearer room-7"}
STATE = {"page": "playground", "values": {"data.dataset": "spiral", "model.hidden": [8, 8], "optim.lr": 0.01}}


@pytest.fixture(scope="module")
def room_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    live = LiveServer(tmp_path_factory.mktemp("room") / "room.db", workers=1, env={"TRAINSCOPE_TOKEN": "room-7"})
    yield live.start()
    live.stop()


def receive(ws: ClientConnection) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = json.loads(ws.recv(timeout=10))
    return messages


def test_only_the_token_holder_presents_and_a_late_follower_gets_the_newest_state(room_server: LiveServer) -> None:
    assert httpx.put(room_server.url + "/api/room", json=STATE).status_code == 401
    for lr in (0.1, 0.01):  # two states: a follower arriving later is sent only the newest
        state = {**STATE, "values": {**STATE["values"], "optim.lr": lr}}
        assert httpx.put(room_server.url + "/api/room", json=state, headers=TOKEN).status_code == 204
    with connect(room_server.ws_url + "/ws/room") as ws:
        (presenter,) = receive(ws)
        assert presenter["type"] == "presenter" and presenter["values"] == STATE["values"]


def test_followers_are_told_of_each_run_and_group_as_it_is_queued(room_server: LiveServer) -> None:
    with connect(room_server.ws_url + "/ws/room") as first, connect(room_server.ws_url + "/ws/room") as second:
        assert [m["type"] for m in receive(first)] == ["presenter"]  # from the test before
        receive(second)
        job = httpx.post(
            room_server.url + "/api/jobs", json={"optim": {"steps": 100}}, headers=TOKEN, timeout=10
        ).json()
        group = httpx.post(room_server.url + "/api/lessons/bias/run", json={}, headers=TOKEN, timeout=10).json()
        for ws in (first, second):
            told = [message for _ in range(2) for message in receive(ws)]
            assert [m["type"] for m in told] == ["job", "group"]
            assert told[0]["job"]["id"] == job["id"] and told[0]["job"]["spec"]["optim"]["steps"] == 100
            assert told[1]["group"] == {"id": group["id"], "name": group["name"], "lesson": "bias"}


@pytest.mark.parametrize(
    "state",
    [
        {"page": "elsewhere"},
        {"page": "playground", "values": {"x" * 65: 1}},
        {"page": "playground", "values": {"model.hidden": [[1]]}},
        {"page": "playground", "values": {f"k{i}": i for i in range(65)}},
        {"page": "lessons", "lesson": "l" * 65},
    ],
)
def test_a_malformed_presenter_state_is_refused(room_server: LiveServer, state: dict[str, Any]) -> None:
    response = httpx.put(room_server.url + "/api/room", json=state, headers=TOKEN)
    assert response.status_code == 422, response.text


def test_a_follower_from_a_foreign_origin_is_refused(room_server: LiveServer) -> None:
    with connect(room_server.ws_url + "/ws/room", origin="http://elsewhere.example") as ws:  # type: ignore[arg-type]
        with pytest.raises(ConnectionClosed):
            ws.recv(timeout=10)
        assert ws.close_code == 4403


def test_a_late_follower_is_sent_the_presenters_state_newest_run_and_newest_group(room_server: LiveServer) -> None:
    with connect(room_server.ws_url + "/ws/room") as ws:
        assert [m["type"] for m in receive(ws)] == ["presenter", "job", "group"]

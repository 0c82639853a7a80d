"""trainscope.client against a live server: follow a run (sync and asyncio) and get every event once
in order, resume after a seq, wait, read scalars as a DataFrame, export, run a lesson."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from tests.live import LiveServer
from trainscope.client import AsyncClient, Client, ServerError
from trainscope.schemas import JobStatus

SPEC = {"data": {"dataset": "moons", "n_points": 200}, "optim": {"steps": 400, "eval_every": 50}, "pace": 2000}


def test_following_a_run_gives_every_event_once_in_order_live(server: LiveServer) -> None:
    with Client(server.url) as client:
        job = client.submit(SPEC)
        seen = list(client.follow(job.id))  # subscribed while it runs: history, then live
        final = client.job(job.id)
    assert [event["seq"] for event in seen] == list(range(1, final.last_seq + 1))
    assert seen[-1]["type"] == "status" and seen[-1]["status"] == "done"
    assert seen == server.stored_events(job.id)


def test_resuming_after_a_seq_and_waiting(server: LiveServer) -> None:
    with Client(server.url) as client:
        job = client.submit(SPEC)
        assert client.wait(job.id).status is JobStatus.done
        rest = list(client.follow(job.id, after=5))
        last_seq = client.job(job.id).last_seq
    assert [event["seq"] for event in rest] == list(range(6, last_seq + 1))


def test_asyncio_follows_the_same_events(server: LiveServer) -> None:
    with Client(server.url) as client:
        job = client.submit(SPEC)

    async def follow() -> list[dict[str, Any]]:
        return [event async for event in AsyncClient(server.url).follow(job.id)]

    seen = asyncio.run(follow())
    assert [event["seq"] for event in seen] == list(range(1, len(seen) + 1))
    assert seen[-1]["status"] == "done"


def test_scalars_as_a_dataframe_and_an_export_file(server: LiveServer, tmp_path: Path) -> None:
    with Client(server.url) as client:
        job = client.wait(client.submit(SPEC).id)
        frame = client.scalars_frame(job.id)
        losses = client.scalars(job.id, "train/loss", max_points=1000)
        written = client.export(job.id, "jsonl", tmp_path / "run.jsonl")
    train = frame[frame["tag"] == "train/loss"]
    assert list(frame.columns) == ["run", "tag", "step", "wall", "value"]
    assert train["step"].tolist() == losses.steps and train["value"].tolist() == losses.values
    assert written == (tmp_path / "run.jsonl").stat().st_size > 0


def test_refusals_come_back_as_server_errors(server: LiveServer) -> None:
    with Client(server.url) as client:
        with pytest.raises(ServerError) as refused:
            client.submit({"optim": {"lr": 1e9}})
        assert refused.value.status == 422 and refused.value.detail[0]["loc"] == ["body", "optim", "lr"]
        with pytest.raises(ServerError) as missing:
            list(client.follow("nosuchjob"))
        assert missing.value.status == 404


def test_a_lesson_runs_to_its_verdict(server: LiveServer) -> None:
    with Client(server.url) as client:
        group = client.wait_group(client.run_lesson("bias").id)
    assert group.verdict is not None and group.verdict.held is True

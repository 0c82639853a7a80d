"""trainscope.client against a live server: follow a run (sync and asyncio) and get every event once
in order, typed, resume after a seq, wait, list and sort, read scalars as a DataFrame, export, groups,
run a lesson, and every failure as one family of errors, the same from both clients."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from tests.live import LiveServer, free_port
from trainscope.client import AsyncClient, Client, Invalid, NotFound, TrainscopeError, Unreachable
from trainscope.schemas import JobStatus, ScalarsEvent, StatusEvent

SPEC = {"data": {"dataset": "moons", "n_points": 200}, "optim": {"steps": 400, "eval_every": 50}, "pace": 2000}


def test_following_a_run_gives_every_event_once_in_order_live(server: LiveServer) -> None:
    with Client(server.url) as client:
        job = client.submit(SPEC)
        seen = list(client.follow(job.id, raw=True))  # subscribed while it runs: history, then live
        typed = list(client.follow(job.id))
        final = client.job(job.id)
    assert [event["seq"] for event in seen] == list(range(1, final.last_seq + 1))
    assert seen[-1]["type"] == "status" and seen[-1]["status"] == "done"
    assert seen == server.stored_events(job.id)
    assert [event.seq for event in typed] == [event["seq"] for event in seen]
    assert isinstance(typed[-1], StatusEvent) and typed[-1].status is JobStatus.done
    assert any(isinstance(event, ScalarsEvent) for event in typed)


def test_resuming_after_a_seq_and_waiting(server: LiveServer) -> None:
    with Client(server.url) as client:
        job = client.submit(SPEC)
        assert client.wait(job.id).status is JobStatus.done
        rest = list(client.follow(job.id, after=5))
        last_seq = client.job(job.id).last_seq
    assert [event.seq for event in rest] == list(range(6, last_seq + 1))


def test_asyncio_follows_the_same_events(server: LiveServer) -> None:
    with Client(server.url) as client:
        job = client.submit(SPEC)

    async def follow() -> list[Any]:
        async with AsyncClient(server.url) as client:
            return [event async for event in client.follow(job.id)]

    seen = asyncio.run(follow())
    assert [event.seq for event in seen] == list(range(1, len(seen) + 1))
    assert isinstance(seen[-1], StatusEvent) and seen[-1].status is JobStatus.done


def test_scalars_as_a_dataframe_and_an_export_file(server: LiveServer, tmp_path: Path) -> None:
    with Client(server.url) as client:
        job = client.wait(client.submit(SPEC).id)
        frame = client.scalars_frame(job.id)
        losses = client.scalars(job.id, "train/loss", max_points=1000)
        written = client.export(job.id, "jsonl", tmp_path / "run.jsonl")
        as_text = client.export(job.id, "csv", str(tmp_path / "run.csv"))  # a path as str works too
    train = frame[frame["tag"] == "train/loss"]
    assert list(frame.columns) == ["run", "tag", "step", "wall", "value"]
    assert train["step"].tolist() == losses.steps and train["value"].tolist() == losses.values
    assert written == (tmp_path / "run.jsonl").stat().st_size > 0
    assert as_text == (tmp_path / "run.csv").stat().st_size > 0


def test_every_failure_is_a_trainscope_error_the_same_sync_and_async(server: LiveServer) -> None:
    async def async_failures() -> list[TrainscopeError]:
        caught = []
        async with AsyncClient(server.url) as client:
            for attempt in (client.submit({"optim": {"lr": 1e9}}), client.job("nosuchjob")):
                with pytest.raises(TrainscopeError) as error:
                    await attempt
                caught.append(error.value)
            with pytest.raises(TrainscopeError) as error:
                _ = [event async for event in client.follow("nosuchjob")]
            caught.append(error.value)
        async with AsyncClient(f"http://127.0.0.1:{free_port()}") as nobody:
            with pytest.raises(TrainscopeError) as error:
                await nobody.job("x")
            caught.append(error.value)
        return caught

    sync = []
    with Client(server.url) as client:
        for attempt in (lambda: client.submit({"optim": {"lr": 1e9}}), lambda: client.job("nosuchjob")):
            with pytest.raises(TrainscopeError) as error:
                attempt()
            sync.append(error.value)
        with pytest.raises(TrainscopeError) as error:
            list(client.follow("nosuchjob"))
        sync.append(error.value)
    with Client(f"http://127.0.0.1:{free_port()}") as nobody, pytest.raises(TrainscopeError) as error:
        nobody.job("x")
    sync.append(error.value)

    for caught in (sync, asyncio.run(async_failures())):
        invalid, missing, missing_follow, unreachable = caught
        assert isinstance(invalid, Invalid) and invalid.status == 422
        assert [f.field for f in invalid.fields] == ["optim.lr"] and "optim.lr" in str(invalid)
        assert isinstance(missing, NotFound) and missing.status == 404
        assert isinstance(missing_follow, NotFound) and missing_follow.status == 404
        assert isinstance(unreachable, Unreachable)


def test_runs_are_listed_by_every_filter_and_groups_are_created_followed_and_exported(
    server: LiveServer, tmp_path: Path
) -> None:
    with Client(server.url) as client:
        group = client.create_group(SPEC, grid={"optim.lr": [0.003, 0.3]}, name="lr sweep")
        snapshots = list(client.follow_group(group.id, poll_s=0.1))
        best = client.jobs(order="-val/acc", where=["optim.lr>0.001"], dataset="moons", lesson=False, limit=500)
        written = client.export_group(group.id, "csv", tmp_path / "sweep.csv")
        assert group.id in [listed.id for listed in client.groups()]
        with pytest.raises(Invalid) as refused:
            client.create_group(SPEC, grid={"optim.nosuch": [1]})
        with pytest.raises(Invalid):
            client.jobs(where=["val/acc>>1"])
    assert snapshots[-1].finished and all(run.job and run.job.status is JobStatus.done for run in snapshots[-1].runs)
    ours = [job for job in best.jobs if job.group_id == group.id]
    assert len(ours) == 2 and ours[0].summary["val/acc"] >= ours[1].summary["val/acc"]
    assert refused.value.fields[0].field.startswith("grid")
    rows = (tmp_path / "sweep.csv").read_text().splitlines()
    assert written > 0 and rows[0] == "run,tag,step,wall,value" and len({row.split(",")[0] for row in rows[1:]}) == 2


def test_a_lesson_runs_to_its_verdict(server: LiveServer) -> None:
    with Client(server.url) as client:
        group = client.wait_group(client.run_lesson("bias").id)
    assert group.verdict is not None and group.verdict.held is True

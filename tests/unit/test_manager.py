"""The manager against a fake executor: dispatch, a worker's death, a hung worker and cancels, with a real
SQLite store and hub and no processes (the live API tests run the real pool)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import TypeAdapter

from trainscope.config import Settings
from trainscope.jobs.executor import OnReport
from trainscope.jobs.manager import DatasetGone, DatasetMissing, DatasetsFull, JobConflict, JobManager, new_record
from trainscope.jobs.messages import Died, FromWorker, Worker, WorkerReport
from trainscope.jobs.wire import ControlJob, JobIdle, Ready, RunJob, ToWorker, encode_event
from trainscope.schemas import CancelCommand, Event, EventBase, JobSpec, JobStatus, PauseCommand, UploadedRows
from trainscope.store.base import DatasetRecord, WriteBatch
from trainscope.store.sql import SqlStore
from trainscope.stream.hub import Hub

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class FakeExecutor:
    """Workers that do only what the test says they do; every message sent to them is kept."""

    def __init__(self, settings: Settings, on_report: OnReport) -> None:
        self.on_report = on_report
        self.workers: list[Worker] = [Worker(i) for i in range(settings.workers)]
        self.sent: list[tuple[Worker, ToWorker]] = []
        self.killed: list[Worker] = []
        self.replaced: list[Worker] = []

    def start(self) -> None:
        pass

    def send(self, worker: Worker, message: ToWorker) -> bool:
        self.sent.append((worker, message))
        return True

    def kill(self, worker: Worker) -> None:
        self.killed.append(worker)
        self.say(worker, Died(-9))  # as a real worker's reader reports its SIGKILL

    def replace(self, dead: Worker) -> Worker:
        self.replaced.append(dead)
        self.workers[dead.index] = Worker(dead.index)
        return self.workers[dead.index]

    def stop(self, timeout: float = 5.0) -> None:
        pass

    def say(self, worker: Worker, report: WorkerReport) -> None:
        self.on_report(FromWorker(worker, report))

    def runs(self) -> list[tuple[Worker, str]]:
        return [(worker, message.job_id) for worker, message in self.sent if isinstance(message, RunJob)]


async def until(condition: Callable[[], object], timeout: float = 5.0) -> None:
    """Wait for the condition, polling the event loop, at most `timeout` seconds."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.01)


@pytest.fixture
async def manager(tmp_path: Path) -> AsyncIterator[JobManager]:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'm.db'}", workers=2, hang_timeout_s=0.4, heartbeat_s=0.1)
    store = SqlStore(settings.database_url)
    store.create_schema()
    manager = JobManager(settings, store, Hub(64), executor=FakeExecutor)
    await manager.start()
    yield manager
    await manager.stop()
    store.close()


def fake(manager: JobManager) -> FakeExecutor:
    assert isinstance(manager.pool, FakeExecutor)
    return manager.pool


def status(manager: JobManager, job_id: str) -> JobStatus | None:
    record = manager.store.get_job(job_id)
    return record.status if record else None


def event(kind: str, **fields: object) -> EventBase:
    return TypeAdapter(Event).validate_python({"type": kind, "step": 0, **fields})


async def test_queued_jobs_go_to_ready_workers_oldest_first(manager: JobManager) -> None:
    pool = fake(manager)
    first, second, third = [await manager.submit(JobSpec()) for _ in range(3)]
    await asyncio.sleep(0.05)
    assert pool.runs() == []  # no worker is ready yet
    pool.say(pool.workers[0], Ready({"cuda": False}))
    await until(lambda: pool.runs() == [(pool.workers[0], first.id)])
    pool.say(pool.workers[1], Ready({"cuda": False}))
    await until(lambda: pool.runs()[1:] == [(pool.workers[1], second.id)])

    worker = pool.workers[0]
    pool.say(worker, encode_event(first.id, event("status", status="running", message="")))
    pool.say(worker, encode_event(first.id, event("status", status="done", message="finished")))
    pool.say(worker, JobIdle(first.id))
    await until(lambda: status(manager, first.id) == JobStatus.done)
    await until(lambda: pool.runs()[2:] == [(worker, third.id)])  # the freed worker takes the next


async def test_a_dead_workers_job_fails_with_the_cause_and_the_worker_is_replaced(manager: JobManager) -> None:
    pool = fake(manager)
    pool.say(pool.workers[0], Ready({}))
    job = await manager.submit(JobSpec())
    await until(lambda: pool.runs() == [(pool.workers[0], job.id)])
    dead = pool.workers[0]
    pool.say(dead, encode_event(job.id, event("status", status="running", message="")))
    pool.say(dead, Died(-9))
    await until(lambda: status(manager, job.id) == JobStatus.failed)
    record = manager.store.get_job(job.id)
    assert record is not None and record.message == "worker process killed by SIGKILL"
    assert pool.replaced == [dead] and pool.workers[0] is not dead and not pool.workers[0].ready


async def test_a_silent_worker_is_killed_and_its_job_failed_as_hung(manager: JobManager) -> None:
    pool = fake(manager)
    pool.say(pool.workers[0], Ready({}))
    job = await manager.submit(JobSpec())
    await until(lambda: pool.runs() == [(pool.workers[0], job.id)])
    hung = pool.workers[0]  # says nothing more: past hang_timeout_s the watchdog kills it
    await until(lambda: status(manager, job.id) == JobStatus.failed, timeout=5)
    record = manager.store.get_job(job.id)
    assert pool.killed == [hung] and record is not None and record.message.startswith("worker hung")


async def test_cancel_a_queued_job_at_once_and_a_running_one_through_its_worker(manager: JobManager) -> None:
    pool = fake(manager)
    queued = await manager.submit(JobSpec())
    await manager.cancel(queued.id)
    assert status(manager, queued.id) == JobStatus.cancelled and pool.sent == []
    with pytest.raises(JobConflict):
        await manager.cancel(queued.id)  # it has ended

    pool.say(pool.workers[0], Ready({}))
    running = await manager.submit(JobSpec())
    await until(lambda: pool.runs() == [(pool.workers[0], running.id)])
    with pytest.raises(JobConflict):
        await manager.control(running.id, PauseCommand(action="pause"))  # not running until it says so
    pool.say(pool.workers[0], encode_event(running.id, event("status", status="running", message="")))
    await until(lambda: status(manager, running.id) == JobStatus.running)
    await manager.control(running.id, PauseCommand(action="pause"))
    await manager.cancel(running.id)
    commands = [message for _, message in pool.sent if isinstance(message, ControlJob)]
    assert commands == [ControlJob(running.id, PauseCommand(action="pause")), ControlJob(running.id, CancelCommand())]


async def test_jobs_on_an_uploaded_table_carry_its_rows_to_the_worker_one_copy_for_all(manager: JobManager) -> None:
    pool = fake(manager)
    created = datetime(2026, 11, 26, tzinfo=UTC)
    table = DatasetRecord("0123456789ab", "t", created, 4, ["a", "b"], "y", "class", [0.0, 1.0], 40)
    await manager.add_dataset(table, UploadedRows(b"\x00" * 32, b"\x00" * 16))
    data = {"kind": "uploaded", "dataset": "0123456789ab", "n_rows": 4, "n_features": 2, "n_classes": 2}
    first, second = [await manager.submit(JobSpec.model_validate({"data": data})) for _ in range(2)]
    for worker in pool.workers:
        pool.say(worker, Ready({"cuda": False}))
    await until(lambda: len(pool.runs()) == 2)
    [one, other] = [message for _, message in pool.sent if isinstance(message, RunJob)]
    assert one.rows == UploadedRows(b"\x00" * 32, b"\x00" * 16) and one.rows is other.rows
    assert [first.id, second.id] == [job_id for _, job_id in pool.runs()]
    with pytest.raises(DatasetGone):  # one never stored, or deleted since the route looked
        await manager.submit(JobSpec.model_validate({"data": {**data, "dataset": "ffffffffffff"}}))


async def test_a_job_queued_on_a_table_deleted_while_the_server_was_down_fails_saying_so(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'm.db'}", workers=1)
    store = SqlStore(settings.database_url)
    store.create_schema()
    data = {"kind": "uploaded", "dataset": "0123456789ab", "n_rows": 4, "n_features": 2, "n_classes": 2}
    record = new_record(JobSpec.model_validate({"data": data}))
    store.write(WriteBatch(new_jobs=[record]))  # queued by a server that stopped before running it
    manager = JobManager(settings, store, Hub(64), executor=FakeExecutor)
    await manager.start()
    try:
        await until(lambda: status(manager, record.id) == JobStatus.failed)
        assert store.get_job(record.id).message == "its uploaded dataset 0123456789ab was deleted"  # type: ignore[union-attr]
    finally:
        await manager.stop()
        store.close()


async def test_uploads_at_once_never_store_more_than_max_datasets_and_a_delete_makes_room(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'm.db'}", workers=1, limits={"max_datasets": 3})
    store = SqlStore(settings.database_url)
    store.create_schema()
    manager = JobManager(settings, store, Hub(64), executor=FakeExecutor)
    await manager.start()
    created = datetime(2026, 11, 26, tzinfo=UTC)
    rows = UploadedRows(b"\x00" * 32, b"\x00" * 16)
    tables = [DatasetRecord(f"{i:012d}", "t", created, 4, ["a", "b"], "y", "class", [0.0, 1.0], 40) for i in range(20)]
    results = await asyncio.gather(*(manager.add_dataset(t, rows) for t in tables), return_exceptions=True)
    assert sum(result is None for result in results) == 3
    assert all(isinstance(result, DatasetsFull) for result in results if result is not None)
    assert len(store.list_datasets()) == 3 and manager.datasets_full()
    await manager.delete_dataset(tables[0].id)
    with pytest.raises(DatasetMissing):
        await manager.delete_dataset(tables[0].id)
    await manager.add_dataset(tables[5], rows)
    assert {d.id for d in store.list_datasets()} == {tables[i].id for i in (1, 2, 5)}
    await manager.stop()
    store.close()

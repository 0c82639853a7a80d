"""The manager against a fake job-level executor: what it hands over and when, a job's events and its end,
cancels and commands, with a real SQLite store and hub and no processes (test_slots.py tests the queue
and the workers; the live API tests run both executors for real)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import TypeAdapter

from trainscope.config import Settings
from trainscope.jobs.executor import ExecutorReport, JobEnded, OnReport
from trainscope.jobs.manager import DatasetGone, DatasetMissing, DatasetsFull, JobConflict, JobManager, new_record
from trainscope.jobs.wire import RunJob, encode_event
from trainscope.schemas import (
    CancelCommand,
    Command,
    Event,
    EventBase,
    JobSpec,
    JobStatus,
    PauseCommand,
    UploadedRows,
)
from trainscope.store.base import DatasetRecord, WriteBatch
from trainscope.store.sql import SqlStore
from trainscope.stream.hub import Hub

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class FakeExecutor:
    """A job-level executor that does only what the test says its workers do; every call is kept."""

    def __init__(self, settings: Settings, on_report: OnReport) -> None:
        self.on_report = on_report
        self.submitted: list[RunJob] = []
        self.waiting: list[str] = []  # submitted, not yet taken by a worker
        self.commands: list[tuple[str, Command]] = []
        self.cuda: bool | None = None

    def start(self) -> None:
        pass

    def submit(self, job: RunJob) -> None:
        self.submitted.append(job)
        self.waiting.append(job.job_id)

    def take(self, job_id: str) -> None:
        """A worker takes the job and says it runs."""
        self.waiting.remove(job_id)
        self.say(encode_event(job_id, event("status", status="running", message="")))

    def control(self, job_id: str, command: Command) -> bool:
        taken = job_id in self.ids() and job_id not in self.waiting
        if taken:
            self.commands.append((job_id, command))
        return taken

    def cancel(self, job_id: str) -> bool:
        if job_id in self.waiting:
            self.waiting.remove(job_id)
            return True
        self.control(job_id, CancelCommand())
        return False

    def workers(self) -> list[dict[str, Any]]:
        return []

    def has_cuda(self) -> bool | None:
        return self.cuda

    def stop(self, timeout: float = 5.0) -> None:
        pass

    def say(self, report: ExecutorReport) -> None:
        self.on_report(report)

    def ids(self) -> list[str]:
        return [job.job_id for job in self.submitted]


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
    assert isinstance(manager.executor, FakeExecutor)
    return manager.executor


def status(manager: JobManager, job_id: str) -> JobStatus | None:
    record = manager.store.get_job(job_id)
    return record.status if record else None


def message(manager: JobManager, job_id: str) -> str:
    record = manager.store.get_job(job_id)
    assert record is not None
    return record.message


def event(kind: str, **fields: object) -> EventBase:
    return TypeAdapter(Event).validate_python({"type": kind, "step": 0, **fields})


async def test_jobs_reach_the_executor_once_stored_in_order_and_their_events_the_store(manager: JobManager) -> None:
    executor = fake(manager)
    first, second = [await manager.submit(JobSpec.model_validate({"device": device})) for device in ("cpu", "auto")]
    await until(lambda: executor.ids() == [first.id, second.id])
    assert [job.device for job in executor.submitted] == ["cpu", "auto"]  # for the executor to place them
    assert status(manager, first.id) == JobStatus.queued and manager.health()["queued"] == 2

    executor.take(first.id)
    executor.say(encode_event(first.id, event("scalars", points=[{"step": 1, "values": {"train/loss": 0.5}}])))
    executor.say(encode_event(first.id, event("status", status="done", message="finished")))
    executor.say(JobEnded(first.id))
    await until(lambda: status(manager, first.id) == JobStatus.done)
    assert [e.type for e in manager.store.read_events(first.id)] == ["status", "status", "scalars", "status"]
    assert manager.store.get_job(first.id).summary["train/loss"] == 0.5  # type: ignore[union-attr]
    assert manager.health()["queued"] == 1 and manager.health()["active"] == 0


async def test_a_job_the_executor_lost_fails_with_the_cause_and_one_ended_silently_fails_too(
    manager: JobManager,
) -> None:
    executor = fake(manager)
    lost, silent = [await manager.submit(JobSpec()) for _ in range(2)]
    await until(lambda: len(executor.submitted) == 2)
    executor.take(lost.id)
    executor.say(JobEnded(lost.id, "worker process killed by SIGKILL"))
    executor.take(silent.id)
    executor.say(JobEnded(silent.id))  # no final status came first: a bug somewhere, never a hang
    await until(lambda: status(manager, lost.id) == status(manager, silent.id) == JobStatus.failed)
    assert message(manager, lost.id) == "worker process killed by SIGKILL"
    assert message(manager, silent.id) == "the worker finished the job without a final status"


async def test_cancel_a_waiting_job_at_once_and_a_running_one_through_its_worker(manager: JobManager) -> None:
    executor = fake(manager)
    waiting = await manager.submit(JobSpec())
    await until(lambda: executor.ids() == [waiting.id])
    await manager.cancel(waiting.id)
    assert status(manager, waiting.id) == JobStatus.cancelled and executor.waiting == []
    with pytest.raises(JobConflict):
        await manager.cancel(waiting.id)  # it has ended

    running = await manager.submit(JobSpec())
    await until(lambda: running.id in executor.waiting)
    with pytest.raises(JobConflict):
        await manager.control(running.id, PauseCommand(action="pause"))  # not running until it says so
    executor.take(running.id)
    await until(lambda: status(manager, running.id) == JobStatus.running)
    await manager.control(running.id, PauseCommand(action="pause"))
    await manager.cancel(running.id)
    assert executor.commands == [(running.id, PauseCommand(action="pause")), (running.id, CancelCommand())]
    assert status(manager, running.id) == JobStatus.running  # until its worker says how it ended


async def test_a_cuda_job_is_refused_once_the_workers_say_there_is_no_cuda(manager: JobManager) -> None:
    executor = fake(manager)
    spec = JobSpec.model_validate({"device": "cuda"})
    assert manager.device_error(spec) is None  # not known yet: the worker would say so
    executor.cuda = False
    assert manager.device_error(spec) == "this server has no CUDA device"
    assert manager.device_error(JobSpec.model_validate({"device": "cpu"})) is None
    nccl = JobSpec.model_validate({"optim": {"batch_size": 32}, "distributed": {"world_size": 2, "backend": "nccl"}})
    assert manager.device_error(nccl) == (
        "distributed.backend nccl needs a GPU for each rank and this server has none: use gloo"
    )


async def test_jobs_on_an_uploaded_table_carry_its_rows_to_the_worker_one_copy_for_all(manager: JobManager) -> None:
    executor = fake(manager)
    created = datetime(2026, 11, 26, tzinfo=UTC)
    table = DatasetRecord("0123456789ab", "t", created, 4, ["a", "b"], "y", "class", [0.0, 1.0], 40)
    await manager.add_dataset(table, UploadedRows(b"\x00" * 32, b"\x00" * 16))
    data = {"kind": "uploaded", "dataset": "0123456789ab", "n_rows": 4, "n_features": 2, "n_classes": 2}
    first, second = [await manager.submit(JobSpec.model_validate({"data": data})) for _ in range(2)]
    await until(lambda: len(executor.submitted) == 2)
    [one, other] = executor.submitted
    assert one.rows == UploadedRows(b"\x00" * 32, b"\x00" * 16) and one.rows is other.rows
    assert [first.id, second.id] == executor.ids()
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


async def test_jobs_a_stopped_server_left_waiting_are_handed_over_again_and_running_ones_failed(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'm.db'}", workers=1)
    store = SqlStore(settings.database_url)
    store.create_schema()
    waiting, running = new_record(JobSpec()), new_record(JobSpec())
    running.status = JobStatus.running
    store.write(WriteBatch(new_jobs=[waiting, running]))
    manager = JobManager(settings, store, Hub(64), executor=FakeExecutor)
    await manager.start()
    try:
        await until(lambda: status(manager, running.id) == JobStatus.failed)
        assert fake(manager).ids() == [waiting.id] and message(manager, running.id) == "server restarted"
    finally:
        await manager.stop()
        store.close()


class ReportsWhileStopping(FakeExecutor):
    """Stops as the real executors do: its threads report each running job's last events and its end,
    and it returns once they have been handed over."""

    def stop(self, timeout: float = 5.0) -> None:
        def last_words() -> None:
            for job_id in self.ids():
                for step in range(1, 4):
                    self.say(encode_event(job_id, event("scalars", points=[{"step": step, "values": {"x": 1.0}}])))
                self.say(encode_event(job_id, event("status", status="failed", message="the server stopped")))

        reporter = threading.Thread(target=last_words)
        reporter.start()
        reporter.join()


async def test_a_stopping_server_stores_every_report_its_executor_made_while_stopping(tmp_path: Path) -> None:
    """Past one pump batch: a job ended cleanly once read "server restarted" after a stop (its end reached
    the inbox behind the pump's Stop)."""
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'm.db'}", workers=1, pump_batch=2)
    store = SqlStore(settings.database_url)
    store.create_schema()
    manager = JobManager(settings, store, Hub(64), executor=ReportsWhileStopping)
    await manager.start()
    try:
        job = await manager.submit(JobSpec())
        await until(lambda: fake(manager).ids() == [job.id])
        fake(manager).take(job.id)
        await until(lambda: status(manager, job.id) == JobStatus.running)
    finally:
        await manager.stop()
    assert status(manager, job.id) == JobStatus.failed and message(manager, job.id) == "the server stopped"
    assert [e.type for e in store.read_events(job.id)][-4:] == ["scalars"] * 3 + ["status"]
    store.close()

"""The job manager: the one write path (the event pump) and the jobs' state machine. Its executor runs
the jobs (queue, dispatch, workers: executor.py); the ledger books their events.

The pump is the only writer to the store. Every change (a job created, cancelled or deleted, an event
from a worker, a job its executor lost) arrives in one inbox; the pump applies a batch of them to its
in-memory view, writes the batch in one transaction, then publishes the stored events to the hub.
Publishing only after the commit is what lets a viewer replay the store and then follow live events
with no gap.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
import weakref
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from trainscope.config import Settings
from trainscope.jobs.executor import ExecutorFactory, ExecutorReport, JobEnded, make_executor
from trainscope.jobs.groups import PlannedRun
from trainscope.jobs.ledger import Ledger, LiveJob, Pending, utcnow
from trainscope.jobs.messages import (
    AddDataset,
    Annotate,
    Cancel,
    Control,
    Create,
    Delete,
    DeleteDataset,
    Fail,
    PumpMessage,
    Request,
    Stop,
    Withdraw,
)
from trainscope.jobs.wire import JobEvent, RunJob
from trainscope.schemas import CancelCommand, Command, JobSpec, JobStatus, UploadedData, UploadedRows
from trainscope.store.base import DatasetRecord, GroupRecord, JobRecord, RunStore, StoreUnavailable, WriteBatch
from trainscope.stream.hub import Hub
from trainscope.training.stacking import auto_device, lockstep_groups

log = logging.getLogger(__name__)

ROOM_CHECK_S = 0.5  # how often the pump looks at the database's free space (~0.1 ms a look)


class QueueFull(Exception):
    """The queue, or this client's share of the jobs, is full."""


class JobConflict(Exception):
    pass


class StoreStalled(Exception):
    """The pump did not answer in time (the store cannot be written): the request was not carried out."""


class StoreFull(Exception):
    """The events already stored take the whole storage budget (limits.max_store_bytes)."""


class DatasetsFull(StoreFull):
    """limits.max_datasets uploaded tables are stored."""


class DatasetMissing(LookupError):
    """No uploaded table has this id."""


class DatasetGone(Exception):
    """The uploaded table a spec names is no longer stored."""

    def __init__(self, dataset_id: str) -> None:
        super().__init__(dataset_id)
        self.dataset_id = dataset_id


def new_record(spec: JobSpec, group_id: str | None = None) -> JobRecord:
    return JobRecord(
        id=uuid.uuid4().hex[:12],
        name=spec.name,
        status=JobStatus.queued,
        spec=spec.model_dump(mode="json"),
        created_at=utcnow(),
        dataset=spec.dataset_name,
        group_id=group_id,
    )


class JobManager:
    def __init__(
        self, settings: Settings, store: RunStore, hub: Hub, executor: ExecutorFactory = make_executor
    ) -> None:
        self.settings = settings
        self.store = store
        self.hub = hub
        self.executor = executor(settings, self._from_executor)
        self._inbox: asyncio.Queue[PumpMessage] = asyncio.Queue()
        self.ledger = Ledger(settings.limits, self._stop_for_room)
        self._recovered: list[str] = []  # jobs a previous server process left queued
        self._pump_task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        # uploaded tables by id while jobs on them wait or run: one copy however many jobs share it
        self._tables: weakref.WeakValueDictionary[str, UploadedRows] = weakref.WeakValueDictionary()
        self._datasets: set[str] = set()  # the stored tables' ids, counted against limits.max_datasets
        self._next_room_check = 0.0
        self._store_error = ""  # why the last write failed, until one succeeds

    # ---- lifecycle -------------------------------------------------------------------------
    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self.ledger.stored_bytes = await asyncio.to_thread(self.store.event_bytes)
        self._datasets = {record.id for record in await asyncio.to_thread(self.store.list_datasets)}
        for record in reversed(await asyncio.to_thread(self.store.list_jobs, None, None)):
            if record.status.terminal:
                continue
            spec = JobSpec.model_validate(record.spec)
            started = record.started_at is not None
            self.ledger.live[record.id] = live = LiveJob(
                record.status,
                record.last_seq,
                spec.model_dump_json(),
                started=started,
                stored_bytes=record.stored_bytes,
            )
            if record.status != JobStatus.queued:  # left running or paused by a previous server process
                self._inbox.put_nowait(Fail(record.id, "server restarted"))
                continue
            try:
                [live.rows] = await self._rows_for([spec])
                self._recovered.append(record.id)
            except DatasetGone as gone:
                self._inbox.put_nowait(Fail(record.id, f"its uploaded dataset {gone.dataset_id} was deleted"))
        await asyncio.to_thread(self.executor.start)
        for job_id in self._recovered:
            self._submit([job_id])
        self._pump_task = asyncio.create_task(self._pump(), name="event-pump")

    async def stop(self) -> None:
        """Stop the workers (a running job ends `failed`), drain the inbox, then stop the pump."""
        self.executor.stop()  # the main thread, as Ray's shutdown needs; events meanwhile wait in the inbox
        # the executor's last reports (each running job's end) are callbacks this loop has yet to run:
        # Stop goes after them, or the pump could stop first and a job stopped cleanly read "server restarted"
        asyncio.get_running_loop().call_soon(self._inbox.put_nowait, Stop())
        if self._pump_task is None:
            return
        try:  # a store that cannot be written (a full disk) must not keep the server from stopping
            await asyncio.wait_for(asyncio.shield(self._pump_task), self.settings.shutdown_timeout_s)
        except TimeoutError:
            log.error(
                "stopping without storing what is pending: the store could not be written for %g s (%s); "
                "jobs left running are marked failed at the next start",
                self.settings.shutdown_timeout_s,
                self._store_error or "no answer",
            )
            self._pump_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pump_task

    def _from_executor(self, message: ExecutorReport) -> None:
        """A job's event or its end, from any thread (the executor's)."""
        assert self._loop is not None
        with contextlib.suppress(RuntimeError):  # the loop has closed: the server is gone
            self._loop.call_soon_threadsafe(self._inbox.put_nowait, message)

    # ---- the public operations (each one command to the pump) ------------------------------
    async def submit(self, spec: JobSpec, client: str = "") -> JobRecord:
        """Queue a job; raises QueueFull when `limits.queue_length` jobs are already waiting or the
        client has `limits.max_jobs_per_client` jobs queued or running."""
        record = new_record(spec)
        rows = await self._rows_for([spec])
        await self._ask(lambda done: Create([record], [spec.model_dump_json()], rows, None, client, done))
        return record  # as created (queued): a worker may already have taken it

    async def submit_group(
        self, name: str, runs: list[PlannedRun], lesson: str | None = None, client: str = ""
    ) -> GroupRecord:
        """Queue a group's jobs and store the group, all or nothing (QueueFull as for one job)."""
        group_id = uuid.uuid4().hex[:12]
        records = [new_record(run.spec, group_id) for run in runs]
        group = GroupRecord(
            id=group_id,
            name=name,
            created_at=utcnow(),
            lesson=lesson,
            runs=[
                {
                    "job_id": record.id,
                    "label": run.label,
                    "label_ko": run.label_ko,
                    "part": run.part,
                    "changes": run.changes,
                }
                for record, run in zip(records, runs, strict=True)
            ],
        )
        spec_jsons = [run.spec.model_dump_json() for run in runs]
        rows = await self._rows_for([run.spec for run in runs])
        await self._ask(lambda done: Create(records, spec_jsons, rows, group, client, done))
        return group

    async def add_dataset(self, record: DatasetRecord, rows: UploadedRows) -> None:
        """Store an uploaded table; DatasetsFull when limits.max_datasets are stored (checked and counted
        in the pump, so uploads at once cannot pass the limit together)."""
        await self._ask(lambda done: AddDataset(record, rows, done))

    async def delete_dataset(self, dataset_id: str) -> None:
        """Delete an uploaded table (DatasetMissing if there is none); jobs that hold its rows keep them."""
        await self._ask(lambda done: DeleteDataset(dataset_id, done))

    async def _rows_for(self, specs: list[JobSpec]) -> list[UploadedRows | None]:
        """Each spec's uploaded table (None for other data), read from the store once per table and
        shared by every job on it until the last ends. Raises DatasetGone."""
        tables: list[UploadedRows | None] = []
        for spec in specs:
            rows = None
            if isinstance(spec.data, UploadedData):
                dataset_id = spec.data.dataset
                rows = self._tables.get(dataset_id) or await asyncio.to_thread(self.store.read_dataset_rows, dataset_id)
                if rows is None:
                    raise DatasetGone(dataset_id)
                self._tables[dataset_id] = rows
            tables.append(rows)
        return tables

    async def cancel(self, job_id: str) -> None:
        """Cancel a waiting job at once, or ask a running one's worker to stop (JobConflict if ended)."""
        await self._ask(lambda done: Cancel(job_id, done))

    async def control(self, job_id: str, command: Command) -> None:
        """Pass a command to a running or paused job's worker (JobConflict otherwise); the worker reports
        the effect as events."""
        await self._ask(lambda done: Control(job_id, command, done))

    async def annotate(self, job_id: str, **values: str) -> None:
        """Rename a job or change its notes (any state; through the pump, like every write)."""
        await self._ask(lambda done: Annotate(job_id, values, done))

    async def delete(self, job_id: str) -> None:
        """Remove an ended job and its events (JobConflict while it has not ended)."""
        await self._ask(lambda done: Delete(job_id, done))

    async def _ask(self, request: Callable[[asyncio.Future[None]], Request]) -> None:
        """Hand a change to the pump and wait until it is committed, at most `command_timeout_s`: past
        that the caller is told (StoreStalled) and the change is withdrawn, so a submission the client
        got no answer for never runs behind its back."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._inbox.put_nowait(request(future))
        try:
            await asyncio.wait_for(asyncio.shield(future), self.settings.command_timeout_s)
        except TimeoutError:
            if future.done():  # it made it after all
                future.result()
                return
            future.cancel()
            why = f" ({self._store_error})" if self._store_error else ""
            timeout = self.settings.command_timeout_s
            raise StoreStalled(f"the store could not be written within {timeout:g} s{why}") from None

    def datasets_full(self) -> DatasetsFull | None:
        """Why no more uploaded tables may be stored now, or None."""
        if len(self._datasets) < self.settings.limits.max_datasets:
            return None
        return DatasetsFull(f"{len(self._datasets)} uploaded datasets are stored: delete one to make room")

    def device_error(self, spec: JobSpec) -> str | None:
        """Why the spec's device cannot be had on this server, or None."""
        no_cuda = self.settings.device == "cpu" or self.executor.has_cuda() is False
        if spec.distributed.backend == "nccl" and no_cuda:
            return "distributed.backend nccl needs a GPU for each rank and this server has none: use gloo"
        if spec.device != "cuda":
            return None
        if self.settings.device == "cpu":
            return "this server runs jobs on the CPU only (TRAINSCOPE_DEVICE=cpu)"
        if self.executor.has_cuda() is False:
            return "this server has no CUDA device"
        return None  # not known until a worker is up; the worker fails the job with a clear message

    def health(self) -> dict[str, Any]:
        workers = self.executor.workers()
        queued = self._queued()
        return {
            "executor": self.settings.executor,
            "workers": workers,
            "ready_workers": sum(w["ready"] for w in workers),
            "queued": queued,
            "active": len(self.ledger.live) - queued,
            "store_bytes": self.ledger.stored_bytes,
            "store_budget_bytes": self.settings.limits.max_store_bytes,
        }

    # ---- the pump --------------------------------------------------------------------------
    async def _pump(self) -> None:
        stopping = False
        while not stopping:
            messages = [await self._inbox.get()]
            while len(messages) < self.settings.pump_batch and not self._inbox.empty():
                messages.append(self._inbox.get_nowait())
            await self._check_room()
            pending = Pending()
            for message in messages:
                if isinstance(message, Stop):
                    stopping = True
                    continue
                try:
                    self._handle(message, pending)
                except Exception:  # one bad message must not stop the only writer
                    log.exception("pump could not handle %s", type(message).__name__)
            if pending.batch:
                try:
                    await self._write(pending.batch)
                except Exception as error:  # a bug, not a busy disk: report it and keep the server up
                    log.exception("store write failed; %d events not stored", len(pending.batch.events))
                    for future in pending.resolved:
                        if not future.done():
                            future.set_exception(error)
                    continue
            self._submit_created(pending)
            for job, item in pending.published:
                self.hub.publish(job, item)
            for future in pending.resolved:
                if not future.done():
                    future.set_result(None)

    async def _write(self, batch: WriteBatch) -> None:
        """Commit, retrying with back-off: a locked or full database delays events, never drops them."""
        delay = 0.05
        freed = 0
        if batch.deletes:
            freed = sum([await asyncio.to_thread(self.store.event_bytes, job_id) for job_id in batch.deletes])
        while True:
            try:
                await asyncio.to_thread(self.store.write, batch)
                self.ledger.stored_bytes -= freed
                self._store_error = ""
                return
            except StoreUnavailable as error:
                if "full" in str(error) and not self._store_error:  # no floor kept (or another program
                    self._stop_running_jobs(f"the disk is full ({error})")  # filled it): stop training
                self._store_error = str(error)
                log.warning("store unavailable (%s); retrying in %.2f s", error, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)

    async def _check_room(self) -> None:
        """Below limits.min_free_disk_bytes on the database's disk, events are no longer stored: running
        jobs stop (failed, saying why) and new ones answer 507, while deletes still have room to run."""
        now = time.monotonic()
        if now < self._next_room_check:
            return
        self._next_room_check = now + ROOM_CHECK_S
        free = await asyncio.to_thread(self.store.free_bytes)
        floor = self.settings.limits.min_free_disk_bytes
        low = free is not None and free < floor
        if low and not self.ledger.disk_low:
            log.warning("the database's disk has %d bytes free, under the %d kept: no more events", free, floor)
        self.ledger.disk_low = (
            f"the disk is nearly full ({(free or 0) / 2**20:.0f} MB free; the server keeps "
            f"{floor / 2**20:g} MB free to delete runs with)"
            if low
            else ""
        )

    def _handle(self, message: PumpMessage, pending: Pending) -> None:
        if isinstance(message, JobEvent):
            if message.job_id in self.ledger.live:
                self.ledger.record_encoded(message, pending)
        elif isinstance(message, JobEnded):
            if message.job_id in self.ledger.live:  # it ended without a final status: say why, never hang
                why = message.failure or "the worker finished the job without a final status"
                self._fail(message.job_id, why, pending)
        elif isinstance(message, Create | Cancel | Control | Annotate | Delete | AddDataset | DeleteDataset):
            if not message.done.cancelled():  # else the caller has been told it did not happen
                self._handle_request(message, pending)
        elif isinstance(message, Fail):
            self._fail(message.job_id, message.reason, pending)
        elif isinstance(message, Withdraw):
            for job_id in message.job_ids:
                if job_id in self.ledger.live:
                    self.ledger.status(
                        job_id, JobStatus.cancelled, "withdrawn: the server could not store it in time", pending
                    )

    def _handle_request(self, request: Request, pending: Pending) -> None:
        """A change asked for through the API: done, or refused on its future."""
        match request:
            case Create(records, spec_jsons, tables, group, client, done):
                if refusal := self._refuse(len(records), client):
                    done.set_exception(refusal)
                    return
                pending.batch.new_jobs.extend(records)
                if group is not None:
                    pending.batch.new_groups.append(group)
                pending.created.append((done, [record.id for record in records]))
                for record, spec_json, rows in zip(records, spec_jsons, tables, strict=True):
                    self.ledger.live[record.id] = LiveJob(None, 0, spec_json, client=client, rows=rows)
                    self.ledger.status(record.id, JobStatus.queued, "waiting for a worker", pending)
                    record.last_seq, record.message = self.ledger.live[record.id].last_seq, "waiting for a worker"
            case Cancel(job_id, done):
                live = self.ledger.live.get(job_id)
                if live is None:
                    done.set_exception(JobConflict("the job has already ended"))
                    return
                if not live.submitted or self.executor.cancel(job_id):  # else its worker is asked to stop it
                    live.submitted = False  # never to be handed over now
                    self.ledger.status(job_id, JobStatus.cancelled, "cancelled before it started", pending)
            case Control(job_id, command, done):
                live = self.ledger.live.get(job_id)
                running = live is not None and live.status in (JobStatus.running, JobStatus.paused)
                if not running or not self.executor.control(job_id, command):
                    done.set_exception(JobConflict("the job is not running"))
                    return
            case Annotate(job_id, values, done):
                pending.batch.update(job_id, **values)
            case Delete(job_id, done):
                if job_id in self.ledger.live:
                    done.set_exception(JobConflict("only an ended job can be deleted; cancel it first"))
                    return
                pending.batch.deletes.append(job_id)
            case AddDataset(record, rows, done):
                if self.ledger.disk_low:
                    done.set_exception(StoreFull(f"{self.ledger.disk_low}: delete runs to make room"))
                    return
                if full := self.datasets_full():
                    done.set_exception(full)
                    return
                self._datasets.add(record.id)
                pending.batch.new_datasets.append((record, rows))
            case DeleteDataset(dataset_id, done):
                if dataset_id not in self._datasets:
                    done.set_exception(DatasetMissing(f"no uploaded dataset {dataset_id!r}"))
                    return
                self._datasets.discard(dataset_id)
                pending.batch.dataset_deletes.append(dataset_id)
        pending.resolved.append(request.done)

    def _refuse(self, jobs: int, client: str) -> Exception | None:
        """Why `jobs` more jobs from this client may not be queued now, or None."""
        limits = self.settings.limits
        if self.ledger.disk_low:
            return StoreFull(f"{self.ledger.disk_low}: delete runs to make room")
        if self.ledger.stored_bytes >= limits.max_store_bytes:
            return StoreFull(
                f"stored events take {self.ledger.stored_bytes / 2**20:.0f} MB of the "
                f"{limits.max_store_bytes / 2**20:.0f} MB this server keeps: delete runs to make room"
            )
        if (queued := self._queued()) + jobs > limits.queue_length:
            return QueueFull(f"{queued} jobs are waiting already")
        owned = sum(job.client == client for job in self.ledger.live.values()) if client else 0
        if client and owned + jobs > limits.max_jobs_per_client:
            return QueueFull(f"this client has {owned} jobs queued or running (at most {limits.max_jobs_per_client})")
        return None

    def _queued(self) -> int:
        return sum(live.status == JobStatus.queued for live in self.ledger.live.values())

    def _fail(self, job_id: str, message: str, pending: Pending) -> None:
        if job_id in self.ledger.live:
            self.ledger.status(job_id, JobStatus.failed, message, pending)

    def _submit_created(self, pending: Pending) -> None:
        """Hand the jobs just stored to the executor, unless their submitter gave up waiting (StoreStalled):
        those are recorded cancelled in the next batch, never run."""
        for future, job_ids in pending.created:
            if future.cancelled():
                self._inbox.put_nowait(Withdraw(job_ids))
                continue
            for unit in self._units(job_ids):
                self._submit(unit)

    def _units(self, job_ids: list[str]) -> list[list[str]]:
        """Jobs created together (a group's) as the units they train in: matched runs that stack as one
        lockstep group each (training/stacking.py), the rest alone. A worker whose device does not stack
        them after all (an "auto" job on a GPU) runs a group's runs one after another."""
        if len(job_ids) < 2 or not self.settings.lockstep:
            return [[job_id] for job_id in job_ids]
        specs = [JobSpec.model_validate_json(self.ledger.live[job_id].spec_json) for job_id in job_ids]
        device: str = specs[0].device if specs[0].device != "auto" else self.settings.device
        if device == "auto":  # as the worker will place it (jobs/worker.py: server_device)
            device = auto_device(specs[0], bool(self.executor.has_cuda()))
        return [[job_ids[i] for i in unit] for unit in lockstep_groups(specs, device)]

    def _submit(self, job_ids: list[str]) -> None:
        """Hand a unit (one job, or a lockstep group's) to the executor, those of its jobs still to run."""
        runs = []
        for job_id in job_ids:
            live = self.ledger.live.get(job_id)
            if live is not None and live.status == JobStatus.queued and not live.submitted:
                live.submitted = True
                device = json.loads(live.spec_json).get("device", "auto")  # where the executor may place it
                runs.append(RunJob(job_id, live.spec_json, live.rows, device))
        if runs:
            self.executor.submit(replace(runs[0], stacked=tuple(runs[1:])))

    def _stop_running_jobs(self, reason: str) -> None:
        log.error("stopping every running job: %s", reason)
        for job_id, live in self.ledger.live.items():
            if live.status in (JobStatus.running, JobStatus.paused) and not live.stop_reason:
                live.stop_reason = reason
                self._stop_for_room(job_id, live)

    def _stop_for_room(self, job_id: str, live: LiveJob) -> None:
        self.executor.control(job_id, CancelCommand())

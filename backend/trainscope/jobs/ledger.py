"""The pump's book of jobs that have not ended: each event numbered, checked and turned into the rows
and the messages one pump iteration writes and publishes; the storage budgets kept as it goes."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from trainscope.config import Limits
from trainscope.jobs.reads import SNAPSHOT_TYPES
from trainscope.jobs.wire import JobEvent
from trainscope.schemas import InvalidTransition, JobStatus, UploadedRows, check_transition
from trainscope.schemas.decode import decode
from trainscope.store.base import StoredEvent, WriteBatch
from trainscope.stream.hub import Published

log = logging.getLogger(__name__)


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class LiveJob:
    """What the pump keeps in memory about a job that has not ended."""

    status: JobStatus | None  # None until its first status event is recorded
    last_seq: int
    spec_json: str
    submitted: bool = False  # handed to the executor
    rows: UploadedRows | None = None  # its uploaded table, held until it ends (shared by the jobs on it)
    started: bool = False
    client: str = ""  # the submitting address, for the per-client limit
    summary: dict[str, float] = field(default_factory=dict)
    stored_bytes: int = 0  # of its events, against limits.max_job_bytes
    stop_reason: str = ""  # why it was asked to stop (a budget, the disk): its end is reported failed, saying so


@dataclass
class Pending:
    """Side effects of one pump iteration, carried out after its batch is committed."""

    batch: WriteBatch = field(default_factory=WriteBatch)
    published: list[tuple[str, Published]] = field(default_factory=list)
    resolved: list[asyncio.Future[None]] = field(default_factory=list)
    created: list[tuple[asyncio.Future[None], list[str]]] = field(default_factory=list)  # submissions' jobs


class Ledger:
    """`live` holds every job not yet ended; `stored_bytes` all events in the store. `stop_job` is asked
    to stop a job whose events reached limits.max_job_bytes, or any job while `disk_low` says why the
    disk can take no more events (its next event is dropped, not stored; its status still is)."""

    def __init__(self, limits: Limits, stop_job: Callable[[str, LiveJob], None]) -> None:
        self.limits = limits
        self.stop_job = stop_job
        self.live: dict[str, LiveJob] = {}
        self.stored_bytes = 0
        self.disk_low = ""

    def status(self, job_id: str, status: JobStatus, message: str, pending: Pending) -> None:
        """A status change decided by the server rather than reported by a worker."""
        self.record(job_id, {"type": "status", "step": 0, "status": status.value, "message": message}, pending)

    def record(self, job_id: str, event: dict[str, Any], pending: Pending) -> None:
        """Number an event made here (a status the server decided, or one a worker reported), add it to
        the batch and update the job row it implies."""
        live = self.live[job_id]
        status = JobStatus(event["status"]) if event["type"] == "status" else None
        if live.stop_reason and status == JobStatus.cancelled:  # the stop it was asked for: say why
            status, event["status"] = JobStatus.failed, JobStatus.failed.value
            event["message"] = f"stopped at step {event.get('step', 0)}: {live.stop_reason}"
        if status is not None and live.status is not None:
            try:
                check_transition(live.status, status)
            except InvalidTransition as error:
                log.warning("job %s: dropped status event: %s", job_id, error)
                return
        event.setdefault("wall", time.time())
        try:
            body = json.dumps(event, allow_nan=False, separators=(",", ":"))
        except ValueError:
            log.warning("job %s: dropped an event with a non-finite number: %s", job_id, event.get("type"))
            return
        self._append(job_id, live, JobEvent(job_id, event["type"], int(event.get("step", 0)), body), status, pending)
        if status is not None:
            self._change(job_id, live, status, event, pending)

    def record_encoded(self, message: JobEvent, pending: Pending) -> None:
        """An event a worker encoded: numbered by writing job and seq in front of its text, never decoded
        (a status is small and may need rewording: it goes through `record`)."""
        if message.type == "status":
            self.record(message.job_id, decode(message.body), pending)
        else:
            self._append(message.job_id, self.live[message.job_id], message, None, pending)

    def _append(
        self, job_id: str, live: LiveJob, message: JobEvent, status: JobStatus | None, pending: Pending
    ) -> None:
        seq = live.last_seq + 1
        body = f'{{"job":"{job_id}","seq":{seq},{message.body[1:]}'  # the ids are hex: nothing to escape
        if status is None and (reason := self._no_room(live, len(body))):
            if not live.stop_reason:  # an event, not a status: its worker runs it
                live.stop_reason = reason
                self.stop_job(job_id, live)
            return
        live.stored_bytes += len(body)
        self.stored_bytes += len(body)
        live.last_seq = seq
        pending.batch.events.append(StoredEvent(job_id, seq, message.type, message.step, body))
        pending.batch.update(job_id, last_seq=seq, stored_bytes=live.stored_bytes)
        if message.last_point is not None:
            live.summary.update(message.last_point)
            pending.batch.update(job_id, summary=dict(live.summary))
        series = f"{message.type}:{message.tag}" if message.type in SNAPSHOT_TYPES else None
        final = bool(status and status.terminal)
        pending.published.append((job_id, Published(seq, body, final=final, series=series)))

    def _no_room(self, live: LiveJob, size: int) -> str:
        """Why an event of `size` bytes may not be stored, or ""."""
        if live.stored_bytes + size > self.limits.max_job_bytes:
            return f"its events reached the {self.limits.max_job_bytes / 2**20:g} MB a job may store"
        return self.disk_low

    def _change(self, job_id: str, live: LiveJob, status: JobStatus, event: dict[str, Any], pending: Pending) -> None:
        live.status = status
        pending.batch.update(job_id, status=status, message=event.get("message", ""))
        if status == JobStatus.running and not live.started:
            live.started = True
            pending.batch.update(job_id, started_at=utcnow())
        if status.terminal:
            live.summary.update(event.get("detail") or {})
            pending.batch.update(job_id, finished_at=utcnow(), summary=dict(live.summary))
            del self.live[job_id]

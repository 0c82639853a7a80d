"""The messages between the API, the manager's pump, its executor and the workers: typed, never tuples
unpacked by position. Workers receive and send the first two kinds through pipes (pickled), so these
stay plain dataclasses of plain values; an event crosses as the JSON text it is stored and sent as."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

from trainscope.schemas import Command, EventBase, UploadedRows
from trainscope.store.base import DatasetRecord, GroupRecord, JobRecord

# ---- to a worker ------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunJob:
    job_id: str
    spec_json: str
    rows: UploadedRows | None = None  # the uploaded table the spec names (a worker has no store)


@dataclass(frozen=True)
class ControlJob:
    job_id: str
    command: Command


@dataclass(frozen=True)
class StopWorker:
    pass


ToWorker = RunJob | ControlJob | StopWorker

# ---- from a worker (Died is said for it by its executor) ---------------------------------------


@dataclass(frozen=True)
class Ready:
    info: dict[str, Any]


@dataclass(frozen=True)
class JobEvent:
    """An event as its worker encoded it: its JSON text without `job` and `seq` (the pump numbers it and
    writes those in front), and what the pump reads of it without decoding: type, step, a snapshot's tag
    and, for scalars, the last point's values with its step (the job's summary)."""

    job_id: str
    type: str
    step: int
    body: str
    tag: str = ""
    last_point: dict[str, float] | None = None


def encode_event(job_id: str, event: EventBase) -> JobEvent:
    """The event encoded once, where it is made (a worker process), not in the server's pump, without
    the job and its number, which the pump writes in front. Raises ValueError for a non-finite number,
    which JSON cannot carry."""
    fields = event.model_dump(exclude={"job", "seq"})  # Python floats: json.dumps refuses a NaN
    body = json.dumps(fields, allow_nan=False, separators=(",", ":"))
    last = None
    if fields["type"] == "scalars" and fields["points"]:
        point = fields["points"][-1]
        last = {**point["values"], "step": point["step"]}
    return JobEvent(job_id, fields["type"], event.step, body, fields.get("tag", ""), last)


@dataclass(frozen=True)
class JobIdle:
    """The worker is done with the job (its final status was sent before)."""

    job_id: str


@dataclass(frozen=True)
class Heartbeat:
    """A worker, still alive (its own thread beats every settings.heartbeat_s, whatever its job does)."""


@dataclass(frozen=True)
class Died:
    exitcode: int | None


WorkerReport = Ready | JobEvent | JobIdle | Heartbeat | Died


@dataclass(eq=False)
class Worker:
    """One worker as the manager sees it, whatever runs it (a local process, later a Ray actor)."""

    index: int
    ready: bool = False
    job: str | None = None
    info: dict[str, Any] = field(default_factory=dict)
    last_seen: float = 0.0  # monotonic time of its last message
    hung: str = ""  # why the watchdog killed it, if it did

    @property
    def pid(self) -> int | None:
        return None

    @property
    def idle(self) -> bool:
        return self.ready and self.job is None


@dataclass(frozen=True, eq=False)
class FromWorker:
    worker: Worker
    report: WorkerReport


# ---- to the pump (from the API, from recovery at start, and from the pump itself) --------------


@dataclass(frozen=True, eq=False)
class Create:
    """Queue these jobs (and the group they form, if any), all or none."""

    records: list[JobRecord]
    spec_jsons: list[str]
    rows: list[UploadedRows | None]  # each job's uploaded table, if it has one
    group: GroupRecord | None
    client: str
    done: asyncio.Future[None]


@dataclass(frozen=True, eq=False)
class Cancel:
    job_id: str
    done: asyncio.Future[None]


@dataclass(frozen=True, eq=False)
class Control:
    job_id: str
    command: Command
    done: asyncio.Future[None]


@dataclass(frozen=True, eq=False)
class Annotate:
    job_id: str
    values: dict[str, str]
    done: asyncio.Future[None]


@dataclass(frozen=True, eq=False)
class Delete:
    job_id: str
    done: asyncio.Future[None]


@dataclass(frozen=True, eq=False)
class AddDataset:
    """Store an uploaded table, unless limits.max_datasets are stored already."""

    record: DatasetRecord
    rows: UploadedRows
    done: asyncio.Future[None]


@dataclass(frozen=True, eq=False)
class DeleteDataset:
    dataset_id: str
    done: asyncio.Future[None]


@dataclass(frozen=True)
class Fail:
    job_id: str
    reason: str


@dataclass(frozen=True)
class Withdraw:
    """Jobs whose submitter stopped waiting for the store: recorded cancelled, never run."""

    job_ids: list[str]


@dataclass(frozen=True)
class Stop:
    pass


Request = Create | Cancel | Control | Annotate | Delete | AddDataset | DeleteDataset  # answered through `done`
PumpMessage = Request | Fail | Withdraw | Stop | FromWorker

"""The messages the server says to itself: the requests to the pump from the API, from recovery at start
and from the pump itself, besides what its executor reports (executor.py). Typed, never tuples unpacked
by position; requests carry the futures they are answered through, so none of these leaves the server's
process (wire.py's do)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from trainscope.jobs.executor import ExecutorReport
from trainscope.schemas import Command, UploadedRows
from trainscope.store.base import DatasetRecord, GroupRecord, JobRecord

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
PumpMessage = Request | Fail | Withdraw | Stop | ExecutorReport

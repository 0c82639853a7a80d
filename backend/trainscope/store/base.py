"""The RunStore interface: what the manager and the readers need from storage, and nothing more."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from trainscope.schemas import JobStatus, UploadedRows
from trainscope.schemas.query import Condition, Order


class StoreUnavailable(Exception):
    """The store cannot be written now (locked, full, unreachable); the same write may succeed later."""


@dataclass
class JobRecord:
    id: str
    name: str
    status: JobStatus
    spec: dict[str, Any]
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    message: str = ""
    last_seq: int = 0
    summary: dict[str, float] = field(default_factory=dict)
    stored_bytes: int = 0  # of its events' JSON
    notes: str = ""
    group_id: str | None = None  # the group (a lesson's or a sweep's) it was submitted in
    dataset: str = ""  # JobSpec.dataset_name, a column of its own so that lists can filter on it


@dataclass(frozen=True)
class JobFilter:
    """Which jobs a list shows: of a lesson or not (None: either), on a dataset, meeting every condition on
    a figure or setting, in an order (None: newest first), from an offset."""

    lesson: bool | None = None
    dataset: str | None = None  # "digits", or a 2-D dataset's name
    offset: int = 0
    conditions: tuple[Condition, ...] = ()
    order: Order | None = None  # ties, and runs without the field (last either way), newest first


@dataclass
class GroupRecord:
    """A group of matched runs; `runs` holds, per run, its job_id, label, part and changes."""

    id: str
    name: str
    created_at: datetime
    runs: list[dict[str, Any]]
    lesson: str | None = None


@dataclass
class DatasetRecord:
    """An uploaded table's description (its rows are read apart: they may be megabytes)."""

    id: str
    name: str
    created_at: datetime
    n_rows: int
    columns: list[str]  # the feature columns' names
    label: str  # the label column's name
    target: str  # "class" or "value"
    classes: list[float | str]  # class i's label (a number or a name); empty for values
    size_bytes: int  # of the uploaded CSV


@dataclass(frozen=True)
class StoredEvent:
    """One event as stored: its JSON text is sent to viewers as it is, never re-encoded."""

    job: str
    seq: int
    type: str
    step: int
    body: str


@dataclass
class WriteBatch:
    """Everything one pump iteration writes, applied in one transaction."""

    new_jobs: list[JobRecord] = field(default_factory=list)
    new_groups: list[GroupRecord] = field(default_factory=list)
    job_updates: dict[str, dict[str, Any]] = field(default_factory=dict)
    events: list[StoredEvent] = field(default_factory=list)
    deletes: list[str] = field(default_factory=list)
    new_datasets: list[tuple[DatasetRecord, UploadedRows]] = field(default_factory=list)
    dataset_deletes: list[str] = field(default_factory=list)

    def update(self, job_id: str, **values: Any) -> None:
        self.job_updates.setdefault(job_id, {}).update(values)

    def __bool__(self) -> bool:
        return bool(
            self.new_jobs
            or self.new_groups
            or self.job_updates
            or self.events
            or self.deletes
            or self.new_datasets
            or self.dataset_deletes
        )


class RunStore(Protocol):
    def create_schema(self) -> None: ...

    def write(self, batch: WriteBatch) -> None:
        """Apply a batch atomically: all of it is stored or none of it (StoreUnavailable: try again)."""

    def get_job(self, job_id: str) -> JobRecord | None: ...

    def list_jobs(
        self, status: JobStatus | None = None, limit: int | None = 100, where: JobFilter | None = None
    ) -> list[JobRecord]: ...

    def count_jobs(self, status: JobStatus | None = None, where: JobFilter | None = None) -> int: ...

    def get_group(self, group_id: str) -> GroupRecord | None: ...

    def list_groups(self, lesson: str | None = None, limit: int | None = 100) -> list[GroupRecord]:
        """Newest first; only one lesson's when `lesson` is given."""

    def read_events(
        self,
        job_id: str,
        after: int = 0,
        limit: int | None = None,
        types: tuple[str, ...] | None = None,
        max_bytes: int | None = None,
    ) -> list[StoredEvent]:
        """Events with seq > after, in seq order; with max_bytes, no more than that many bytes of them
        (but always one, however large): a reader pages through a heavy job in bounded memory."""

    def event_bytes(self, job_id: str | None = None) -> int:
        """Size of the stored events' JSON, of one job or of all."""
        ...

    def free_bytes(self) -> int | None:
        """Bytes the database can still grow by, or None where that is not known here (a server
        elsewhere)."""
        ...

    def get_dataset(self, dataset_id: str) -> DatasetRecord | None: ...

    def list_datasets(self) -> list[DatasetRecord]:
        """Newest first (limits.max_datasets keeps the list short)."""
        ...

    def read_dataset_rows(self, dataset_id: str) -> UploadedRows | None: ...

    def close(self) -> None: ...


def read_pages(
    store: RunStore, job_id: str, after: int, until: int, page_bytes: int, types: tuple[str, ...] | None = None
) -> Iterator[list[StoredEvent]]:
    """A job's events with after < seq <= until, a page of about page_bytes at a time (at least one
    event each): a reader walks a heavy job in bounded memory."""
    while after < until:
        page = [e for e in store.read_events(job_id, after, None, types, page_bytes) if e.seq <= until]
        if not page:
            return
        yield page
        after = page[-1].seq

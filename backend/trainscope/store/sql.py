"""RunStore on SQLAlchemy 2: SQLite (WAL) by default, any SQLAlchemy URL in principle."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Column,
    ColumnElement,
    DateTime,
    Engine,
    Float,
    Integer,
    LargeBinary,
    MetaData,
    Select,
    String,
    Table,
    Text,
    and_,
    case,
    cast,
    create_engine,
    delete,
    event,
    func,
    insert,
    inspect,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.exc import OperationalError

from trainscope.schemas import JobStatus, UploadedRows
from trainscope.schemas.query import Field
from trainscope.store.base import (
    DatasetRecord,
    GroupRecord,
    JobFilter,
    JobRecord,
    StoredEvent,
    StoreUnavailable,
    WriteBatch,
)

metadata = MetaData()

jobs = Table(
    "jobs",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("name", String(100), nullable=False, default=""),
    Column("status", String(16), nullable=False, index=True),
    Column("spec", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("started_at", DateTime(timezone=True)),
    Column("finished_at", DateTime(timezone=True)),
    Column("message", Text, nullable=False, default=""),
    Column("last_seq", Integer, nullable=False, default=0),
    Column("summary", Text, nullable=False, default="{}"),
    Column("stored_bytes", Integer, nullable=False, default=0),
    Column("notes", Text, nullable=False, default=""),
    Column("group_id", String(32), index=True),
    Column("dataset", String(32), nullable=False, default="", index=True),
)

events = Table(
    "events",
    metadata,
    Column("job_id", String(32), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("type", String(16), nullable=False),
    Column("step", Integer, nullable=False),
    Column("body", Text, nullable=False),
)

groups = Table(
    "groups",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("name", String(100), nullable=False, default=""),
    Column("lesson", String(64), index=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("runs", Text, nullable=False),
)

datasets = Table(
    "datasets",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("name", String(100), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("n_rows", Integer, nullable=False),
    Column("columns", Text, nullable=False),
    Column("label", Text, nullable=False),
    Column("target", String(8), nullable=False),
    Column("classes", Text, nullable=False),
    Column("size_bytes", Integer, nullable=False),
    Column("features", LargeBinary, nullable=False),
    Column("labels", LargeBinary, nullable=False),
)
DATASET_FIELDS = [column for column in datasets.c if column.name not in ("features", "labels")]

_JSON_COLUMNS = ("spec", "summary", "runs", "columns", "classes")
READ_BATCH = 256  # rows fetched from the driver at a time when reading events
POOL_SIZE = 40  # anyio's default thread-pool size: the most reads that run at once


class SqlStore:
    def __init__(self, url: str, busy_timeout_ms: int = 5000) -> None:
        # as many pooled connections as the threads that read at once (replays of a room of viewers):
        # with fewer, overflow connections were opened and closed per read, each paying the pragmas
        self.engine: Engine = create_engine(url, pool_size=POOL_SIZE, max_overflow=POOL_SIZE)
        self.busy_timeout_ms = busy_timeout_ms
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", self._sqlite_pragmas)

    def _sqlite_pragmas(self, dbapi_connection: Any, _record: Any) -> None:
        # WAL lets readers run while the pump writes; synchronous=NORMAL in WAL mode survives a killed
        # process (not a power cut) and saves an fsync per transaction.
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={int(self.busy_timeout_ms)}")
        cursor.close()

    def create_schema(self) -> None:
        """Create the tables, or upgrade them in place to the newest schema (Alembic, store/migrations/);
        a database from before migrations is stamped as the first schema it has, then upgraded."""
        from alembic import command

        config = _migrations()
        with self.engine.begin() as conn:
            config.attributes["connection"] = conn
            tables = set(inspect(conn).get_table_names())
            if "jobs" in tables and "alembic_version" not in tables:  # made before migrations
                events.create(conn, checkfirst=True)  # the first schema's other table
                command.stamp(config, "0001")
            command.upgrade(config, "head")

    def revisions(self) -> tuple[str | None, str]:
        """The schema revision the database is at (None: no schema yet), and the newest one shipped."""
        from alembic.migration import MigrationContext
        from alembic.script import ScriptDirectory

        newest = ScriptDirectory.from_config(_migrations()).get_current_head()
        with self.engine.connect() as conn:
            at = MigrationContext.configure(conn).get_current_revision()
        return at, str(newest)

    def close(self) -> None:
        self.engine.dispose()

    def write(self, batch: WriteBatch) -> None:
        try:
            self._write(batch)
        except OperationalError as error:  # locked, disk full, I/O: worth another try
            raise StoreUnavailable(str(error.orig)) from error

    def _write(self, batch: WriteBatch) -> None:
        with self.engine.begin() as conn:
            if batch.new_jobs:
                conn.execute(insert(jobs), [_to_row(job.__dict__) for job in batch.new_jobs])
            if batch.new_groups:
                conn.execute(insert(groups), [_to_row(group.__dict__) for group in batch.new_groups])
            if batch.events:
                conn.execute(
                    insert(events),
                    [
                        {"job_id": e.job, "seq": e.seq, "type": e.type, "step": e.step, "body": e.body}
                        for e in batch.events
                    ],
                )
            for job_id, values in batch.job_updates.items():
                conn.execute(update(jobs).where(jobs.c.id == job_id).values(**_to_row(values)))
            for job_id in batch.deletes:
                conn.execute(delete(events).where(events.c.job_id == job_id))
                conn.execute(delete(jobs).where(jobs.c.id == job_id))
            for record, rows in batch.new_datasets:
                values = {**_to_row(record.__dict__), "features": rows.features, "labels": rows.labels}
                conn.execute(insert(datasets).values(**values))
            if batch.dataset_deletes:
                conn.execute(delete(datasets).where(datasets.c.id.in_(batch.dataset_deletes)))

    def get_job(self, job_id: str) -> JobRecord | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(jobs).where(jobs.c.id == job_id)).mappings().first()
        return _to_record(row) if row else None

    def list_jobs(
        self, status: JobStatus | None = None, limit: int | None = 100, where: JobFilter | None = None
    ) -> list[JobRecord]:
        where = where or JobFilter()
        query = self._filtered(select(jobs), status, where)
        if where.order is not None:
            keys = self._values(where.order.field)
            missing = and_(*(key.is_(None) for key in keys))
            query = query.order_by(missing, *(key.desc() if where.order.descending else key.asc() for key in keys))
        query = query.order_by(jobs.c.created_at.desc(), jobs.c.id.desc()).limit(limit)
        if where is not None and where.offset:
            query = query.offset(where.offset)
        with self.engine.connect() as conn:
            return [_to_record(row) for row in conn.execute(query).mappings()]

    def count_jobs(self, status: JobStatus | None = None, where: JobFilter | None = None) -> int:
        query = self._filtered(select(func.count()).select_from(jobs), status, where or JobFilter())
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar_one())

    def _filtered(self, query: Select[Any], status: JobStatus | None, where: JobFilter) -> Select[Any]:
        if status is not None:
            query = query.where(jobs.c.status == status.value)
        if where.dataset is not None:
            query = query.where(jobs.c.dataset == where.dataset)
        if where.lesson is not None:
            of_lessons = jobs.c.group_id.in_(select(groups.c.id).where(groups.c.lesson.is_not(None)))
            query = query.where(of_lessons if where.lesson else or_(jobs.c.group_id.is_(None), ~of_lessons))
        for condition in where.conditions:
            number, text = self._values(condition.field)[-2:]
            value = number if isinstance(condition.value, float) else text
            query = query.where(value.op(condition.op.replace("!=", "<>"))(condition.value))
        return query

    def _values(self, field: Field) -> list[ColumnElement[Any]]:
        """A field of the job as SQL: a column, or a JSON value as (its number or NULL, its text or NULL).
        The path is a bound parameter; a value of the other kind, or none, is NULL and matches nothing."""
        if field.source == "column":
            column = {"created": jobs.c.created_at, "name": jobs.c.name, "status": jobs.c.status}[field.name]
            return [column, column]
        document = jobs.c.spec if field.source == "spec" else jobs.c.summary
        if self.engine.dialect.name == "postgresql":
            path = literal(list(field.path), ARRAY(Text))
            kind = func.jsonb_typeof(cast(document, JSONB).op("#>", return_type=JSONB)(path))
            text = cast(document, JSONB).op("#>>", return_type=Text)(path)
            return [case((kind == "number", cast(text, Float))), case((kind == "string", text))]
        at = "$" + "".join(f'."{part}"' for part in field.path)  # parts are [\w/-]: nothing to escape
        kind, value = func.json_type(document, at), func.json_extract(document, at)
        return [case((kind.in_(("integer", "real")), value)), case((kind == "text", value))]

    def get_group(self, group_id: str) -> GroupRecord | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(groups).where(groups.c.id == group_id)).mappings().first()
        return GroupRecord(**_from_row(row)) if row else None

    def list_groups(self, lesson: str | None = None, limit: int | None = 100) -> list[GroupRecord]:
        query = select(groups).order_by(groups.c.created_at.desc(), groups.c.id.desc()).limit(limit)
        if lesson is not None:
            query = query.where(groups.c.lesson == lesson)
        with self.engine.connect() as conn:
            return [GroupRecord(**_from_row(row)) for row in conn.execute(query).mappings()]

    def event_bytes(self, job_id: str | None = None) -> int:
        query = select(func.coalesce(func.sum(func.length(events.c.body)), 0))
        if job_id is not None:
            query = query.where(events.c.job_id == job_id)
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar_one())

    def free_bytes(self) -> int | None:
        """The file's disk's free space and the file's own free pages (a deleted run's pages are reused
        by SQLite, not given back to the disk); None for PostgreSQL, whose disk is the server's."""
        database = self.engine.url.database
        if self.engine.dialect.name != "sqlite" or not database or database == ":memory:":
            return None
        with self.engine.connect() as conn:
            free_pages = conn.exec_driver_sql("PRAGMA freelist_count").scalar_one()
            page_size = conn.exec_driver_sql("PRAGMA page_size").scalar_one()
        return shutil.disk_usage(Path(database).resolve().parent).free + int(free_pages) * int(page_size)

    def get_dataset(self, dataset_id: str) -> DatasetRecord | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(*DATASET_FIELDS).where(datasets.c.id == dataset_id)).mappings().first()
        return DatasetRecord(**_from_row(row)) if row else None

    def list_datasets(self) -> list[DatasetRecord]:
        query = select(*DATASET_FIELDS).order_by(datasets.c.created_at.desc(), datasets.c.id.desc())
        with self.engine.connect() as conn:
            return [DatasetRecord(**_from_row(row)) for row in conn.execute(query).mappings()]

    def read_dataset_rows(self, dataset_id: str) -> UploadedRows | None:
        query = select(datasets.c.features, datasets.c.labels).where(datasets.c.id == dataset_id)
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        return UploadedRows(bytes(row.features), bytes(row.labels)) if row else None

    def read_events(
        self,
        job_id: str,
        after: int = 0,
        limit: int | None = None,
        types: tuple[str, ...] | None = None,
        max_bytes: int | None = None,
    ) -> list[StoredEvent]:
        query = (
            select(events.c.seq, events.c.type, events.c.step, events.c.body)
            .where(events.c.job_id == job_id, events.c.seq > after)
            .order_by(events.c.seq)
        )
        if types:
            query = query.where(events.c.type.in_(types))
        if limit is not None:
            query = query.limit(limit)
        read: list[StoredEvent] = []
        size = 0
        with self.engine.connect() as conn:
            # rows in batches (one driver call each, not one per row), stopping once past max_bytes
            for rows in conn.execute(query).partitions(READ_BATCH):
                for seq, type_, step, body in rows:
                    size += len(body)
                    if max_bytes is not None and read and size > max_bytes:
                        return read
                    read.append(StoredEvent(job_id, seq, type_, step, body))
        return read


def _migrations() -> Any:
    """Alembic's configuration for the migrations shipped in the package (no alembic.ini needed)."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", "trainscope.store:migrations")
    return config


def _to_row(values: dict[str, Any]) -> dict[str, Any]:
    row = dict(values)
    for key in _JSON_COLUMNS:
        if key in row:
            row[key] = json.dumps(row[key])
    if isinstance(row.get("status"), JobStatus):
        row["status"] = row["status"].value
    return row


def _from_row(row: Any) -> dict[str, Any]:
    values = dict(row)
    for key in _JSON_COLUMNS:
        if key in values:
            values[key] = json.loads(values[key])
    for key in ("created_at", "started_at", "finished_at"):
        if isinstance(values.get(key), datetime) and values[key].tzinfo is None:
            # SQLite drops the zone; we only ever store UTC
            values[key] = values[key].replace(tzinfo=UTC)
    return values


def _to_record(row: Any) -> JobRecord:
    values = _from_row(row)
    values["status"] = JobStatus(values["status"])
    return JobRecord(**values)

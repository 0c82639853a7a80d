"""The SQLite RunStore: batches are atomic, events come back in seq order, deletes remove events."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from trainscope.schemas import JobSpec, JobStatus, UploadedRows
from trainscope.schemas.query import parse_condition, parse_order
from trainscope.store.base import (
    DatasetRecord,
    GroupRecord,
    JobFilter,
    JobRecord,
    StoredEvent,
    StoreUnavailable,
    WriteBatch,
)
from trainscope.store.sql import SqlStore


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlStore]:
    """The same contract on both backends: a SQLite file, and a fresh PostgreSQL database."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'store.db'}"
    else:
        url = request.getfixturevalue("postgres").new_database()
    store = SqlStore(url)
    store.create_schema()
    yield store
    store.close()


def record(
    job_id: str,
    status: JobStatus = JobStatus.queued,
    minute: int = 0,
    dataset: str = "circle",
    group: str | None = None,
) -> JobRecord:
    created = datetime(2026, 1, 1, 12, minute, tzinfo=UTC)
    spec = JobSpec.model_validate({"data": {"dataset": dataset}})
    return JobRecord(job_id, "", status, spec.model_dump(mode="json"), created, dataset=dataset, group_id=group)


def event(job_id: str, seq: int, type_: str = "scalars") -> StoredEvent:
    return StoredEvent(job_id, seq, type_, seq, f'{{"job":"{job_id}","seq":{seq}}}')


def test_write_then_read_jobs_and_events(store: SqlStore) -> None:
    batch = WriteBatch(new_jobs=[record("a")], events=[event("a", 1, "status"), event("a", 2), event("a", 3)])
    batch.update("a", status=JobStatus.running, last_seq=3, summary={"step": 2.0})
    store.write(batch)
    job = store.get_job("a")
    assert job is not None
    assert job.status == JobStatus.running and job.last_seq == 3 and job.summary == {"step": 2.0}
    assert job.created_at == datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    assert JobSpec.model_validate(job.spec) == JobSpec()
    assert [e.seq for e in store.read_events("a")] == [1, 2, 3]
    assert [e.seq for e in store.read_events("a", after=1, limit=1)] == [2]
    assert [e.seq for e in store.read_events("a", types=("status",))] == [1]
    size = len(event("a", 1).body)
    assert [e.seq for e in store.read_events("a", max_bytes=2 * size)] == [1, 2]  # pages by bytes
    assert [e.seq for e in store.read_events("a", after=2, max_bytes=1)] == [3]  # always at least one
    assert store.get_job("missing") is None


def test_a_failing_batch_writes_nothing(store: SqlStore) -> None:
    store.write(WriteBatch(new_jobs=[record("a")], events=[event("a", 1)]))
    with pytest.raises(IntegrityError):
        store.write(WriteBatch(new_jobs=[record("b")], events=[event("b", 1), event("a", 1)]))  # duplicate seq
    assert store.get_job("b") is None
    assert store.read_events("b") == []


def test_list_newest_first_with_status_filter(store: SqlStore) -> None:
    store.write(WriteBatch(new_jobs=[record("old", JobStatus.done, 1), record("new", JobStatus.queued, 2)]))
    assert [j.id for j in store.list_jobs()] == ["new", "old"]
    assert [j.id for j in store.list_jobs(JobStatus.done)] == ["old"]
    assert [j.id for j in store.list_jobs(limit=1)] == ["new"]


def test_lists_filter_by_lesson_and_dataset_and_page_with_a_total(store: SqlStore) -> None:
    lesson = GroupRecord("g1", "", datetime(2026, 1, 1, tzinfo=UTC), [], lesson="bias")
    sweep = GroupRecord("g2", "", datetime(2026, 1, 1, tzinfo=UTC), [], lesson=None)
    jobs = [
        record("a", minute=1, dataset="spiral"),
        record("b", minute=2, dataset="spiral", group="g1"),
        record("c", minute=3, dataset="xor", group="g2"),
        record("d", minute=4, dataset="spiral"),
    ]
    store.write(WriteBatch(new_jobs=jobs, new_groups=[lesson, sweep]))
    assert [j.id for j in store.list_jobs(where=JobFilter(lesson=True))] == ["b"]
    assert [j.id for j in store.list_jobs(where=JobFilter(lesson=False))] == ["d", "c", "a"]
    assert [j.id for j in store.list_jobs(where=JobFilter(dataset="spiral", lesson=False))] == ["d", "a"]
    assert [j.id for j in store.list_jobs(limit=2, where=JobFilter(offset=1))] == ["c", "b"]
    assert store.count_jobs(where=JobFilter(dataset="spiral")) == 3
    assert store.count_jobs(JobStatus.done) == 0


def test_lists_sort_and_filter_by_figures_and_settings_runs_without_them_last(store: SqlStore) -> None:
    figures = {"a": {"val/acc": 0.5, "step": 10.0}, "b": {"val/acc": 0.95}, "c": {"val/acc": 0.8}, "d": {}}
    specs = {"a": ("sgd", 0.1), "b": ("adam", 0.001), "c": ("adam", 0.03), "d": ("sgd", 1.0)}
    jobs = []
    for minute, job_id in enumerate("abcd"):
        job = record(job_id, minute=minute)
        job.summary = figures[job_id]
        job.spec["optim"].update(optimizer=specs[job_id][0], lr=specs[job_id][1])
        jobs.append(job)
    store.write(WriteBatch(new_jobs=jobs))

    def ids(order: str | None = None, *where: str, offset: int = 0, limit: int = 100) -> list[str]:
        wanted = JobFilter(
            offset=offset,
            order=parse_order(order) if order else None,
            conditions=tuple(map(parse_condition, where)),
        )
        listed = [job.id for job in store.list_jobs(limit=limit, where=wanted)]
        if (offset, limit) == (0, 100):
            assert store.count_jobs(where=wanted) == len(listed)  # the total counts what the filter lets through
        return listed

    assert ids("-val/acc") == ["b", "c", "a", "d"]  # d has no accuracy: last either way
    assert ids("val/acc") == ["a", "c", "b", "d"]
    assert ids("optim.lr") == ["b", "c", "a", "d"] and ids("-optim.lr") == ["d", "a", "c", "b"]
    assert ids("optim.optimizer") == ["c", "b", "d", "a"]  # adam before sgd; ties newest first
    assert ids("-val/acc", offset=1, limit=2) == ["c", "a"]
    assert ids(None, "val/acc>0.6") == ["c", "b"]
    assert ids("-val/acc", "val/acc>=0.5", "val/acc<0.9") == ["c", "a"]
    assert ids(None, "optim.optimizer=adam", "optim.lr<0.01") == ["b"]
    assert ids(None, "optim.optimizer!=adam") == ["d", "a"]
    assert ids(None, "step>0") == ["a"]
    assert ids(None, "optim.optimizer>1") == []  # a word is never a number
    assert ids(None, "val/acc=adam") == []  # nor a number a word
    assert ids("name", "status=queued") == ["d", "c", "b", "a"]  # equal names: newest first


def test_a_name_and_notes_are_updated_in_place(store: SqlStore) -> None:
    store.write(WriteBatch(new_jobs=[record("a")]))
    batch = WriteBatch()
    batch.update("a", name="wide net", notes="lr too high?")
    store.write(batch)
    job = store.get_job("a")
    assert job is not None and (job.name, job.notes) == ("wide net", "lr too high?")


def test_delete_removes_the_job_and_its_events(store: SqlStore) -> None:
    store.write(WriteBatch(new_jobs=[record("a"), record("b")], events=[event("a", 1), event("b", 1)]))
    size = len(event("a", 1).body)
    assert store.event_bytes("a") == size and store.event_bytes() == size + len(event("b", 1).body)
    store.write(WriteBatch(deletes=["a"]))
    assert store.get_job("a") is None and store.read_events("a") == []
    assert [e.seq for e in store.read_events("b")] == [1]
    assert store.event_bytes("a") == 0 and store.event_bytes() == len(event("b", 1).body)


def test_data_survives_a_new_store_on_the_same_file(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'again.db'}"
    first = SqlStore(url)
    first.create_schema()
    first.write(WriteBatch(new_jobs=[record("a")], events=[event("a", 1)]))
    first.close()
    second = SqlStore(url)
    second.create_schema()
    assert second.get_job("a") is not None and len(second.read_events("a")) == 1


def test_a_locked_database_is_reported_as_unavailable_and_the_write_can_be_retried(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'locked.db'}"
    store = SqlStore(url, busy_timeout_ms=50)
    store.create_schema()
    locker = sqlite3.connect(tmp_path / "locked.db")
    locker.execute("BEGIN EXCLUSIVE")
    with pytest.raises(StoreUnavailable, match="locked"):
        store.write(WriteBatch(new_jobs=[record("a")]))
    locker.rollback()
    locker.close()
    store.write(WriteBatch(new_jobs=[record("a")]))
    assert store.get_job("a") is not None


def test_a_group_is_written_with_its_jobs_and_read_back(store: SqlStore) -> None:
    runs = [{"job_id": "a", "label": "relu", "part": "", "changes": {"model.activation": "relu"}}]
    group = GroupRecord("g1", "demo", datetime(2026, 1, 1, tzinfo=UTC), runs, lesson="activations")
    store.write(WriteBatch(new_jobs=[record("a")], new_groups=[group]))
    assert store.get_group("g1") == group
    assert store.get_group("nope") is None
    later = GroupRecord("g2", "", datetime(2026, 1, 2, tzinfo=UTC), [], lesson=None)
    store.write(WriteBatch(new_groups=[later]))
    assert [g.id for g in store.list_groups()] == ["g2", "g1"]
    assert [g.id for g in store.list_groups(lesson="activations")] == ["g1"]


def test_uploaded_tables_are_stored_listed_newest_first_read_back_byte_equal_and_deleted(store: SqlStore) -> None:
    def table(dataset_id: str, minute: int) -> DatasetRecord:
        created = datetime(2026, 11, 26, 12, minute, tzinfo=UTC)
        return DatasetRecord(dataset_id, "iris · 붓꽃", created, 3, ["sepal", "petal"], "kind", "class", [0.0, 2.5], 99)

    rows = UploadedRows(bytes(range(256)) * 1000, b"\x00\x00\x80?" * 3)  # every byte value, 256 kB
    store.write(WriteBatch(new_datasets=[(table("d1", 0), rows)]))
    store.write(WriteBatch(new_datasets=[(table("d2", 5), UploadedRows(b"", b""))]))
    assert store.get_dataset("d1") == table("d1", 0)
    assert [d.id for d in store.list_datasets()] == ["d2", "d1"]
    assert store.read_dataset_rows("d1") == rows
    store.write(WriteBatch(dataset_deletes=["d1"]))
    assert store.get_dataset("d1") is None and store.read_dataset_rows("d1") is None
    assert [d.id for d in store.list_datasets()] == ["d2"]
    with pytest.raises(IntegrityError):
        store.write(WriteBatch(new_datasets=[(table("d2", 9), rows)]))


def test_an_older_database_file_gains_the_groups_table(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as conn:  # the schema as the first release wrote it: no groups table
        conn.execute("CREATE TABLE jobs (id VARCHAR(32) PRIMARY KEY)")
    store = SqlStore(f"sqlite:///{path}")
    store.create_schema()
    store.write(WriteBatch(new_groups=[GroupRecord("g", "", datetime(2026, 1, 1, tzinfo=UTC), [])]))
    assert store.get_group("g") is not None


def test_a_database_from_before_stored_bytes_gets_the_column_filled_from_its_events(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    store = SqlStore(f"sqlite:///{path}")
    store.create_schema()
    store.write(WriteBatch(new_jobs=[record("a"), record("b")], events=[event("a", 1), event("a", 2)]))
    store.close()
    with sqlite3.connect(path) as conn:  # as the schema was before the column, and before migrations
        conn.execute("ALTER TABLE jobs DROP COLUMN stored_bytes")
        conn.execute("DROP TABLE alembic_version")
    reopened = SqlStore(f"sqlite:///{path}")
    reopened.create_schema()
    a, b = reopened.get_job("a"), reopened.get_job("b")
    assert a is not None and b is not None
    assert a.stored_bytes == reopened.event_bytes("a") == 2 * len(event("a", 1).body)
    assert b.stored_bytes == 0
    reopened.create_schema()  # a second start changes nothing
    assert reopened.get_job("a") == a


def test_a_database_from_before_groups_were_linked_gets_dataset_and_group_filled(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as conn:  # the jobs table as the schema had it before these columns
        conn.execute(
            "CREATE TABLE jobs (id VARCHAR(32) PRIMARY KEY, name VARCHAR(100) NOT NULL, status VARCHAR(16) NOT NULL,"
            " spec TEXT NOT NULL, created_at DATETIME NOT NULL, started_at DATETIME, finished_at DATETIME,"
            " message TEXT NOT NULL, last_seq INTEGER NOT NULL, summary TEXT NOT NULL,"
            " stored_bytes INTEGER NOT NULL DEFAULT 0)"
        )
        spec = JobSpec.model_validate({"data": {"kind": "digits"}}).model_dump_json()
        for job_id in ("a", "b"):
            conn.execute(
                "INSERT INTO jobs VALUES (?, '', 'done', ?, '2026-01-01 12:00:00', NULL, NULL, '', 0, '{}', 0)",
                (job_id, spec),
            )
        conn.execute(
            "CREATE TABLE groups (id VARCHAR(32) PRIMARY KEY, name VARCHAR(100) NOT NULL,"
            " lesson VARCHAR(64), created_at DATETIME NOT NULL, runs TEXT NOT NULL)"
        )
        conn.execute("INSERT INTO groups VALUES ('g', '', 'bias', '2026-01-01 12:00:00', ?)", ('[{"job_id": "a"}]',))
    store = SqlStore(f"sqlite:///{path}")
    store.create_schema()
    a, b = store.get_job("a"), store.get_job("b")
    assert a is not None and b is not None
    assert (a.dataset, a.group_id, a.notes) == ("digits", "g", "")
    assert (b.dataset, b.group_id) == ("digits", None)
    assert [j.id for j in store.list_jobs(where=JobFilter(lesson=True))] == ["a"]


def test_migrations_bring_any_database_to_exactly_the_tables_the_store_declares(store: SqlStore) -> None:
    """Alembic's own comparison of the migrated database against the store's metadata finds nothing."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from trainscope.store.sql import metadata

    with store.engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), metadata) == []
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0003"
    store.create_schema()  # a second start changes nothing


def test_free_bytes_counts_the_pages_a_deleted_run_gives_back_to_sqlite(store: SqlStore) -> None:
    if store.engine.dialect.name != "sqlite":
        assert store.free_bytes() is None  # a server elsewhere: its disk is not ours to measure
        return
    job = JobRecord("big", "", JobStatus.done, JobSpec().model_dump(mode="json"), datetime.now(UTC))
    body = "x" * 100_000
    store.write(WriteBatch(new_jobs=[job], events=[StoredEvent("big", i, "scalars", i, body) for i in range(1, 41)]))
    before = store.free_bytes()
    assert before is not None and before > 0
    store.write(WriteBatch(deletes=["big"]))  # the file keeps its size; its ~4 MB of pages are free inside it
    after = store.free_bytes()
    assert after is not None and after - before > 3_000_000

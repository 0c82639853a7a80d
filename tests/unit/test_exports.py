"""Exports read a job a page at a time: a heavy job comes out in many small chunks, whole and in order."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from pathlib import Path

from trainscope.jobs.exports import csv_chunks, jsonl_chunks
from trainscope.schemas import JobSpec, JobStatus
from trainscope.store.base import JobRecord, StoredEvent, WriteBatch
from trainscope.store.sql import SqlStore


def test_a_job_is_exported_page_by_page_whole_and_in_order(tmp_path: Path) -> None:
    store = SqlStore(f"sqlite:///{tmp_path / 'e.db'}")
    store.create_schema()
    events = []
    for seq in range(1, 201):
        points = [{"step": seq, "values": {"train/loss": 1 / seq, "lr": 0.1}}]
        body = json.dumps({"job": "j", "seq": seq, "type": "scalars", "step": seq, "wall": 1e9 + seq, "points": points})
        events.append(StoredEvent("j", seq, "scalars", seq, body))
    job = JobRecord("j", "", JobStatus.done, JobSpec().model_dump(mode="json"), datetime.now(UTC), last_seq=200)
    store.write(WriteBatch(new_jobs=[job], events=events))

    lines = list(jsonl_chunks(store, job, page_bytes=2_000))
    assert len(lines) > 10  # ~2 kB a page: memory follows the page, not the job
    assert "".join(lines).splitlines() == [event.body for event in events]

    chunks = list(csv_chunks(store, job, page_bytes=2_000))
    assert len(chunks) > 10
    rows = list(csv.DictReader(io.StringIO("".join(chunks))))
    losses = [row for row in rows if row["tag"] == "train/loss"]
    assert [float(row["value"]) for row in losses] == [1 / seq for seq in range(1, 201)]  # bit-equal
    assert {row["run"] for row in rows} == {"j"}  # a run without a name goes by its id
    store.close()

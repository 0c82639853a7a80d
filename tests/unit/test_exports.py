"""Exports read a job a page at a time: a heavy job comes out in many small chunks, whole and in order."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from pathlib import Path

from trainscope.jobs.exports import export_chunks, run_names
from trainscope.jobs.tensorboard import folder_names
from trainscope.schemas import JobSpec, JobStatus
from trainscope.schemas.groups import GroupRun
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

    lines = list(export_chunks(store, [("j", job)], "jsonl", page_bytes=2_000))
    assert len(lines) > 10  # ~2 kB a page: memory follows the page, not the job
    assert "".join(lines).splitlines() == [event.body for event in events]

    chunks = list(export_chunks(store, [("j", job)], "csv", page_bytes=2_000))
    assert len(chunks) > 10
    rows = list(csv.DictReader(io.StringIO("".join(chunks))))
    losses = [row for row in rows if row["tag"] == "train/loss"]
    assert [float(row["value"]) for row in losses] == [1 / seq for seq in range(1, 201)]  # bit-equal
    assert {row["run"] for row in rows} == {"j"}

    both = "".join(str(c) for c in export_chunks(store, [("a", job), ("b, c", job)], "jsonl", page_bytes=2_000))
    assert [json.loads(line)["run"] for line in both.splitlines()] == ["a"] * 200 + ["b, c"] * 200
    both_csv = list(
        csv.DictReader(
            io.StringIO("".join(str(c) for c in export_chunks(store, [("a", job), ("b, c", job)], "csv", 2_000)))
        )
    )
    assert len(both_csv) == 2 * len(rows) and {row["run"] for row in both_csv} == {"a", "b, c"}  # one header
    store.close()


def test_a_groups_runs_are_named_by_label_part_and_repeat_and_foldered_safely() -> None:
    def run(label: str, part: str) -> GroupRun:
        return GroupRun(job_id="x", label=label, part=part, changes={}, job=None)

    runs = [run("mlp", "plain"), run("cnn", "plain"), run("mlp", "shuffled"), run("mlp", "shuffled")]
    names = run_names(runs)
    assert names == ["plain: mlp", "plain: cnn", "shuffled: mlp", "shuffled: mlp #2"]
    assert run_names(runs[:2]) == ["mlp", "cnn"]  # one part: the label alone
    folders = folder_names(["../../etc", "a/b", "", "lr=0.1"])
    assert folders == ["01_etc", "02_a_b", "03_run", "04_lr=0.1"]  # no separators, no way up

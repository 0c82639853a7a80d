"""Exports read a job a page at a time: a heavy job comes out in many small chunks, whole and in order."""

from __future__ import annotations

import csv
import io
import json
import tarfile
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import pytest

from trainscope.jobs.exports import export_chunks, run_names
from trainscope.jobs.tensorboard import folder_names, read_back
from trainscope.schemas import JobSpec, JobStatus
from trainscope.schemas.groups import GroupRun
from trainscope.store.base import JobRecord, StoredEvent, WriteBatch
from trainscope.store.sql import SqlStore


def stored_job(path: Path) -> tuple[SqlStore, JobRecord, list[StoredEvent]]:
    """A store holding one finished job of 200 scalars events (a train loss and lr each)."""
    store = SqlStore(f"sqlite:///{path}")
    store.create_schema()
    events = []
    for seq in range(1, 201):
        points = [{"step": seq, "values": {"train/loss": 1 / seq, "lr": 0.1}}]
        body = json.dumps({"job": "j", "seq": seq, "type": "scalars", "step": seq, "wall": 1e9 + seq, "points": points})
        events.append(StoredEvent("j", seq, "scalars", seq, body))
    job = JobRecord("j", "", JobStatus.done, JobSpec().model_dump(mode="json"), datetime.now(UTC), last_seq=200)
    store.write(WriteBatch(new_jobs=[job], events=events))
    return store, job, events


def test_a_job_is_exported_page_by_page_whole_and_in_order(tmp_path: Path) -> None:
    store, job, events = stored_job(tmp_path / "e.db")
    lines = list(export_chunks(store, [("j", job)], "jsonl", page_bytes=2_000))
    assert len(lines) > 10  # ~2 kB a page: memory follows the page, not the job
    assert "".join(lines).splitlines() == [event.body for event in events]

    chunks = list(export_chunks(store, [("j", job)], "csv", page_bytes=2_000))
    assert len(chunks) > 10
    rows = list(csv.DictReader(io.StringIO("".join(chunks))))
    losses = [row for row in rows if row["tag"] == "train/loss"]
    assert [float(row["value"]) for row in losses] == [1 / seq for seq in range(1, 201)]  # bit-equal
    assert {row["run"] for row in rows} == {"j"}

    both = "".join(str(c) for c in export_chunks(store, [("a", job), ("b, c", job)], "jsonl", 2_000, grouped=True))
    assert [json.loads(line)["run"] for line in both.splitlines()] == ["a"] * 200 + ["b, c"] * 200
    both_csv = list(
        csv.DictReader(
            io.StringIO(
                "".join(str(c) for c in export_chunks(store, [("a", job), ("b, c", job)], "csv", 2_000, grouped=True))
            )
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


def test_a_tensorboard_archive_streams_as_it_is_made_in_bounded_files_with_no_temp_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store, job, _ = stored_job(tmp_path / "e.db")
    temp = tmp_path / "temp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    chunks = export_chunks(store, [("j", job)], "tensorboard", page_bytes=2_000, file_bytes=1_000)
    first = next(iter(chunks))
    assert first and not any(temp.iterdir())  # bytes before the whole archive exists, and no temp folder
    archive = first + b"".join(bytes(c) for c in chunks)
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        files = [m for m in tar.getmembers() if m.isfile()]
        tar.extractall(tmp_path / "out", filter="data")
    # a file is cut once it passes 1 kB (the first also holds the spec)
    assert len(files) > 5 and all(m.size < 1_000 + 200 for m in files[1:])
    scalars, _ = read_back(tmp_path / "out" / "j")
    assert scalars["train/loss"] == [(seq, 1 / seq) for seq in range(1, 201)]  # whole, in order, bit for bit
    store.close()


def test_a_groups_export_has_one_layout_for_no_one_or_many_runs(tmp_path: Path) -> None:
    store, job, _ = stored_job(tmp_path / "e.db")
    for runs in ([], [("lr=0.1", job)], [("lr=0.1", job), ("lr=1", job)]):
        archive = b"".join(bytes(c) for c in export_chunks(store, runs, "tensorboard", 2_000, grouped=True))
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            folders = {Path(m.name).parts[:2] for m in tar.getmembers() if m.isfile()}
            assert "runs" in tar.getnames()
        assert folders == {("runs", f"{i:02d}_{name}") for i, (name, _) in enumerate(runs, 1)}
        lines = "".join(str(c) for c in export_chunks(store, runs, "jsonl", 2_000, grouped=True)).splitlines()
        assert [json.loads(line)["run"] for line in lines] == [name for name, _ in runs for _ in range(200)]
        rows = list(csv.DictReader(io.StringIO("".join(str(c) for c in export_chunks(store, runs, "csv", 2_000)))))
        assert len(rows) == 400 * len(runs)
    store.close()


def test_csv_cells_a_spreadsheet_would_run_are_written_as_text_while_jsonl_keeps_them(tmp_path: Path) -> None:
    store, job, _ = stored_job(tmp_path / "e.db")
    names = ['=HYPERLINK("http://evil/","x")', "+cmd|' /C calc'!A0", "-1+1", "@SUM(1)", "\tx", "\rx", "a=b", "x-1"]
    runs = [(name, job) for name in names]
    rows = list(csv.DictReader(io.StringIO("".join(str(c) for c in export_chunks(store, runs, "csv", 10**6)))))
    shown = list(dict.fromkeys(row["run"] for row in rows))
    assert shown == [f"'{name}" for name in names[:6]] + names[6:]
    lines = "".join(str(c) for c in export_chunks(store, runs, "jsonl", 10**6, grouped=True)).splitlines()
    assert list(dict.fromkeys(json.loads(line)["run"] for line in lines)) == names  # exact where no sheet runs it
    assert all(float(row["value"]) > 0 for row in rows)  # numbers stay numbers
    store.close()

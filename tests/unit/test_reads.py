from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from trainscope.jobs.reads import downsample_indices, events_json, read_scalars
from trainscope.schemas import JobSpec, JobStatus
from trainscope.store.base import JobRecord, StoredEvent, WriteBatch
from trainscope.store.sql import SqlStore


@pytest.mark.parametrize(("total", "cap"), [(0, 5), (3, 5), (5, 5), (6, 5), (100, 2), (1000, 7), (10_001, 1000)])
def test_downsample_keeps_first_and_last_within_the_cap(total: int, cap: int) -> None:
    keep = downsample_indices(total, cap)
    assert len(keep) == min(total, cap)
    assert keep == sorted(set(keep))
    if total:
        assert keep[0] == 0 and keep[-1] == total - 1


def test_read_scalars_flattens_batches_and_keeps_the_latest_point(tmp_path: Path) -> None:
    store = SqlStore(f"sqlite:///{tmp_path / 'r.db'}")
    store.create_schema()
    events = []
    for seq, first in enumerate(range(1, 100, 10), start=1):
        points = [
            {"step": s, "values": {"train/loss": 1 / s, **({"val/acc": 0.5} if s % 20 == 0 else {})}}
            for s in range(first, first + 10)
        ]
        body = json.dumps({"job": "j", "seq": seq, "type": "scalars", "points": points})
        events.append(StoredEvent("j", seq, "scalars", points[-1]["step"], body))
    job = JobRecord("j", "", JobStatus.done, JobSpec().model_dump(mode="json"), datetime.now(UTC))
    store.write(WriteBatch(new_jobs=[job], events=events))

    series = read_scalars(store, "j", "train/loss", 11)
    assert series.total == 100
    assert len(series.steps) == 11 and series.steps[0] == 1 and series.steps[-1] == 100
    assert series.values[-1] == pytest.approx(1 / 100)
    assert read_scalars(store, "j", "val/acc", 100).steps == [20, 40, 60, 80, 100]
    assert json.loads(events_json(events[:2]))[1]["seq"] == 2

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from trainscope.jobs.reads import (
    compact_history,
    downsample_indices,
    events_json,
    json_arrays,
    minmax_indices,
    read_scalars,
)
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
    assert read_scalars(store, "j", "train/loss", 11, page_bytes=100) == series  # a page at a time, the same
    assert json.loads(events_json(events[:2]))[1]["seq"] == 2


def test_compact_history_thins_points_and_snapshots_keeping_first_latest_and_statuses() -> None:
    events, seq = [], 0

    def add(type_: str, step: int, **body: object) -> None:
        nonlocal seq
        seq += 1
        events.append(StoredEvent("j", seq, type_, step, json.dumps({"seq": seq, "type": type_, "step": step, **body})))

    add("status", 0, status="running")
    for first in range(1, 1001, 50):
        points = [
            {"step": s, "values": {"train/loss": 1.0, **({"val/loss": 0.5} if s % 100 == 0 else {})}}
            for s in range(first, first + 50)
        ]
        add("scalars", first + 49, points=points)
        add("histogram", first + 49, tag="act/layer1", counts=[1])
        add("histogram", first + 49, tag="act/layer2", counts=[1])
        add("boundary", first + 49, probs=[0.5])
        add("system", first + 49, samples_per_s=1000.0)
    add("status", 1000, status="done")

    kept = compact_history(events, max_points=10, max_snapshots=4)
    assert [e.seq for e in kept] == sorted(e.seq for e in kept)
    points = [p for e in kept if e.type == "scalars" for p in json.loads(e.body)["points"]]
    train = sorted({p["step"] for p in points})
    assert train[0] == 1 and train[-1] == 1000
    assert [p["step"] for p in points if "val/loss" in p["values"]] == [
        100 * k for k in range(1, 11)
    ]  # 10 evals: all kept
    assert len(train) <= 10 + 10
    for tag in ("act/layer1", "act/layer2"):
        snapshots = [e for e in kept if e.type == "histogram" and json.loads(e.body)["tag"] == tag]
        assert len(snapshots) == 4 and snapshots[-1].step == 1000
    assert [e.step for e in kept if e.type == "boundary"] == [1000]  # the page draws only the newest
    system = [e.step for e in kept if e.type == "system"]  # the page draws samples/s over the steps
    assert len(system) == 4 and system[0] == 50 and system[-1] == 1000
    assert [json.loads(e.body)["status"] for e in kept if e.type == "status"] == ["running", "done"]


def test_json_arrays_respect_count_and_size() -> None:
    bodies = ['{"a":1}', '{"b":"' + "x" * 100 + '"}', '{"c":3}', '{"d":4}']
    arrays = json_arrays(bodies, max_items=2, max_bytes=50)
    assert [len(json.loads(a)) for a in arrays] == [1, 1, 2]  # the big one goes alone
    assert [item for a in arrays for item in json.loads(a)] == [json.loads(b) for b in bodies]


def test_minmax_thinning_keeps_spikes_and_is_its_own_fixed_point() -> None:
    rng = np.random.default_rng(0)
    steps = list(range(1, 20_001))
    values = list(1 / np.sqrt(steps) + 0.01 * rng.standard_normal(len(steps)))
    values[12_345] = 5.0  # a spike every-other-point thinning would likely lose
    kept = minmax_indices(steps, values, 1000)
    assert len(kept) <= 2002 and kept[0] == 0 and kept[-1] == len(steps) - 1
    assert 12_345 in kept
    buckets = (np.asarray(steps) - 1) * 1000 // 20_000  # each point's bucket
    for bucket in range(1000):  # each bucket's own extremes are kept, against numpy
        members = np.flatnonzero(buckets == bucket)
        low, high = members[np.argmin(np.asarray(values)[members])], members[np.argmax(np.asarray(values)[members])]
        assert low in kept and high in kept
    # thinning what was thinned keeps it all: a replay's points thin to themselves, as the page does
    again = minmax_indices([steps[i] for i in kept], [values[i] for i in kept], 1000)
    assert again == list(range(len(kept)))

"""The judge: a lesson group still running is "waiting" without reading events; a finished one is judged
once from the store; a group that is no lesson's gets no verdict."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from trainscope.jobs.groups import read_group
from trainscope.lessons import Judge
from trainscope.lessons.catalog import load_catalog
from trainscope.lessons.checks import evaluate
from trainscope.lessons.evidence import RunView
from trainscope.schemas import JobSpec, JobStatus
from trainscope.store.base import GroupRecord, JobRecord, StoredEvent, WriteBatch
from trainscope.store.sql import SqlStore


class CountingStore(SqlStore):
    reads = 0

    def read_events(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        self.reads += 1
        return super().read_events(*args, **kwargs)


def gradient_check_event(job_id: str, error: float) -> StoredEvent:
    body = {"job": job_id, "seq": 1, "step": 5, "wall": 0.0, "type": "analysis", "name": "gradient_check"}
    body |= {"figures": {"max_relative_error": error, "chain_rule_max_error": 1e-16}, "data": {}}
    return StoredEvent(job_id, 1, "analysis", 5, json.dumps(body))


def test_waiting_then_judged_once(tmp_path: Path) -> None:
    store = CountingStore(f"sqlite:///{tmp_path / 'db.sqlite'}")
    store.create_schema()
    now = datetime(2026, 1, 1, tzinfo=UTC)
    job = JobRecord("j1", "", JobStatus.running, JobSpec().model_dump(mode="json"), now)
    run = {"job_id": "j1", "label": "base", "part": "", "changes": {}}
    group = GroupRecord("g1", "", now, [run], lesson="backprop")
    store.write(WriteBatch(new_jobs=[job], new_groups=[group]))
    judge = Judge(load_catalog(), store)

    verdict = read_group(store, group, judge).verdict
    assert verdict is not None and verdict.held is None and "waiting" in verdict.detail
    assert store.reads == 0

    store.write(WriteBatch(events=[gradient_check_event("j1", 3e-9)]))
    store.write(WriteBatch(job_updates={"j1": {"status": JobStatus.done, "last_seq": 1}}))
    for _ in range(3):
        verdict = read_group(store, group, judge).verdict
        assert verdict is not None and verdict.held is True
        assert verdict.figures["max_relative_error"].value == 3e-9
    assert store.reads == 1

    plain = GroupRecord("g2", "", now, [run], lesson=None)
    assert read_group(store, plain, judge).verdict is None


def view(label: str, status: str = "done", **events: list[dict[str, object]]) -> RunView:
    return RunView(label, "", {}, status, {}, dict(events))


def test_a_run_that_did_not_finish_or_missing_evidence_cannot_be_judged() -> None:
    figures = {"max_relative_error": 1e-9, "chain_rule_max_error": 1e-16}
    check = {"type": "analysis", "name": "gradient_check", "figures": figures}
    params = {"max_relative_error": 1e-4, "max_chain_rule_error": 1e-9}
    assert evaluate("backprop", [view("base", analysis=[check])], params).held is True
    for status in ("cancelled", "failed"):
        verdict = evaluate("backprop", [view("base", status, analysis=[check])], params)
        assert verdict.held is None and "did not finish" in verdict.detail
    verdict = evaluate("backprop", [view("base")], params)  # the probe was turned off
    assert verdict.held is None and verdict.detail == "cannot tell: a gradient check: missing"
    verdict = evaluate("bias", [view("with bias")], {"with_bias": "with bias", "without_bias": "without bias"})
    assert verdict.held is None and "without bias" in verdict.detail


def test_runs_pushed_past_what_a_check_compares_get_no_verdict_rather_than_an_error() -> None:
    diverged = [
        RunView(f"lr {lr}", "", {"optim.lr": lr}, "diverged", {}, {"scalars": [{"points": [point]}]})
        for lr in (1.0, 2.0)
        for point in [{"step": 1, "values": {"train/loss": 1.0}}]
    ]
    verdict = evaluate("learning_rate", diverged, {"slow_factor": 10})
    assert verdict.held is None and "did not diverge" in verdict.detail
    # a run without the 'changes' the check sorts by: an unexpected shape, still no exception
    odd = [RunView("x", "", {}, "done", {}, {})]
    verdict = evaluate("batch_size", odd, {"tolerance": 2.0})
    assert verdict.held is None and verdict.detail.startswith("cannot tell")

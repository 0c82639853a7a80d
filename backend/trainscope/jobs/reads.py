"""Read functions shared by REST and the websocket; no HTTP here, so they are unit-tested directly."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass

from trainscope.schemas import JobPublic, JobSpec, ScalarSeries
from trainscope.schemas.decode import decode, scalar_points, series
from trainscope.schemas.errors import SpecError
from trainscope.schemas.query import Condition, Field
from trainscope.store.base import JobFilter, JobRecord, RunStore, StoredEvent, read_pages


def to_public(record: JobRecord) -> JobPublic:
    return JobPublic(
        id=record.id,
        name=record.name,
        status=record.status,
        spec=JobSpec.model_validate(record.spec),
        created_at=record.created_at,
        started_at=record.started_at,
        finished_at=record.finished_at,
        message=record.message,
        last_seq=record.last_seq,
        summary=record.summary,
        stored_bytes=record.stored_bytes,
        notes=record.notes,
        group_id=record.group_id,
    )


def events_json(events: list[StoredEvent]) -> str:
    """A JSON array of stored events, built from their stored text without decoding it."""
    return json_array([event.body for event in events])


def json_array(bodies: list[str]) -> str:
    return "[" + ",".join(bodies) + "]"


def json_arrays(bodies: list[str], max_items: int, max_bytes: int) -> list[str]:
    """JSON arrays of at most max_items bodies and about max_bytes each (a larger body goes alone)."""
    arrays: list[str] = []
    current: list[str] = []
    size = 0
    for body in bodies:
        if current and (len(current) >= max_items or size + len(body) > max_bytes):
            arrays.append(json_array(current))
            current, size = [], 0
        current.append(body)
        size += len(body) + 1
    if current:
        arrays.append(json_array(current))
    return arrays


def downsample_indices(total: int, max_points: int) -> list[int]:
    """At most max_points evenly spread indices of range(total), always keeping the first and the last."""
    if total <= max_points:
        return list(range(total))
    if max_points == 1:
        return [total - 1]
    stride = (total - 1) / (max_points - 1)
    return sorted({round(i * stride) for i in range(max_points - 1)} | {total - 1})


def minmax_indices(steps: list[int], values: list[float], buckets: int) -> list[int]:
    """Per bucket of steps, the lowest and the highest point, and the first and last overall: thinning
    that keeps a curve's spikes. The page thins its live loss curve the same way with the same buckets
    (trainscope/frontend/js/charts/thin.js), so a compact replay draws the very points the live run did."""
    n = len(steps)
    if not n:
        return []
    first, span = steps[0], steps[-1] - steps[0] + 1
    low: dict[int, int] = {}
    high: dict[int, int] = {}
    for i, (step, value) in enumerate(zip(steps, values, strict=True)):
        bucket = (step - first) * buckets // span
        if bucket not in low or value < values[low[bucket]]:
            low[bucket] = i
        if bucket not in high or value > values[high[bucket]]:
            high[bucket] = i
    return sorted({0, n - 1, *low.values(), *high.values()})


def read_scalars(store: RunStore, job_id: str, tag: str, max_points: int, page_bytes: int = 2**20) -> ScalarSeries:
    """One scalar series of a job, downsampled on read (TensorBoard keeps the newest point too); the
    events are read a page at a time, so memory follows the series, not the job's whole history."""
    pages = read_pages(store, job_id, 0, 2**62, page_bytes, ("scalars",))
    steps, values = series((decode(event.body) for page in pages for event in page), tag)
    keep = downsample_indices(len(steps), max_points)
    return ScalarSeries(tag=tag, steps=[steps[i] for i in keep], values=[values[i] for i in keep], total=len(steps))


def unreported_figures(store: RunStore, where: JobFilter, total: int, first: JobRecord | None) -> list[SpecError]:
    """The figures of a list's conditions and order that no stored run reports (misspelled, most likely:
    `val/accc` matched nothing, silently). Asked of the store only where it shows: a list that found no run
    (each condition's figure), or whose first run lacks the order's figure (runs with it come first); one
    count per figure, none on an empty store. Errors at ("query", "where", i) and ("query", "order")."""
    named: list[tuple[tuple[str | int, ...], Field]] = [
        (("query", "where", i), c.field) for i, c in enumerate(where.conditions) if total == 0
    ]
    order = where.order
    if order is not None and first is not None and where.offset == 0 and order.field.name not in first.summary:
        named.append((("query", "order"), order.field))
    named = [(loc, field) for loc, field in named if field.source == "summary"]
    if not named or store.count_jobs() == 0:
        return []
    return [
        SpecError(loc, f"no run reports a figure {field.name!r} (a name in a run's summary: val/acc, train/loss)")
        for loc, field in named
        if store.count_jobs(None, JobFilter(conditions=(Condition(field, ">=", -math.inf),))) == 0
    ]


SNAPSHOT_TYPES = frozenset({"histogram", "layers", "embedding", "boundary", "network", "system", "images", "confusion"})
# the page draws only the newest of these (over-time views are drawn from histograms, layers, embeddings
# and system samples): a compact replay sends one each. Measured: a boundary grid is ~25 KB, and 100 of
# them were half of what each viewer opening a long run was sent
LATEST_ONLY_TYPES = frozenset({"boundary", "network", "images", "confusion"})


@dataclass
class Compaction:
    """What a compact replay keeps, planned from a first pass over the history (see compact_history)."""

    train_steps: set[int]
    val_steps: set[int]
    snapshots: set[int]  # seqs

    def apply(self, event: StoredEvent) -> StoredEvent | None:
        """The event as the compact replay sends it (scalars thinned), or None to leave it out."""
        if event.type in SNAPSHOT_TYPES:
            return event if event.seq in self.snapshots else None
        if event.type != "scalars":
            return event
        body = decode(event.body)
        points = [p for p in body["points"] if p["step"] in self.train_steps or p["step"] in self.val_steps]
        if not points:
            return None
        if len(points) < len(body["points"]):
            body["points"] = points
            event = StoredEvent(event.job, event.seq, event.type, event.step, json.dumps(body))
        return event


def plan_compaction(events: Iterable[StoredEvent], max_points: int, max_snapshots: int) -> Compaction:
    """About `max_points` train-loss points (the lowest and highest of each of max_points/2 buckets of
    steps, the first and latest) and at most `max_points` validation points, and at most
    `max_snapshots` events per snapshot series (histogram tag, embedding, ...; the latest kept; only
    the latest of LATEST_ONLY_TYPES). Reads each event once and keeps only steps, losses and seqs, so
    it can run over a job's history page by page."""
    train_steps: list[int] = []
    train_losses: list[float] = []
    val_steps = []
    snapshots: dict[tuple[str, str], list[int]] = {}
    for event in events:
        if event.type == "scalars":
            for step, values in scalar_points(decode(event.body)):
                if "train/loss" in values:
                    train_steps.append(step)
                    train_losses.append(values["train/loss"])
                if "val/loss" in values:
                    val_steps.append(step)
        elif event.type in SNAPSHOT_TYPES:
            snapshots.setdefault((event.type, decode(event.body).get("tag", "")), []).append(event.seq)
    return Compaction(
        {train_steps[i] for i in minmax_indices(train_steps, train_losses, max(1, max_points // 2))},
        {val_steps[i] for i in downsample_indices(len(val_steps), max_points)},
        {
            seqs[i]
            for (type_, _), seqs in snapshots.items()
            for i in downsample_indices(len(seqs), 1 if type_ in LATEST_ONLY_TYPES else max_snapshots)
        },
    )


def compact_history(events: list[StoredEvent], max_points: int, max_snapshots: int) -> list[StoredEvent]:
    """A long run's history, thinned for a viewer that just arrived (plan_compaction), every
    status/control/dataset event kept. Seq order."""
    plan = plan_compaction(events, max_points, max_snapshots)
    return [kept for event in events if (kept := plan.apply(event)) is not None]

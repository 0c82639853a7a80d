"""Read functions shared by REST and the websocket; no HTTP here, so they are unit-tested directly."""

from __future__ import annotations

import json

from trainscope.schemas import JobPublic, JobSpec, ScalarSeries
from trainscope.store.base import JobRecord, RunStore, StoredEvent


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
    )


def events_json(events: list[StoredEvent]) -> str:
    """A JSON array of stored events, built from their stored text without decoding it."""
    return "[" + ",".join(event.body for event in events) + "]"


def downsample_indices(total: int, max_points: int) -> list[int]:
    """At most max_points evenly spread indices of range(total), always keeping the first and the last."""
    if total <= max_points:
        return list(range(total))
    if max_points == 1:
        return [total - 1]
    stride = (total - 1) / (max_points - 1)
    return sorted({round(i * stride) for i in range(max_points - 1)} | {total - 1})


def read_scalars(store: RunStore, job_id: str, tag: str, max_points: int) -> ScalarSeries:
    """One scalar series of a job, downsampled on read (TensorBoard keeps the newest point too)."""
    steps: list[int] = []
    values: list[float] = []
    for event in store.read_events(job_id, types=("scalars",)):
        for point in json.loads(event.body)["points"]:
            value = point["values"].get(tag)
            if value is not None:
                steps.append(point["step"])
                values.append(value)
    keep = downsample_indices(len(steps), max_points)
    return ScalarSeries(tag=tag, steps=[steps[i] for i in keep], values=[values[i] for i in keep], total=len(steps))

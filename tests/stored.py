"""Jobs written straight into a store: a long run's events without training one (exports, storms)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from trainscope.schemas import JobSpec, JobStatus
from trainscope.store.base import JobRecord, StoredEvent, WriteBatch
from trainscope.store.sql import SqlStore

POINTS_PER_EVENT = 200  # a scalars event as the driver sends it (emit_max_steps)


def store_long_job(path: Path, megabytes: float, job_id: str = "bench") -> None:
    """A finished job of about `megabytes` of events: scalars batches with a histogram of each of three
    layers every 200 steps (the default probes), as a long run stores them."""
    store = SqlStore(f"sqlite:///{path}")
    store.create_schema()
    target, size, seq, step = megabytes * 2**20, 0, 0, 0
    job = JobRecord(job_id, "", JobStatus.done, JobSpec().model_dump(mode="json"), datetime.now(UTC))
    store.write(WriteBatch(new_jobs=[job]))
    while size < target:
        events = []
        for _ in range(100):
            points = [
                {
                    "step": step + i + 1,
                    "values": {"train/loss": 1 / (step + i + 1), **({"val/loss": 0.5} if i == 0 else {})},
                }
                for i in range(POINTS_PER_EVENT)
            ]
            step += POINTS_PER_EVENT
            bodies = [{"type": "scalars", "step": step, "wall": 1.7e9 + seq, "points": points}]
            histogram = {"type": "histogram", "step": step, "wall": 1.7e9 + seq, "min": -1.0, "max": 1.0}
            bodies += [{**histogram, "tag": f"act/layer{k}", "counts": list(range(30))} for k in (1, 2, 3)]
            for body in bodies:
                seq += 1
                text = json.dumps({"job": job_id, "seq": seq, **body})
                events.append(StoredEvent(job_id, seq, body["type"], step, text))
                size += len(text)
        store.write(WriteBatch(events=events))
        store.write(WriteBatch(job_updates={job_id: {"last_seq": seq}}))
    store.close()

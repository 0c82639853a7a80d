"""What crosses a process boundary between the server and a worker: to a worker, a job to run, a command
for it, or the order to stop; from it, that it is ready, a job's events, that a job is done, and that it
is alive. Pickled through a pipe (later, sent to a Ray actor), so these are plain dataclasses of plain
values, with no asyncio object and no store record; an event crosses as the JSON text it is stored and
sent as. What the server says to itself (requests to the pump, a worker's death) is in messages.py."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any

from trainscope.schemas import Command, EventBase, UploadedRows

# ---- to a worker ------------------------------------------------------------------------------


@dataclass(frozen=True)
class WorkerConfig:
    """What a worker needs of the server's settings, given once when it starts."""

    device: str  # where `auto` jobs run: auto, cpu or cuda
    torch_threads: int
    emit_interval_s: float
    emit_max_steps: int
    max_job_seconds: float
    nice: int = 0
    heartbeat_s: float = 1.0
    ranks: str = "processes"  # where a data-parallel job's other ranks run: processes it spawns, or "ray" actors
    cuda_index: int | None = None  # the CUDA device this worker binds (settings.devices); None: the current one


@dataclass(frozen=True)
class RunJob:
    job_id: str
    spec_json: str
    rows: UploadedRows | None = None  # the uploaded table the spec names (a worker has no store)
    device: str = "auto"  # the spec's, for the executor to place it
    # matched runs trained with this one as one stacked model, in the same worker (training/lockstep.py)
    stacked: tuple[RunJob, ...] = ()

    @property
    def job_ids(self) -> tuple[str, ...]:
        """Every job this unit runs, this one first."""
        return (self.job_id, *(member.job_id for member in self.stacked))

    def without(self, job_id: str) -> RunJob | None:
        """The unit with that job taken out (None: nothing left to run)."""
        members = [m for m in (replace(self, stacked=()), *self.stacked) if m.job_id != job_id]
        return replace(members[0], stacked=tuple(members[1:])) if members else None


@dataclass(frozen=True)
class ControlJob:
    job_id: str
    command: Command


@dataclass(frozen=True)
class StopWorker:
    pass


ToWorker = RunJob | ControlJob | StopWorker

# ---- from a worker (Died is said for it by its executor) ---------------------------------------


@dataclass(frozen=True)
class Ready:
    info: dict[str, Any]


@dataclass(frozen=True)
class JobEvent:
    """An event as its worker encoded it: its JSON text without `job` and `seq` (the pump numbers it and
    writes those in front), and what the pump reads of it without decoding: type, step, a snapshot's tag
    and, for scalars, the last point's values with its step (the job's summary)."""

    job_id: str
    type: str
    step: int
    body: str
    tag: str = ""
    last_point: dict[str, float] | None = None


def encode_event(job_id: str, event: EventBase) -> JobEvent:
    """The event encoded once, where it is made (a worker process), not in the server's pump, without
    the job and its number, which the pump writes in front. Raises ValueError for a non-finite number,
    which JSON cannot carry."""
    fields = event.model_dump(exclude={"job", "seq"})  # Python floats: json.dumps refuses a NaN
    body = json.dumps(fields, allow_nan=False, separators=(",", ":"))
    last = None
    if fields["type"] == "scalars" and fields["points"]:
        point = fields["points"][-1]
        last = {**point["values"], "step": point["step"]}
    return JobEvent(job_id, fields["type"], event.step, body, fields.get("tag", ""), last)


@dataclass(frozen=True)
class JobIdle:
    """The worker is done with the job (its final status was sent before)."""

    job_id: str


@dataclass(frozen=True)
class Heartbeat:
    """A worker, still alive (its own thread beats every settings.heartbeat_s, whatever its job does)."""

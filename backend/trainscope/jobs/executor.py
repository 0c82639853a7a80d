"""What the manager needs from whatever runs its jobs: a place to submit a job to, control and cancel it,
with the job's events and its end coming back through one callback, from any thread. Queueing, dispatch,
a hung worker and its replacement are the executor's business (slots.py); the manager keeps the one
write path and the state machine. `TRAINSCOPE_EXECUTOR` picks one: `local` (worker processes on this
machine, local.py) or `ray` (actors on a Ray cluster, ray_actors.py, an optional extra)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from trainscope.config import Settings
from trainscope.jobs.wire import JobEvent, RunJob
from trainscope.schemas import Command


@dataclass(frozen=True)
class JobEnded:
    """The executor is done with a job: its worker finished it (its final status came before, as an
    event) or, with a `failure`, lost it (a worker or an actor died, or hung and was killed)."""

    job_id: str
    failure: str = ""


ExecutorReport = JobEvent | JobEnded
OnReport = Callable[[ExecutorReport], None]  # called from any thread, in each job's order


class Executor(Protocol):
    def start(self) -> None:
        """Start the workers; jobs submitted before they are ready wait."""

    def submit(self, job: RunJob) -> None:
        """Run it when a worker is free, after those submitted before it."""

    def control(self, job_id: str, command: Command) -> bool:
        """Pass a command to the job's worker; False when no worker has the job."""

    def cancel(self, job_id: str) -> bool:
        """True when the job was still waiting (dropped: it never runs, nothing more is reported);
        otherwise its worker, if it has one, is asked to stop it and reports how it ended."""

    def workers(self) -> list[dict[str, Any]]:
        """Each worker as /api/health shows it: index, pid, ready, job and what it said of itself."""

    def has_cuda(self) -> bool | None:
        """Whether a ready worker can use CUDA; None until one is ready."""

    def stop(self, timeout: float = 5.0) -> None:
        """Stop every worker (a running job ends failed: the server stopped)."""


ExecutorFactory = Callable[[Settings, OnReport], Executor]


def make_executor(settings: Settings, on_report: OnReport) -> Executor:
    """The executor `settings.executor` names (Ray's is imported only when asked for)."""
    if settings.executor == "ray":
        from trainscope.jobs.ray_actors import ray_executor

        return ray_executor(settings, on_report)
    from trainscope.jobs.local import local_executor

    return local_executor(settings, on_report)

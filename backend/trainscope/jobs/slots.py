"""An executor over warm workers, whatever runs them: the FIFO queue, dispatch to a ready worker, the hang
watchdog and a dead worker's replacement. A backend (local processes, Ray actors) only starts, feeds and
kills a worker, and reports what each one says, and its death, through `report`.

Threads: each worker's reports arrive on a thread of its backend, the watchdog has its own, and the
manager submits, controls and cancels from the event loop; one lock keeps the queue and the workers."""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from trainscope.jobs.executor import JobEnded, OnReport
from trainscope.jobs.wire import ControlJob, Heartbeat, JobEvent, JobIdle, Ready, RunJob, ToWorker, WorkerConfig
from trainscope.schemas import CancelCommand, Command

log = logging.getLogger(__name__)

MAX_FAILED_STARTS = 3  # workers that die before they are ready; past this we stop replacing them


@dataclass(frozen=True)
class Died:
    """A worker's death, said for it by its backend, with the cause in words."""

    cause: str


WorkerReport = Ready | JobEvent | JobIdle | Heartbeat | Died


@dataclass(eq=False)
class Worker:
    """One warm worker as the executor sees it; a backend subclasses it with its own handle."""

    index: int
    ready: bool = False
    job: str | None = None  # the job it runs (the first of a lockstep group's)
    members: tuple[str, ...] = ()  # every job it runs that has not ended: one, or a lockstep group's
    info: dict[str, Any] = field(default_factory=dict)
    last_seen: float = 0.0  # monotonic time of its last message
    hung: str = ""  # why the watchdog killed it, if it did

    @property
    def pid(self) -> int | None:
        return None

    @property
    def idle(self) -> bool:
        return self.ready and self.job is None


Report = Callable[[Worker, WorkerReport], None]


class Backend(Protocol):
    def spawn(self, index: int, report: Report) -> Worker:
        """A new worker; it says Ready once warm, and its death is reported as Died, once."""

    def fits(self, worker: Worker, job: RunJob) -> bool:
        """Whether the worker holds what the job needs (a GPU for a job on cuda)."""

    def send(self, worker: Worker, message: ToWorker) -> bool:
        """False when the worker is gone (its death is reported separately)."""

    def kill(self, worker: Worker) -> None:
        """End it now: its death is then reported as any other."""

    def release(self, worker: Worker) -> None:
        """Free what a dead worker held."""

    def stop(self, workers: list[Worker], timeout: float) -> None:
        """Stop them all, killing those that do not stop within `timeout`."""


def worker_config(settings: Any, index: int = 0) -> WorkerConfig:
    """What worker `index` needs to know of the server's settings: the workers take settings.devices in
    turn."""
    devices = settings.devices
    return WorkerConfig(
        device=settings.device,
        torch_threads=settings.torch_threads,
        emit_interval_s=settings.emit_interval_s,
        emit_max_steps=settings.emit_max_steps,
        max_job_seconds=settings.limits.max_job_seconds,
        nice=settings.worker_nice,
        heartbeat_s=settings.heartbeat_s,
        ranks="ray" if settings.executor == "ray" else "processes",
        cuda_index=int(devices[index % len(devices)].split(":")[1]) if devices else None,
    )


class SlotExecutor:
    """`count` warm workers from `backend`, each running one job at a time, oldest job first."""

    def __init__(self, backend: Backend, count: int, hang_timeout_s: float, on_report: OnReport) -> None:
        self.backend = backend
        self.count = count
        self.hang_timeout_s = hang_timeout_s
        self.on_report = on_report
        self.slots: list[Worker] = []  # by index; a replacement takes its predecessor's place
        self._queue: deque[RunJob] = deque()
        self._lock = threading.RLock()
        self._stopping = threading.Event()
        self._failed_starts = 0

    def start(self) -> None:
        with self._lock:
            self.slots = [self.backend.spawn(i, self._report) for i in range(self.count)]
        threading.Thread(target=self._watch_for_hangs, daemon=True, name="hang-watchdog").start()

    def submit(self, job: RunJob) -> None:
        with self._lock:
            self._queue.append(job)
            self._dispatch()

    def control(self, job_id: str, command: Command) -> bool:
        with self._lock:
            worker = next((w for w in self.slots if job_id in w.members), None)
            return worker is not None and self.backend.send(worker, ControlJob(job_id, command))

    def cancel(self, job_id: str) -> bool:
        with self._lock:
            for position, waiting in enumerate(self._queue):
                if job_id in waiting.job_ids:  # a lockstep group waiting goes on without it
                    rest = waiting.without(job_id)
                    if rest is None:
                        del self._queue[position]
                    else:
                        self._queue[position] = rest
                    return True
            self.control(job_id, CancelCommand())
            return False

    def workers(self) -> list[dict[str, Any]]:
        with self._lock:
            return [
                {"index": w.index, "pid": w.pid, "ready": w.ready, "job": w.job, **w.info} for w in list(self.slots)
            ]

    def has_cuda(self) -> bool | None:
        ready = [w for w in self.slots if w.ready]
        return any(w.info.get("cuda") for w in ready) if ready else None

    def stop(self, timeout: float = 5.0) -> None:
        self._stopping.set()
        with self._lock:
            workers = list(self.slots)
        self.backend.stop(workers, timeout)

    # ---- from the backend's threads ----------------------------------------------------------
    def _report(self, worker: Worker, report: WorkerReport) -> None:
        worker.last_seen = time.monotonic()
        match report:
            case JobEvent():
                self.on_report(report)  # on the worker's own thread: its events stay in order
            case Ready(info):
                with self._lock:
                    worker.ready, worker.info = True, info
                    self._failed_starts = 0
                    self._dispatch()
            case JobIdle(job_id):
                with self._lock:
                    worker.members = tuple(m for m in worker.members if m != job_id)
                    if not worker.members:  # a lockstep group's worker is free once its last run ends
                        worker.job = None
                        self._dispatch()
                self.on_report(JobEnded(job_id))
            case Died(cause):
                with self._lock:
                    lost, worker.job, worker.members = worker.members, None, ()
                    self._replace(worker, cause)
                for job_id in lost:
                    self.on_report(JobEnded(job_id, worker.hung or cause))
            case Heartbeat():
                pass  # still alive: last_seen is all it updates

    def _dispatch(self) -> None:
        """Hand waiting jobs, oldest first, to idle workers that fit them (called holding the lock)."""
        for job in list(self._queue):
            if self._stopping.is_set():
                return
            worker = next((w for w in self.slots if w.idle and self.backend.fits(w, job)), None)
            if worker is None:
                continue
            self._queue.remove(job)
            worker.job, worker.members, worker.last_seen = job.job_id, job.job_ids, time.monotonic()
            if not self.backend.send(worker, job):  # it died: its death comes next, the job waits
                worker.job, worker.members = None, ()
                self._queue.appendleft(job)
                return

    def _replace(self, dead: Worker, cause: str) -> None:
        self.backend.release(dead)
        if self._stopping.is_set() or self.slots[dead.index] is not dead:
            return
        if not dead.ready:
            self._failed_starts += 1
            if self._failed_starts > MAX_FAILED_STARTS:
                log.error("worker %d failed to start (%s); not replacing it", dead.index, cause)
                return
        log.warning("worker %d died (%s); starting a new one", dead.index, cause)
        self.slots[dead.index] = self.backend.spawn(dead.index, self._report)

    def _watch_for_hangs(self) -> None:
        """Kill a worker that has a job but has said nothing for `hang_timeout_s`: its heartbeat thread
        beats every `heartbeat_s` whatever its job does, so this is a process stopped or stuck in C
        holding the interpreter, not a slow job; its death then ends the job, failed."""
        limit = self.hang_timeout_s
        while not self._stopping.wait(min(1.0, limit / 4)):
            now = time.monotonic()
            with self._lock:
                silent = [w for w in self.slots if w.job is not None and not w.hung and now - w.last_seen > limit]
                for worker in silent:
                    worker.hung = f"worker hung: nothing heard for {limit:g} s; killed"
                    log.warning("worker %d (job %s): %s", worker.index, worker.job, worker.hung)
            for worker in silent:
                self.backend.kill(worker)

"""The local executor: long-lived worker processes (spawn context: CUDA-safe), one pair of pipes each.

Each worker has its own pipes rather than one shared queue: a worker killed while writing to a
shared queue can leave its lock held and stall every other worker.
"""

from __future__ import annotations

import multiprocessing
import signal
import threading
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess

from trainscope.config import Settings
from trainscope.jobs.executor import OnReport
from trainscope.jobs.messages import Died, FromWorker, Worker
from trainscope.jobs.wire import StopWorker, ToWorker
from trainscope.jobs.worker import worker_main


@dataclass(eq=False)
class LocalWorker(Worker):
    process: BaseProcess | None = None
    tasks: Connection | None = None

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None


def describe_exit(exitcode: int | None) -> str:
    if exitcode is None:
        return "worker process vanished"
    if exitcode < 0:
        try:
            return f"worker process killed by {signal.Signals(-exitcode).name}"
        except ValueError:
            return f"worker process killed by signal {-exitcode}"
    return f"worker process exited with code {exitcode}"


class LocalPool:
    """Starts, feeds and replaces worker processes; a reader thread per worker hands each report it
    sends (and, at the end, its death) to `on_report`."""

    def __init__(self, settings: Settings, on_report: OnReport) -> None:
        self.settings = settings
        self.on_report = on_report
        self.context = multiprocessing.get_context("spawn")
        self.workers: list[Worker] = []

    def start(self) -> None:
        self.workers = [self._spawn(i) for i in range(self.settings.workers)]

    def _spawn(self, index: int) -> LocalWorker:
        settings = self.settings
        tasks_out, tasks_in = self.context.Pipe(duplex=False)
        events_out, events_in = self.context.Pipe(duplex=False)
        process = self.context.Process(
            target=worker_main,
            args=(
                tasks_out,
                events_in,
                settings.device,
                settings.torch_threads,
                settings.emit_interval_s,
                settings.emit_max_steps,
                settings.limits.max_job_seconds,
                settings.worker_nice,
                settings.heartbeat_s,
            ),
            name=f"trainscope-worker-{index}",
            daemon=True,
        )
        process.start()
        tasks_out.close()  # the child's ends: closing ours lets EOF tell us when the child dies
        events_in.close()
        handle = LocalWorker(index, process=process, tasks=tasks_in)
        threading.Thread(target=self._read, args=(handle, events_out), daemon=True, name=f"reader-{index}").start()
        return handle

    def _read(self, handle: LocalWorker, events: Connection) -> None:
        assert handle.process is not None
        try:
            while True:
                self.on_report(FromWorker(handle, events.recv()))
        except (EOFError, OSError):
            pass
        events.close()
        handle.process.join(timeout=5)
        self.on_report(FromWorker(handle, Died(handle.process.exitcode)))

    def replace(self, dead: Worker) -> Worker:
        assert isinstance(dead, LocalWorker) and dead.tasks is not None
        dead.tasks.close()
        handle = self._spawn(dead.index)
        self.workers[dead.index] = handle
        return handle

    def kill(self, worker: Worker) -> None:
        """SIGKILL: its reader thread then reports the death as for any other."""
        assert isinstance(worker, LocalWorker) and worker.process is not None
        if worker.process.is_alive():
            worker.process.kill()

    def send(self, worker: Worker, message: ToWorker) -> bool:
        assert isinstance(worker, LocalWorker) and worker.tasks is not None
        try:
            worker.tasks.send(message)
            return True
        except (BrokenPipeError, OSError):
            return False

    def stop(self, timeout: float = 5.0) -> None:
        for worker in self.workers:
            self.send(worker, StopWorker())
        for worker in self.workers:
            assert isinstance(worker, LocalWorker) and worker.process is not None and worker.tasks is not None
            worker.process.join(timeout)
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join(timeout)
            worker.tasks.close()

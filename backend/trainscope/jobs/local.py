"""The local executor: long-lived worker processes on this machine (spawn context: CUDA-safe), one pair
of pipes each, under the slot executor's queue, dispatch and watchdog.

Each worker has its own pipes rather than one shared queue: a worker killed while writing to a
shared queue can leave its lock held and stall every other worker.
"""

from __future__ import annotations

import logging
import multiprocessing
import threading
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess

from trainscope.config import Settings
from trainscope.jobs.executor import OnReport
from trainscope.jobs.ranks import exit_words
from trainscope.jobs.slots import Died, Report, SlotExecutor, Worker, worker_config
from trainscope.jobs.wire import RunJob, StopWorker, ToWorker, WorkerConfig
from trainscope.jobs.worker import worker_main

log = logging.getLogger(__name__)


@dataclass(eq=False)
class LocalWorker(Worker):
    process: BaseProcess | None = None
    tasks: Connection | None = None
    reader: threading.Thread | None = None

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None


def describe_exit(exitcode: int | None) -> str:
    return f"worker process {exit_words(exitcode)}"


class LocalProcesses:
    """Starts, feeds and kills worker processes; a reader thread per worker reports each message it
    sends and, at the end, its death."""

    def __init__(self, configs: Callable[[int], WorkerConfig]) -> None:
        self.configs = configs  # worker index -> its config (the device it binds)
        self.context = multiprocessing.get_context("spawn")

    def spawn(self, index: int, report: Report) -> Worker:
        tasks_out, tasks_in = self.context.Pipe(duplex=False)
        events_out, events_in = self.context.Pipe(duplex=False)
        process = self.context.Process(
            target=worker_main,
            args=(tasks_out, events_in, self.configs(index)),
            name=f"trainscope-worker-{index}",
            daemon=False,  # a daemonic process may not start the ranks of a data-parallel job; stop() ends it
        )
        process.start()
        tasks_out.close()  # the child's ends: closing ours lets EOF tell us when the child dies
        events_in.close()
        handle = LocalWorker(index, process=process, tasks=tasks_in)
        handle.reader = threading.Thread(target=self._read, args=(handle, events_out, report), name=f"reader-{index}")
        handle.reader.daemon = True
        handle.reader.start()
        return handle

    def _read(self, handle: LocalWorker, events: Connection, report: Report) -> None:
        assert handle.process is not None
        try:
            while True:
                report(handle, events.recv())
        except (EOFError, OSError):
            pass
        events.close()
        handle.process.join(timeout=5)
        report(handle, Died(describe_exit(handle.process.exitcode)))

    def fits(self, worker: Worker, job: RunJob) -> bool:
        return True  # every worker here sees every device of this machine

    def send(self, worker: Worker, message: ToWorker) -> bool:
        assert isinstance(worker, LocalWorker) and worker.tasks is not None
        try:
            worker.tasks.send(message)
            return True
        except (BrokenPipeError, OSError):
            return False

    def kill(self, worker: Worker) -> None:
        """SIGKILL: its reader thread then reports the death as for any other."""
        assert isinstance(worker, LocalWorker) and worker.process is not None
        if worker.process.is_alive():
            worker.process.kill()

    def release(self, worker: Worker) -> None:
        assert isinstance(worker, LocalWorker) and worker.tasks is not None
        worker.tasks.close()

    def stop(self, workers: list[Worker], timeout: float) -> None:
        for worker in workers:
            self.send(worker, StopWorker())
        for worker in workers:
            assert isinstance(worker, LocalWorker) and worker.process is not None and worker.tasks is not None
            worker.process.join(timeout)
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join(timeout)
        # each worker's last words (its job's "the server stopped during the run") are reported before
        # stop returns: the manager stops its pump after the reports handed over by then
        for worker in workers:
            assert isinstance(worker, LocalWorker) and worker.reader is not None and worker.tasks is not None
            worker.reader.join(timeout)
            if worker.reader.is_alive():  # its job may read "server restarted" at the next start
                log.warning("worker %d: what it sent was not all read in %g s; stopping anyway", worker.index, timeout)
            worker.tasks.close()  # after its reader, which closes it too on the death it reports (release)


def local_executor(settings: Settings, on_report: OnReport) -> SlotExecutor:
    backend = LocalProcesses(lambda index: worker_config(settings, index))
    return SlotExecutor(backend, settings.workers, settings.hang_timeout_s, on_report)

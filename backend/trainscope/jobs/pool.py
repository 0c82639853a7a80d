"""A pool of long-lived worker processes (spawn context: CUDA-safe), one pair of pipes each.

Each worker has its own pipes rather than one shared queue: a worker killed while writing to a
shared queue can leave its lock held and stall every other worker.
"""

from __future__ import annotations

import multiprocessing
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

from trainscope.config import Settings
from trainscope.jobs.worker import worker_main

Message = tuple[Any, ...]


@dataclass(eq=False)
class WorkerHandle:
    index: int
    process: BaseProcess
    tasks: Connection
    ready: bool = False
    job: str | None = None
    info: dict[str, Any] = field(default_factory=dict)
    last_seen: float = 0.0  # monotonic time of its last message
    hung: str = ""  # why the watchdog killed it, if it did

    @property
    def pid(self) -> int | None:
        return self.process.pid

    @property
    def idle(self) -> bool:
        return self.ready and self.job is None


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
    """Starts, feeds and replaces worker processes; reports everything through `on_message`.

    on_message is called from reader threads with ("ready", w, info), ("event", w, job, event),
    ("idle", w, job) or ("died", w, exitcode).
    """

    def __init__(self, settings: Settings, on_message: Callable[[Message], None]) -> None:
        self.settings = settings
        self.on_message = on_message
        self.context = multiprocessing.get_context("spawn")
        self.workers: list[WorkerHandle] = []

    def start(self) -> None:
        self.workers = [self._spawn(i) for i in range(self.settings.workers)]

    def _spawn(self, index: int) -> WorkerHandle:
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
            ),
            name=f"trainscope-worker-{index}",
            daemon=True,
        )
        process.start()
        tasks_out.close()  # the child's ends: closing ours lets EOF tell us when the child dies
        events_in.close()
        handle = WorkerHandle(index, process, tasks_in)
        threading.Thread(target=self._read, args=(handle, events_out), daemon=True, name=f"reader-{index}").start()
        return handle

    def _read(self, handle: WorkerHandle, events: Connection) -> None:
        try:
            while True:
                message = events.recv()
                self.on_message((message[0], handle, *message[1:]))
        except (EOFError, OSError):
            pass
        events.close()
        handle.process.join(timeout=5)
        self.on_message(("died", handle, handle.process.exitcode))

    def replace(self, dead: WorkerHandle) -> WorkerHandle:
        dead.tasks.close()
        handle = self._spawn(dead.index)
        self.workers[dead.index] = handle
        return handle

    def kill(self, handle: WorkerHandle) -> None:
        """SIGKILL: its reader thread then reports the death as for any other."""
        if handle.process.is_alive():
            handle.process.kill()

    def send(self, handle: WorkerHandle, message: Message) -> bool:
        """False when the worker is gone (its death is reported separately)."""
        try:
            handle.tasks.send(message)
            return True
        except (BrokenPipeError, OSError):
            return False

    def stop(self, timeout: float = 5.0) -> None:
        for handle in self.workers:
            self.send(handle, ("stop",))
        for handle in self.workers:
            handle.process.join(timeout)
            if handle.process.is_alive():
                handle.process.kill()
                handle.process.join(timeout)
            handle.tasks.close()

"""What the manager needs from whatever runs its jobs: a set of workers it can send typed messages to,
kill and replace, each reporting back through one callback. The local process pool is the first
executor; another (a Ray actor pool) plugs in here without touching the manager."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from trainscope.config import Settings
from trainscope.jobs.messages import FromWorker, Worker
from trainscope.jobs.wire import ToWorker

OnReport = Callable[[FromWorker], None]  # called from any thread


class Executor(Protocol):
    workers: list[Worker]  # by index; a replaced worker takes its predecessor's place

    def start(self) -> None:
        """Start every worker; each says Ready once it can take a job."""

    def send(self, worker: Worker, message: ToWorker) -> bool:
        """False when the worker is gone (its death is reported separately, as Died)."""

    def kill(self, worker: Worker) -> None:
        """End it now: its death is then reported as any other."""

    def replace(self, dead: Worker) -> Worker:
        """A fresh worker in the dead one's place."""

    def stop(self, timeout: float = 5.0) -> None:
        """Stop every worker (a running job ends failed: the server stopped)."""


ExecutorFactory = Callable[[Settings, OnReport], Executor]

"""The local backend's worker processes: a stop returns only once all a worker said has been reported."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from trainscope.config import Settings
from trainscope.jobs.local import LocalProcesses
from trainscope.jobs.slots import Died, Worker, WorkerReport, worker_config
from trainscope.jobs.wire import Ready


def test_stop_returns_once_every_message_its_worker_sent_has_been_reported(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'l.db'}", workers=1)
    backend = LocalProcesses(lambda index: worker_config(settings, index))
    reported: list[WorkerReport] = []
    ready = threading.Event()

    def report(worker: Worker, message: WorkerReport) -> None:
        if isinstance(message, Died):
            time.sleep(0.5)  # a reader thread a loaded machine schedules late
        reported.append(message)
        if isinstance(message, Ready):
            ready.set()

    worker = backend.spawn(0, report)
    assert ready.wait(120), "the worker never warmed up"
    backend.stop([worker], timeout=60)
    # its last report, its exit: a job's "the server stopped during the run" comes before it on the same
    # thread, and the manager's pump stops after what was reported when stop returned
    assert isinstance(reported[-1], Died)

"""A data loader as slow as a spec asks (spec.loader), between a task's batches and the driver's step:
each batch takes `delay` times the step's own compute to load, either when the step asks for it (the step
waits) or on `prefetch` threads that load ahead while the step computes, as a DataLoader's workers do (the
waits overlap the compute, and each other's). The delay is a multiple of the step, not of a clock, so a
loader at delay 1 halves throughput on any machine, loaded or not. The batches keep their order (each
thread draws and queues its batch under one lock: the run is the same run). Measures how long steps waited
for their batches and how long they ran."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from typing import Any


class Loader:
    def __init__(self, batch: Callable[[], Any], delay: float, prefetch: int) -> None:
        self.batch, self.delay = batch, delay
        self.last_compute = 0.0  # seconds the last step ran between getting its batch and asking again
        self.waited = self.computed = 0.0  # since the last report
        self.total_waited = self.total_computed = 0.0
        self.handed: float | None = None  # when the last batch was handed over
        self.steps = 0
        self.stopping = threading.Event()
        self.ahead: queue.Queue[Any] | None = None
        self.drawing = threading.Lock()
        if prefetch:
            self.ahead = queue.Queue(2 * prefetch)
            for index in range(prefetch):
                threading.Thread(target=self._load_ahead, daemon=True, name=f"prefetch-{index}").start()

    def _load_ahead(self) -> None:
        """One loading thread: wait out the load, then draw the next batch and queue it, in order."""
        assert self.ahead is not None
        while not self.stopping.is_set():
            time.sleep(self.delay * self.last_compute)
            with self.drawing:
                item = self.batch()
                while not self.stopping.is_set():
                    try:
                        self.ahead.put(item, timeout=0.1)
                        break
                    except queue.Full:
                        continue

    def next(self) -> Any:
        """The next batch, for the step about to run."""
        asked = time.perf_counter()
        if self.handed is not None:  # the previous step ran from its batch until now
            self.last_compute = asked - self.handed
            self.computed += self.last_compute
        if self.ahead is not None:
            item = self.ahead.get()
        else:
            time.sleep(self.delay * self.last_compute)
            item = self.batch()
        self.handed = time.perf_counter()
        self.waited += self.handed - asked
        self.steps += 1
        return item

    def figures(self) -> dict[str, float]:
        """Per step since the last report: milliseconds waiting for the batch, and computing."""
        steps = max(self.steps, 1)
        figures = {"loader/wait_ms": 1e3 * self.waited / steps, "loader/compute_ms": 1e3 * self.computed / steps}
        self.total_waited += self.waited
        self.total_computed += self.computed
        self.waited = self.computed = 0.0
        self.steps = 0
        return figures

    def wait_share(self) -> float:
        """The share of the run's step time spent waiting for data."""
        total = self.total_waited + self.total_computed
        return self.total_waited / total if total else 0.0

    def stop(self) -> None:
        self.stopping.set()

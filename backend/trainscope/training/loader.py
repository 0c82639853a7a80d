"""A slow data loader, simulated as a spec asks (spec.loader), between a task's batches and the driver's
step. Each batch takes `delay` times the step's own compute to load: without prefetching its load begins
when the step asks for it, so the step waits the whole load; with `prefetch` loaders working ahead, as a
DataLoader's workers do, each loader begins the next batch of its share as soon as it has handed one over,
so the loads overlap the steps. The delay is a multiple of the step (its median), not of a clock, so a
loader at delay 1 halves throughput on any machine, loaded or not; and the loads are a schedule of times the step sleeps
until, not threads, so a busy machine's scheduling does not move the waits. The batches themselves are
the task's, in its order: the run is the same run. Measures how long steps waited and how long they ran."""

from __future__ import annotations

import statistics
import time
from collections import deque
from collections.abc import Callable
from typing import Any


class Loader:
    def __init__(self, batch: Callable[[], Any], delay: float, prefetch: int) -> None:
        self.batch, self.delay, self.prefetch = batch, delay, prefetch
        # seconds a step runs between getting its batch and asking for the next: the median of the last
        # few, so that a step held up by a busy machine stretches no load after it
        self.recent: deque[float] = deque(maxlen=15)
        self.step_s = 0.0
        # each step's wait and run, the last thousand: the typical step's share is their medians'
        self.waits: deque[float] = deque(maxlen=1000)
        self.runs: deque[float] = deque(maxlen=1000)
        self.loading: deque[float] = deque()  # when each batch the loaders work on ahead is ready, in order
        self.handed: float | None = None  # when the last batch was handed over
        self.waited = self.computed = 0.0  # since the last report
        self.total_waited = self.total_computed = 0.0
        self.steps = 0

    def next(self) -> Any:
        """The next batch, for the step about to run: ready once its load is over."""
        asked = time.perf_counter()
        if self.handed is not None:  # the previous step ran from its batch until now
            ran = asked - self.handed
            self.recent.append(ran)
            self.runs.append(ran)
            self.step_s = statistics.median(self.recent)
            self.computed += ran
        load = self.delay * self.step_s
        if self.prefetch:
            while len(self.loading) < self.prefetch:  # the first batches: every loader starts now
                self.loading.append(asked + load)
            ready = self.loading.popleft()
        else:
            ready = asked + load
        if ready > asked:
            time.sleep(ready - asked)
        item = self.batch()
        self.handed = time.perf_counter()
        if self.prefetch:  # the loader that handed this one over begins its next batch
            self.loading.append(self.handed + load)
        self.waited += self.handed - asked
        self.waits.append(self.handed - asked)
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

    def summary(self) -> dict[str, float]:
        """The share of the run's step time spent waiting for data, and the typical step's (from the median
        wait and the median run: what a busy machine's stalled steps do not move)."""
        self.figures()  # what came since the last report counts too
        total = self.total_waited + self.total_computed
        wait, run = (statistics.median(values) if values else 0.0 for values in (self.waits, self.runs))
        return {
            "loader/wait_share": self.total_waited / total if total else 0.0,
            "loader/typical_wait_share": wait / (wait + run) if wait + run else 0.0,
        }

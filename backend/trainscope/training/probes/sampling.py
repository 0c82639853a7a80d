"""Telemetry: runs the probes that want a step and brings all their tensors to the host at once."""

from __future__ import annotations

import math
import time

import numpy as np
import torch

from trainscope.schemas.registry import offered
from trainscope.schemas.spec import probe_needs
from trainscope.training.probes.base import Emit, Fetched, Probe, ProbeContext
from trainscope.training.probes.network import Boundary, Embedding, Histograms, LayerStats, Network, System
from trainscope.training.probes.pictures import Confusion, Pictures

# Every probe there is, in the order each samples a step; a run gets those its kind's taps allow.
PROBES: list[type[Probe]] = [Histograms, LayerStats, Embedding, System, Pictures, Confusion, Boundary, Network]


class Telemetry:
    """Runs the probes that want a step and fetches all their tensors in one device-to-host transfer."""

    def __init__(self, ctx: ProbeContext) -> None:
        self.ctx = ctx
        self.min_interval_s = ctx.spec.probes.min_interval_s
        self._last_sample: dict[int, float] = {}  # probe index -> monotonic time of its last sample
        taps = ctx.offered()
        # a probe that the data rules out (a boundary without a plane) sets its own `every` to 0
        probes = [probe(ctx) for probe in PROBES if offered(probe_needs(probe.field), taps)]
        self.probes = [p for p in probes if p.every > 0]
        self._active: list[Probe] = []
        self._next_due: float = 1  # the next step any probe samples on (the first and last always)

    @property
    def next_due(self) -> int | float:
        """The next step any probe may sample on (the last step aside): before it, before_forward says no."""
        return self._next_due

    def before_forward(self, step: int, last: bool = False) -> bool:
        """Arm the probes that sample this step; whether any does."""
        if step < self._next_due and not last:  # most steps: one comparison, no probe asked
            return False
        self._next_due = min((step // p.every + 1) * p.every for p in self.probes) if self.probes else math.inf
        self.ctx.last = last
        now = time.monotonic()
        self._active = []
        for index, probe in enumerate(self.probes):
            if not probe.wants(step, last):
                continue
            recent = now - self._last_sample.get(index, -math.inf) < self.min_interval_s
            if recent and step != 1 and not last:
                continue
            self._last_sample[index] = now
            self._active.append(probe)
        for probe in self._active:
            probe.arm(self.ctx)
        return bool(self._active)

    def after_backward(self, step: int, emit: Emit) -> None:
        if not self._active:
            return
        self.ctx.new_step()
        wanted = [(probe, probe.collect(self.ctx)) for probe in self._active]
        tensors = [t for _, parts in wanted for t in parts.values()]
        host = np.empty(0)
        if tensors:
            # the one device-to-host transfer of this step
            host = torch.cat([t.detach().reshape(-1).double() for t in tensors]).cpu().numpy()
        start = 0
        for probe, parts in wanted:
            fetched: Fetched = {}
            for key, tensor in parts.items():
                fetched[key] = host[start : start + tensor.numel()].reshape(tuple(tensor.shape))
                start += tensor.numel()
            for event in probe.events(step, fetched):
                emit(event)
        self._active = []

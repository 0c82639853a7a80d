"""What a run answers to and how it ends, shared by every way to train one (fit, a lockstep group, a rank
of a data-parallel run): the controller it polls, when it reports, and its result."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Protocol

from trainscope.schemas import Command


class Control(Protocol):
    def poll(self, wait: float) -> list[Command]:
        """Commands that arrived; waits up to `wait` seconds for the first one (0: just look)."""


class NoControl:
    def poll(self, wait: float) -> list[Command]:
        if wait:
            raise RuntimeError("paused with no way to resume")
        return []


@dataclass
class FitResult:
    """How a run ended: status is done, diverged or cancelled."""

    status: str
    step: int
    message: str = ""
    summary: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class EmitPolicy:
    """When buffered train losses are read from the device and sent, and how long a run may take."""

    interval_s: float = 0.1
    max_steps: int = 200
    max_seconds: float = math.inf  # wall time, pauses included; checked at each report


class RunEnded(Exception):
    """A run stops before its last step (Driver.ended says how)."""


class Cancelled(RunEnded):
    pass


class OutOfTime(RunEnded):
    pass


class Diverged(RunEnded):
    def __init__(self, step: int, value: float, last_ok: float, ceiling: float) -> None:
        what = f"became {value}" if not math.isfinite(value) else f"rose to {value:.4g} (above {ceiling:.4g})"
        super().__init__(f"loss {what} at step {step}; last loss before it {last_ok:.4g}")
        self.step, self.last_ok = step, last_ok

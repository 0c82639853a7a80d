"""Progress lines on stderr: a job's (step/steps, loss, validation accuracy, samples/s, ETA) and a
group's (runs done, running, the best so far). On a terminal the line is redrawn in place, cut to the
terminal's width and cleared to its end (no stale characters when it gets shorter); on a pipe, a line at
most every `every_s` seconds, and the last."""

from __future__ import annotations

import os
import shutil
import sys
import time
from typing import Any

import click

from trainscope.cli.base import figure

CLEAR_TO_END = "\x1b[K"


class Line:
    """One line redrawn in place."""

    def __init__(self, every_s: float = 1.0) -> None:
        self.tty = sys.stderr.isatty()
        self.every_s = every_s if not self.tty else 0.1
        self.last_shown, self.drawn = 0.0, ""

    def width(self) -> int:
        try:
            columns = os.get_terminal_size(sys.stderr.fileno()).columns
        except (OSError, ValueError):
            columns = 0
        return columns or shutil.get_terminal_size().columns

    def draw(self, text: str, final: bool = False) -> None:
        """Show `text` (at most every `every_s`, unless final); the final one ends the line, once."""
        if not final and time.monotonic() - self.last_shown < self.every_s:
            return
        self.last_shown = time.monotonic()
        if self.tty:
            text = text[: self.width() - 1]
            if text != self.drawn:
                click.echo(f"\r{text}{CLEAR_TO_END}", err=True, nl=False)
            if final:
                click.echo("", err=True)
        elif text != self.drawn:
            click.echo(text, err=True)
        self.drawn = "" if final else text


class JobProgress:
    """A job's progress from its events; `values` may start from the job's summary (a re-attach)."""

    def __init__(self, steps: int, batch: int, values: dict[str, float] | None = None) -> None:
        self.steps, self.batch = steps, batch
        self.values = dict(values or {})
        self.step = int(self.values.get("step", 0))
        self.start: tuple[int, float] | None = None  # the first point seen: (step, wall)
        self.rate: float | None = None
        self.output = Line()

    def update(self, event: Any) -> None:
        if event.type != "scalars" or not event.points:
            return
        for point in event.points:
            self.step = point.step
            self.values.update(point.values)
        if self.start is None:
            self.start = (self.step, event.wall)
        elif event.wall > self.start[1]:
            self.rate = (self.step - self.start[0]) / (event.wall - self.start[1])
        self.output.draw(self.line())

    def line(self) -> str:
        done = min(self.step / self.steps, 1.0) if self.steps else 0.0
        parts = [f"step {self.step}/{self.steps} [{'#' * int(done * 20):<20}] {done:4.0%}"]
        if "train/loss" in self.values:
            parts.append(f"loss {figure(self.values['train/loss'])}")
        if "val/acc" in self.values:
            parts.append(f"val acc {figure(self.values['val/acc'], 'acc')}")
        if self.rate:
            parts.append(f"{self.rate * self.batch:,.0f} samples/s")
            if self.step < self.steps:
                parts.append(f"ETA {max(self.steps - self.step, 0) / self.rate:.0f}s")
        return " · ".join(parts)

    def finish(self) -> None:
        self.output.draw(self.line(), final=True)


def group_line(group: Any) -> str:
    """How far a group has come: runs done of all, running, and the best validation accuracy so far."""
    statuses = [run.job.status.value if run.job else "deleted" for run in group.runs]
    ended = sum(status not in ("queued", "running", "paused") for status in statuses)
    accuracies = [run.job.summary["val/acc"] for run in group.runs if run.job and "val/acc" in run.job.summary]
    parts = [f"runs {ended}/{len(statuses)} ended", f"{statuses.count('running')} running"]
    if accuracies:
        parts.append(f"best val acc {figure(max(accuracies), 'acc')}")
    return " · ".join(parts)

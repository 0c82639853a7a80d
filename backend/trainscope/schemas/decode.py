"""The one reader of stored events on the Python side (frontend/js/decode.js is the page's): a body's
JSON, the points of a scalars batch, and base64 float32 arrays. The store, the replay, the lessons'
evidence and the tests read events through these, so an encoding changes in one place."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np


def decode(body: str) -> dict[str, Any]:
    """A stored event's body, as the pump wrote it (schemas/events.py describes each type)."""
    event: dict[str, Any] = json.loads(body)
    return event


def scalar_points(event: dict[str, Any]) -> Iterator[tuple[int, dict[str, float]]]:
    """(step, {tag: value}) for each point of a scalars batch."""
    for point in event["points"]:
        yield point["step"], point["values"]


# a system event's numeric fields, exported as the series system/<field> beside the scalars
SYSTEM_SERIES = (
    "steps_per_s",
    "samples_per_s",
    "memory_peak_mb",
    "gpu_memory_mb",
    "gpu_memory_peak_mb",
    "gpu_utilization",
)


def system_points(event: dict[str, Any]) -> dict[str, float]:
    """{"system/samples_per_s": ..., ...}: the numbers a system event carries (a GPU's only on a GPU)."""
    return {f"system/{key}": event[key] for key in SYSTEM_SERIES if event.get(key) is not None}


def series(events: Iterable[dict[str, Any]], tag: str) -> tuple[list[int], list[float]]:
    """One tag's steps and values across scalars events, in order (a point without the tag is skipped)."""
    steps: list[int] = []
    values: list[float] = []
    for event in events:
        for step, point in scalar_points(event):
            value = point.get(tag)
            if value is not None:
                steps.append(step)
                values.append(value)
    return steps, values


def floats(encoded: str) -> np.ndarray:
    """A base64 little-endian float32 array (training/points.b64_floats wrote it), as float64."""
    return np.frombuffer(base64.b64decode(encoded), dtype="<f4").astype(np.float64)

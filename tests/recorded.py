"""An emit for fit(), a task or a probe that keeps each event as the JSON object a viewer receives."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from trainscope.schemas import EventBase


def recorder(events: list[dict[str, Any]]) -> Callable[[EventBase], None]:
    def record(event: EventBase) -> None:
        events.append(event.model_dump(mode="json", exclude={"job", "seq"}))

    return record

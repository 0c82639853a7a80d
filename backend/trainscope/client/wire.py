"""What both clients share: the routes' queries and bodies, the server's address, and following a job's
stream across reconnections."""

from __future__ import annotations

import json
from typing import Any, Literal
from urllib.parse import quote

from pydantic import TypeAdapter
from websockets.exceptions import ConnectionClosed

from trainscope.client.errors import Unreachable
from trainscope.config import ClientSettings
from trainscope.schemas import TERMINAL, Event, JobSpec

# closes a reconnection cannot mend (api/ws.py): the job ended, a bad query, a forbidden Origin, no such
# job, a viewer that spoke; any other close (dropped, 4008 too slow) is resumed after the last seq seen
FINAL_CLOSES = frozenset({1000, 1008, 4400, 4403, 4404})
CLOSE_STATUS = {4400: 422, 4403: 403, 4404: 404}  # a websocket's close code as the HTTP status it means
RECONNECTS = 20  # in a row without an event in between; then the follow gives up
EVENT: TypeAdapter[Event] = TypeAdapter(Event)
ExportFormat = Literal["csv", "jsonl", "tensorboard"]


def given(**values: Any) -> dict[str, Any]:
    """The values that are set: a query leaves out what the caller did not give (None)."""
    return {key: value for key, value in values.items() if value is not None}


def jobs_query(
    status: str | None,
    lesson: bool | None,
    dataset: str | None,
    order: str | None,
    where: list[str],
    limit: int,
    offset: int,
) -> dict[str, Any]:
    """GET /api/jobs's query: every filter the server offers, the unset ones left out."""
    query: dict[str, Any] = {"limit": limit, "offset": offset, "where": where}
    optional = {"status": status, "lesson": None if lesson is None else str(lesson).lower(), "dataset": dataset}
    return query | given(**optional, order=order)


def group_body(
    name: str, base: JobSpec | dict[str, Any] | None, grid: dict[str, list[Any]] | None, variations: list[Any] | None
) -> dict[str, Any]:
    """POST /api/groups's body (the server checks it: a mistake comes back as Invalid, each field named)."""
    spec = base.model_dump(mode="json", exclude_defaults=True) if isinstance(base, JobSpec) else dict(base or {})
    body: dict[str, Any] = {"name": name, "base": spec}
    return body | ({"grid": grid} if grid else {}) | ({"variations": variations} if variations is not None else {})


def server(settings: ClientSettings, url: str | None, token: str | None) -> tuple[str, dict[str, str]]:
    """The server's base URL and the header carrying its token (arguments win over the environment)."""
    secret = token or (settings.token.get_secret_value() if settings.token else None)
    return (url or settings.url).rstrip("/"), {"Authorization": f"Bearer {secret}"} if secret else {}


def part(identifier: str) -> str:
    """An id as one path segment: `../jobs/X` must not become another route."""
    return quote(identifier, safe="")


def ended(event: dict[str, Any]) -> bool:
    return event["type"] == "status" and event["status"] in {status.value for status in TERMINAL}


class Follow:
    """What following a job remembers across reconnections: the last seq seen and the URL to resume."""

    def __init__(self, base: str, job_id: str, after: int) -> None:
        self.base, self.job_id, self.last_seq, self.done = base, job_id, after, False

    def url(self) -> str:
        return f"{self.base}/ws/jobs/{part(self.job_id)}?after={self.last_seq}&history=full"

    def fresh(self, message: str | bytes, raw: bool) -> list[Any]:
        """The events of one message not seen before, in order (a resumed replay may repeat none): typed
        models, or with `raw` the dicts as stored."""
        events = [event for event in json.loads(message) if event["seq"] > self.last_seq]
        if events:
            self.last_seq = events[-1]["seq"]
            self.done = self.done or any(ended(event) for event in events)
        return events if raw else [EVENT.validate_python(event) for event in events]

    def closed(self, closed: ConnectionClosed) -> bool:
        """Whether a close ends the follow: one a reconnection cannot mend, the job not yet seen to end."""
        return closed.rcvd is not None and self.finished(closed.rcvd.code)

    def finished(self, close_code: int | None) -> bool:
        return close_code in FINAL_CLOSES and not self.done

    def lost(self, misses: int) -> float:
        """How long to wait before the next try; Unreachable after RECONNECTS in a row."""
        if misses > RECONNECTS:
            raise Unreachable(f"lost job {self.job_id} after {RECONNECTS} reconnections")
        return min(0.25 * 2.0**misses, 5.0)

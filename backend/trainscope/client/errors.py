"""What a call to the server can fail with, from both clients alike: a TrainscopeError, Unreachable (no server
answered) or Refused (with its HTTP status; NotFound for 404, Invalid for 422 with each field named)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx


class TrainscopeError(Exception):
    """Anything a call to the server could not do."""


class Unreachable(TrainscopeError, ConnectionError):
    """No server answered (none at the URL, or it went away and did not come back)."""


@dataclass(frozen=True)
class FieldError:
    """One field a 422 named: where (`optim.lr`) and why."""

    field: str
    reason: str


class Refused(TrainscopeError):
    """The server answered and refused: its HTTP status and what it said."""

    def __init__(self, status: int, detail: Any) -> None:
        super().__init__(f"HTTP {status}: {detail}")
        self.status, self.detail = status, detail


class NotFound(Refused):
    """No such job, group, table or lesson (404)."""


class Invalid(Refused):
    """A 422: `fields` holds each field's location (without `body`) and reason."""

    def __init__(self, status: int, detail: Any) -> None:
        problems = detail if isinstance(detail, list) else [{"loc": [], "msg": str(detail)}]
        self.fields = [
            FieldError(".".join(str(p) for p in d.get("loc", []) if p != "body"), str(d.get("msg", "")))
            for d in problems
        ]
        super().__init__(status, detail)
        self.args = ("; ".join(f"{f.field or 'request'}: {f.reason}" for f in self.fields),)


def refusal(status: int, detail: Any) -> Refused:
    kind = {404: NotFound, 422: Invalid}.get(status, Refused)
    return kind(status, detail)


def answer(response: httpx.Response) -> Any:
    """A response's JSON, or the refusal it carries."""
    if response.status_code >= 400:
        try:
            detail = response.json().get("detail", response.text)
        except ValueError:
            detail = response.text
        raise refusal(response.status_code, detail)
    return response.json() if response.content else None

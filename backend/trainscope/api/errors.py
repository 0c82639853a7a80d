"""422 answers that can always be sent: FastAPI echoes each bad value back as `input`, and a value
that JSON cannot carry (NaN, infinity, a lone surrogate, a huge or deeply nested structure) made the
answer itself fail as a 500. Here each error keeps its type, location and reason, and its input only
when that is a plain JSON scalar."""

from __future__ import annotations

import math
from typing import Any

from fastapi import Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from trainscope.api.turns import RETRY_AFTER_S

MAX_ECHO_CHARS = 200  # a bad string is echoed back at most this long


def safe_text(text: str) -> str:
    """The text with anything UTF-8 cannot carry (lone surrogates) escaped, cut to MAX_ECHO_CHARS."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")[:MAX_ECHO_CHARS]


def echo(value: Any) -> Any:
    """The offending value when it is a JSON scalar that can be sent as it is; None otherwise."""
    if isinstance(value, str):
        return safe_text(value)
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int) and abs(value) < 2**53:
        return value
    if isinstance(value, float) and math.isfinite(value):
        return value
    return None


def plain(error: dict[str, Any]) -> dict[str, Any]:
    loc = [part if isinstance(part, int) else safe_text(str(part)) for part in error.get("loc", ())]
    return {
        "type": error.get("type", "value_error"),
        "loc": loc,
        "msg": safe_text(str(error.get("msg", ""))),
        "input": echo(error.get("input")),
        # the limits a message names (ge, le, max_length...), for a page to say them in its own words
        "ctx": {str(key): echo(value) for key, value in (error.get("ctx") or {}).items() if echo(value) is not None},
    }


async def validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return JSONResponse({"detail": [plain(error) for error in exc.errors()]}, status.HTTP_422_UNPROCESSABLE_CONTENT)


async def store_stalled(request: Request, exc: Exception) -> JSONResponse:
    """The store could not take the change in time (locked, disk full): nothing was done; try again."""
    return JSONResponse(
        {"detail": f"not done: {exc}; try again"}, status.HTTP_503_SERVICE_UNAVAILABLE, {"Retry-After": "5"}
    )


async def turns_busy(request: Request, exc: Exception) -> JSONResponse:
    """Every export turn is taken and the queue is full: nothing was started; try again."""
    return JSONResponse({"detail": str(exc)}, status.HTTP_503_SERVICE_UNAVAILABLE, {"Retry-After": str(RETRY_AFTER_S)})


async def storage_full(request: Request, exc: Exception) -> JSONResponse:
    """A budget of stored things is spent (events, tables, the disk's floor): delete to make room."""
    return JSONResponse({"detail": str(exc)}, status.HTTP_507_INSUFFICIENT_STORAGE)

"""Who may change things: the optional token for mutating requests, the websocket Origin check, and
the request-body cap. Viewing stays open to everyone who can reach the server."""

from __future__ import annotations

import ipaddress
import secrets
from typing import Any

from fastapi import HTTPException, Request, status
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from trainscope.config import Settings


def require_token(request: Request) -> None:
    """A dependency for every mutating route: 401 unless the configured token is presented."""
    settings: Settings = request.app.state.settings
    if settings.token is None:
        return
    scheme, _, presented = request.headers.get("authorization", "").partition(" ")
    expected = settings.token.get_secret_value()
    if scheme.lower() != "bearer" or not secrets.compare_digest(presented.encode(), expected.encode()):
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, "this server needs a token to change jobs", {"WWW-Authenticate": "Bearer"}
        )


def client_address(request: Request) -> str:
    """Who sent the request, for the per-client share of the queue. Behind a trusted reverse proxy that
    is the nearest address in X-Forwarded-For that is not itself a trusted proxy (addresses further
    left could be anything the client wrote); otherwise the connection's own address."""
    settings: Settings = request.app.state.settings
    peer = request.client.host if request.client else ""

    def trusted(address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in settings.trusted_proxies)

    if not trusted(peer):
        return peer
    forwarded = [part.strip() for part in request.headers.get("x-forwarded-for", "").split(",") if part.strip()]
    for address in reversed(forwarded):
        if not trusted(address):
            return address
    return peer


def origin_allowed(headers: Any, settings: Settings) -> bool:
    """A browser's websocket must come from a page of this server (or an allowed origin); clients
    that send no Origin (scripts, tests) are not browsers and are let through."""
    origin = headers.get("origin")
    if origin is None:
        return True
    host = headers.get("host", "")
    return origin in settings.allowed_origins or origin in (f"http://{host}", f"https://{host}")


class BodyLimit:
    """Pure ASGI middleware: a request body past `max_bytes` is answered 413 without reading the rest.

    A declared Content-Length is checked up front; a chunked body is counted as it arrives, cut off at
    the limit, and whatever the app answers to the cut body is replaced by the 413. `larger` gives a
    path its own limit (an upload's).
    """

    def __init__(self, app: ASGIApp, max_bytes: int, larger: dict[str, int] | None = None) -> None:
        self.app = app
        self.default_bytes = max_bytes
        self.larger = larger or {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        max_bytes = self.larger.get(scope["path"], self.default_bytes)
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > max_bytes:
            await self._refuse(send, max_bytes)
            return
        seen, cut = 0, False

        async def counting_receive() -> Message:
            nonlocal seen, cut
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > max_bytes:
                    cut = True
                    return {"type": "http.request", "body": b"", "more_body": False}
            return message

        async def guarded_send(message: Message) -> None:
            if not cut:
                await send(message)
            elif message["type"] == "http.response.start":
                await self._refuse(send, max_bytes)

        await self.app(scope, counting_receive, guarded_send)

    async def _refuse(self, send: Send, max_bytes: int) -> None:
        body = f'{{"detail":"request body larger than {max_bytes} bytes"}}'.encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": body})

"""Who a request comes from: the connection's address, or behind a trusted proxy the forwarded client."""

from __future__ import annotations

from types import SimpleNamespace

from starlette.requests import Request

from trainscope.api.security import client_address
from trainscope.config import Settings


def request(peer: str, forwarded: str | None, trusted: list[str]) -> Request:
    headers = [(b"x-forwarded-for", forwarded.encode())] if forwarded is not None else []
    app = SimpleNamespace(state=SimpleNamespace(settings=Settings(trusted_proxies=trusted)))
    return Request({"type": "http", "headers": headers, "client": (peer, 5000), "app": app})


def test_without_trusted_proxies_x_forwarded_for_is_ignored() -> None:
    assert client_address(request("192.0.2.7", "198.51.100.1", [])) == "192.0.2.7"


def test_a_trusted_proxy_names_the_nearest_untrusted_address() -> None:
    trusted = ["10.0.0.0/8", "192.0.2.1"]
    assert client_address(request("192.0.2.1", "203.0.113.5, 198.51.100.1", trusted)) == "198.51.100.1"
    # a chain of trusted proxies is walked from the right; what the client wrote further left is not used
    assert client_address(request("192.0.2.1", "203.0.113.5, 198.51.100.1, 10.1.2.3", trusted)) == "198.51.100.1"
    assert client_address(request("192.0.2.1", None, trusted)) == "192.0.2.1"  # no header: the proxy itself
    assert client_address(request("192.0.2.1", "not an address", trusted)) == "not an address"
    assert client_address(request("192.0.2.99", "198.51.100.1", trusted)) == "192.0.2.99"  # not a proxy of ours

"""Workshops run offline: every page, /docs included, loads from this server alone."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

import pytest
from playwright.sync_api import Browser, Route

from tests.live import LiveServer

pytestmark = pytest.mark.browser


def test_every_page_renders_with_the_network_blocked_beyond_loopback(
    server: LiveServer, browser: Browser, console_errors: list[str], artifacts_dir: Path
) -> None:
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    blocked: list[str] = []

    def only_loopback(route: Route) -> None:
        if urlparse(route.request.url).hostname == "127.0.0.1":
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    context.route("**/*", only_loopback)
    page = context.new_page()
    page.on("pageerror", lambda error: console_errors.append(str(error)))
    page.goto(server.url + "/")
    page.wait_for_function("() => !document.getElementById('start').disabled")
    page.goto(server.url + "/lessons.html")
    page.wait_for_selector("#lesson-list li", timeout=10_000)  # the catalogue, from the API
    page.goto(server.url + "/docs")
    page.wait_for_selector(".swagger-ui .info .title", timeout=15_000)
    assert "Trainscope" in (page.text_content(".swagger-ui .info .title") or "")
    assert page.locator(".opblock").count() > 10  # every route drawn, from our own openapi.json
    page.screenshot(path=str(artifacts_dir / "docs.png"), full_page=True)
    assert page.request.get(server.url + "/redoc").status != 200  # not offered: it would reach a CDN
    context.close()
    assert blocked == []

"""The wheel installed into a fresh virtualenv (no editable install, no checkout on the path), its own
`trainscope serve` started, and its page and lessons page loaded in Chromium as a person opens them."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from playwright.sync_api import Page

from tests.installed import fresh_venv, see_through
from tests.live import LiveServer
from trainscope.lessons.catalog import load_catalog

pytestmark = pytest.mark.browser


def test_an_installed_wheel_serves_a_page_that_works_in_a_browser(wheel: Path, tmp_path: Path, page: Page) -> None:
    python, site = fresh_venv(tmp_path / "venv", wheel)
    see_through(site)  # the server's dependencies (torch is ~1.5 GB): this environment's, read only
    found = subprocess.run(
        [python, "-c", "import trainscope; print(trainscope.__file__)"],
        cwd=tmp_path,
        text=True,
        capture_output=True,
        check=True,
    )
    assert found.stdout.startswith(str(site))  # the wheel's copy, not the checkout's
    server = LiveServer(tmp_path / "wheel.db", workers=1, program=[str(python.parent / "trainscope")]).start()
    try:
        page.goto(server.url + "/")
        page.wait_for_function("() => !document.getElementById('start').disabled")
        page.click("#start")  # a run, trained by the installed package's worker, drawn by its page
        page.wait_for_function("() => document.querySelector('#status').textContent.includes('done')", timeout=60_000)
        page.goto(server.url + "/lessons.html")
        page.wait_for_selector("#lesson-list a[data-lesson='activations']")
        assert page.locator("#lesson-list li").count() == len(load_catalog())
    finally:
        server.stop()

"""The page in Debian's Chromium, driven by Playwright: press Start and watch the loss chart grow."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.live import LiveServer

pytestmark = pytest.mark.browser

# As the machine notes advise: no sandbox as root, and no background traffic off this machine.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    chromium = shutil.which("chromium")
    assert chromium, "Debian's chromium is missing: scripts/test installs it"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    page = context.new_page()
    yield page
    context.close()


def test_start_a_run_and_watch_the_loss_chart_grow(server: LiveServer, page: Page, artifacts_dir: Path) -> None:
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))

    page.goto(server.url + "/")
    page.select_option("select[name='data.dataset']", "spiral")
    page.fill("input[name='optim.steps']", "3000")
    page.click("#start:not([disabled])")
    page.wait_for_function(
        "() => { const el = document.querySelector('[data-testid=loss-chart]');"
        " return el && el.data && el.data[0].x.length >= 10; }",
        timeout=30_000,
    )
    page.wait_for_function("() => document.querySelector('#status').textContent.startsWith('done')", timeout=60_000)
    train_points = page.evaluate("() => document.querySelector('[data-testid=loss-chart]').data[0].x.length")
    assert train_points == 3000
    page.screenshot(path=str(artifacts_dir / "spine-page.png"), full_page=True)
    assert problems == []


def test_a_rejected_spec_is_shown_not_thrown(server: LiveServer, page: Page) -> None:
    page.goto(server.url + "/")
    page.fill("input[name='optim.lr']", "100000")
    page.click("#start:not([disabled])")
    page.wait_for_function("() => document.querySelector('#status').className === 'error'", timeout=10_000)
    assert "optim.lr" in page.text_content("#status")  # type: ignore[operator]

"""The playground on a small screen (800 x 600) and in projector mode, in Chromium."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from tests.e2e.test_page import open_page, wait_js
from tests.live import LiveServer

pytestmark = pytest.mark.browser

# each select of the form whose chosen text does not fit its box (the text measured in the box's font)
CUT_CHOICES = """() => [...document.querySelectorAll("#spec-form select")]
  .filter((select) => select.offsetParent !== null && select.selectedOptions.length)
  .filter((select) => {
    const context = document.createElement("canvas").getContext("2d");
    context.font = getComputedStyle(select).font;
    const text = context.measureText(select.selectedOptions[0].textContent).width;
    return text > select.clientWidth - 24;  // what the arrow and the padding leave
  })
  .map((select) => select.name + ": " + select.selectedOptions[0].textContent)"""


# each control of the form that reaches past the form's right edge (a fieldset widened by one control
# pushed the model's fields out of their panel)
PAST_THE_FORM = """() => {
  const edge = document.getElementById("spec-form").getBoundingClientRect().right;
  return [...document.querySelectorAll("#spec-form input, #spec-form select, #spec-form button")]
    .filter((control) => control.offsetParent !== null && control.getBoundingClientRect().right > edge + 1)
    .map((control) => control.name || control.textContent);
}"""
ENLARGED = [".panel h2", "#loss .chart-bar", "#spec-form label"]  # a panel's title, a chart's controls, the form


def top_of(page: Page, selector: str) -> float:
    top: float = page.locator(selector).evaluate("(el) => el.getBoundingClientRect().top")
    return top


def test_on_800_by_600_the_charts_start_on_the_first_screen_and_the_run_controls_stay_in_reach(
    server: LiveServer, browser: Browser, artifacts_dir: Path
) -> None:
    page = browser.new_context(viewport={"width": 800, "height": 600}).new_page()
    open_page(page, server.url + "/")
    assert top_of(page, ".charts") < 600  # it was 1,127 px down, under the whole form
    page.screenshot(path=str(artifacts_dir / "small-screen-800x600.png"))
    page.click("#start")
    wait_js(page, "document.body.dataset.run === 'running'")
    page.mouse.wheel(0, 2500)
    wait_js(page, "scrollY > 2000")
    # scrolled far down, Stop is on screen and below the header, and it stops the run
    header = page.locator("header").evaluate("(el) => el.getBoundingClientRect().bottom")
    assert header - 1 <= top_of(page, "#stop") < 600
    page.screenshot(path=str(artifacts_dir / "small-screen-800x600-scrolled.png"))
    page.click("#stop")
    wait_js(page, "document.body.dataset.run === 'cancelled'")
    page.context.close()


def test_projector_mode_enlarges_titles_and_chart_controls_and_cuts_no_choice(
    server: LiveServer, browser: Browser, artifacts_dir: Path
) -> None:
    page = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
    open_page(page, server.url + "/")
    page.select_option("select[name='model.kind']", "cnn2d")  # the pooling choice shows
    sizes = f"() => {json.dumps(ENLARGED)}.map((s) => parseFloat(getComputedStyle(document.querySelector(s)).fontSize))"
    before = page.evaluate(sizes)
    assert page.evaluate(PAST_THE_FORM) == []
    page.click("#projector")
    after = page.evaluate(sizes)
    assert all(large >= 1.2 * small for small, large in zip(before, after, strict=True)), (before, after)
    assert page.evaluate(CUT_CHOICES) == []  # "— pick a pres", "max poolin", "au" before
    assert page.evaluate(PAST_THE_FORM) == []
    # the charts fit the narrower column: no plot reaches past the window (1,424 px wide before)
    wait_js(page, "document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    page.screenshot(path=str(artifacts_dir / "projector-1280x800.png"))
    page.context.close()

"""The page offers, sets up and draws a model kind it has never heard of (examples/trainscope-polynomial,
installed beside the server): its name in both languages, its data chosen with it, its own settings as
fields, its figures drawn by their tags."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page

from tests.e2e.test_page import chart, open_page, wait_js
from tests.live import LiveServer


def test_a_kind_from_another_package_is_offered_set_up_and_drawn(
    page: Page, polynomial_server: LiveServer, artifacts_dir: Path
) -> None:
    open_page(page, polynomial_server.url)
    form = page.locator("#spec-form")
    assert form.locator("select[name='model.kind'] option[value='polynomial']").inner_text() == "Polynomial"
    assert not form.locator("[data-path='model.degree']").is_visible()  # an MLP has no degree

    panels = "[...document.querySelectorAll('[data-probe], [data-view]')]"
    shown = f"() => {panels}.filter((p) => !p.hidden).map((p) => p.dataset.probe || p.dataset.view).sort()"
    assert len(page.evaluate(shown)) == 9  # an MLP offers every panel

    form.locator("select[name='model.kind']").select_option("polynomial")
    assert page.evaluate(shown) == ["system_every"]  # no layers, taps or classes: only what every run has
    assert form.locator("select[name='data.dataset']").input_value() == "curve"  # the data it trains on
    degree = form.locator("[data-path='model.degree']")
    assert degree.is_visible() and "Degree" in degree.inner_text()
    assert not form.locator("[data-path='model.hidden']").is_visible()
    assert form.locator("[data-path='data.curve'] select").evaluate("(s) => [...s.options].map((o) => o.value)") == [
        "sine",
        "cubic",
    ]
    form.locator("[data-path='data.curve'] select").select_option("cubic")
    degree.locator("input").fill("3")
    degree.locator("input").dispatch_event("change")

    page.click("#start")
    wait_js(page, "window.trainscope.charts.figures.tags().includes('weights/norm')", 120)
    wait_js(page, "window.trainscope.charts.loss.pointCount() > 10", 120)
    wait_js(page, "document.getElementById('system').textContent.includes('samples/s')", 60)
    assert page.evaluate(shown) == ["system_every"]
    page.screenshot(path=str(artifacts_dir / "example-kind.png"), full_page=True)

    page.click("#language")
    assert form.locator("select[name='model.kind'] option[value='polynomial']").inner_text() == "다항식"
    page.screenshot(path=str(artifacts_dir / "example-kind-ko.png"), full_page=True)
    assert chart(page, "figures.tags()")[-1] == "weights/norm"

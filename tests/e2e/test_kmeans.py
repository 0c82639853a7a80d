"""k-means in the page: a kind's own view, loaded by its name, draws each centre's path over the blobs;
the figures it claims stay out of the panel of other figures."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page

from tests.e2e.test_page import chart, open_page, wait_js
from tests.live import LiveServer

PANELS = "[...document.querySelectorAll('[data-probe], [data-view]')]"
SHOWN = f"() => {PANELS}.filter((p) => !p.hidden).map((p) => p.dataset.probe || p.dataset.view).sort()"


def test_k_means_draws_each_centres_path_over_the_blobs(page: Page, server: LiveServer, artifacts_dir: Path) -> None:
    open_page(page, server.url)
    assert page.evaluate(SHOWN).count("clusters") == 0  # an MLP's page: no k-means view
    form = page.locator("#spec-form")
    form.locator("select[name='model.kind']").select_option("kmeans")
    assert form.locator("select[name='data.dataset']").input_value() == "blobs"
    for path in ("model.k", "model.seeding", "data.centers", "data.spread"):
        assert form.locator(f"[data-path='{path}']").is_visible(), path
    assert not form.locator("[data-path='model.hidden']").is_visible()
    for path in ("optim.optimizer", "optim.lr", "optim.weight_decay", "optim.batch_size", "distributed.world_size"):
        assert not form.locator(f"[data-path='{path}']").is_visible(), path  # no optimizer, no batch to share
    assert page.evaluate(SHOWN) == ["clusters", "images_every", "system_every"]  # images: on digits, the centres
    assert form.locator("input[name='optim.steps']").input_value() == "30"
    estimate = "document.querySelector('#memory-estimate').textContent"
    wait_js(page, f"{estimate}.includes('parameters') && !{estimate}.includes('optimizer')")  # none to hold
    form.locator("select[name='model.seeding']").select_option("random")  # starts far off: paths to see

    page.click("#start")
    wait_js(page, "document.querySelector('#status').textContent.includes('done')", 120)
    wait_js(page, "window.trainscope.charts.clusters.steps() === 30", 30)
    assert chart(page, "clusters.centres()") == 4
    wait_js(page, "window.trainscope.charts.figures.tags().length > 0", 30)
    assert chart(page, "figures.tags()") == ["inertia"]  # the centres' coordinates are the view's, no rate
    assert not page.is_visible("#lr")  # no rate to set
    wait_js(page, "document.querySelector('#runs tbody tr') !== null")
    assert " lr " not in page.text_content("#runs tbody tr")  # the list names no optimizer either
    page.locator("[data-view='clusters']").scroll_into_view_if_needed()
    wait_js(page, "document.querySelector('[data-testid=clusters-chart] .plot').data?.length === 9")
    page.locator("[data-view='clusters']").screenshot(path=str(artifacts_dir / "kmeans-paths.png"))
    page.click("#language")
    assert page.locator("[data-view='clusters'] h2").inner_text().startswith("k-평균")

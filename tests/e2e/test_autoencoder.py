"""The autoencoder in the page: chosen in the form it brings its data and its settings, offers only the
panels its taps feed, and draws each example beside its reconstruction and the code it learned."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page

from tests.e2e.test_page import open_page, wait_js
from tests.live import LiveServer

PANELS = "[...document.querySelectorAll('[data-probe], [data-view]')]"
SHOWN = f"() => {PANELS}.filter((p) => !p.hidden).map((p) => p.dataset.probe || p.dataset.view).sort()"


def test_an_autoencoder_shows_its_reconstructions_and_its_code(
    page: Page, server: LiveServer, artifacts_dir: Path
) -> None:
    open_page(page, server.url)
    form = page.locator("#spec-form")
    form.locator("select[name='model.kind']").select_option("autoencoder")
    assert form.locator("select[name='data.dataset']").input_value() == "digits"  # what it trains on
    assert form.locator("[data-path='model.latent']").is_visible()
    assert form.locator("[data-path='model.loss']").is_visible()
    # convolutions may come first (a convolutional autoencoder); the kind starts with none, not a CNN's
    assert form.locator("[data-path='model.conv']").is_visible()
    assert form.locator("input[name='model.conv']").input_value().split(";")[0] == ""
    offered = page.evaluate(SHOWN)
    assert "boundary_every" not in offered and "confusion_every" not in offered  # no class to predict
    assert {"images_every", "embedding_every", "layers_every", "parameters"} <= set(offered)

    page.fill("input[name='model.latent']", "2")
    page.fill("input[name='optim.steps']", "600")
    page.select_option("select[name='pace']", "0")
    page.click("#start")
    wait_js(page, "document.querySelector('#status').textContent.includes('done')", 120)
    pictures = page.locator("#pictures")
    wait_js(page, "document.querySelector('#pictures').textContent.includes('reconstructions at step 600')", 30)
    # the examples, under them their reconstructions, then what it decodes from codes drawn from N(0, I)
    assert pictures.locator(".pictures").count() == 3
    assert pictures.locator("canvas").count() == 48
    wait_js(page, "document.querySelector('#embedding output').textContent.startsWith('the code at step 600')", 30)
    page.screenshot(path=str(artifacts_dir / "autoencoder.png"), full_page=True)
    page.click("#language")
    wait_js(page, "document.querySelector('#pictures').textContent.includes('복원')", 10)
    page.locator("#pictures").screenshot(path=str(artifacts_dir / "autoencoder-pictures-ko.png"))


def test_a_vae_shows_samples_from_its_prior_and_its_loss_in_two_terms(
    page: Page, server: LiveServer, artifacts_dir: Path
) -> None:
    open_page(page, server.url)
    form = page.locator("#spec-form")
    form.locator("select[name='model.kind']").select_option("vae")
    assert form.locator("[data-path='model.beta']").is_visible()
    assert form.locator("input[name='model.latent']").input_value() == "16"  # the kind's start
    page.fill("input[name='optim.steps']", "400")
    page.select_option("select[name='pace']", "0")
    page.click("#start")
    wait_js(page, "document.querySelector('#status').textContent.includes('done')", 120)
    wait_js(
        page, "['loss/kl', 'loss/reconstruction'].every((tag) => window.trainscope.charts.figures.tags().includes(tag))"
    )
    pictures = page.locator("#pictures")
    wait_js(page, "document.querySelector('#pictures').textContent.includes('N(0, I) at step 400')", 30)
    assert pictures.locator(".pictures").count() == 4  # examples, reconstructions, samples, interpolation
    page.locator("#pictures").screenshot(path=str(artifacts_dir / "vae-pictures.png"))
    page.locator("#figures").scroll_into_view_if_needed()
    wait_js(page, "document.getElementById('figures').data?.length >= 3")
    page.locator("#figures").screenshot(path=str(artifacts_dir / "vae-figures.png"))

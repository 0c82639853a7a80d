"""Korean throughout: with 한국어 chosen, no English words are visible on either page (units,
model and dataset names and the product's name excepted)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page

from tests.e2e.test_page import wait_js
from tests.live import LiveServer

pytestmark = pytest.mark.browser

# what stays as it is in Korean text too: names of things, units, symbols
ALLOWED = {
    "Trainscope",
    "PyTorch",
    "NVML",
    "NumPy",
    "Plotly",
    "English",
    "API",
    "ReLU",
    "relu",
    "tanh",
    "sigmoid",
    "leaky_relu",
    "identity",
    "gelu",
    "adam",
    "sgd",
    "rmsprop",
    "momentum",
    "adamw",
    "Adam",
    "SGD",
    "RMSprop",
    "Rosenbrock",
    "Beale",
    "circle",
    "spiral",
    "moons",
    "xor",
    "gaussian",
    "gauss",
    "multi_gauss",
    "digits",
    "plane",
    "blobs",
    "corpus",
    "kmeans",
    "cpu",
    "cuda",
    "CPU",
    "GPU",
    "PCA",
    "VAE",  # names Korean texts use as they are, as PCA
    "word2vec",
    "MB",
    "kB",
    "lr",
    "auto",
    "sin",
    "max",
    "CNN",
    "MLP",
    "MNIST",
    "mlp",
    "cnn",
    "mnist1d",
    "CSV",
    "PNG",
    "JSON",
    "JSONL",
    "TensorBoard",
    "torch",
    "vmap",  # PyTorch's, named as it is (a lockstep group's step path)
}
# the model's own names for its layers, and a run's id (its name until it is given one)
NAMES = re.compile(r"((act|weight|grad)/)?(layer\d+|conv\d+|fc\d+|enc\d+|dec\d+|latent|output)|[0-9a-f]{12}")

VISIBLE_TEXT = """() => {
  const texts = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    const el = node.parentElement;
    if (!el || !node.textContent.trim()) continue;
    // user text (run and group names) is shown as it was written, in whatever language
    // and setting paths (code) are identifiers, translated where the form names them
    if (el.closest("script, style, code, [hidden], option:not(:checked), .modebar, [data-user-text]")) continue;
    const box = el.getBoundingClientRect();
    if (!box.width || !box.height || getComputedStyle(el).visibility === "hidden") continue;
    texts.push(node.textContent.trim());
  }
  return texts;
}"""


def english(page: Page) -> list[str]:
    """Visible texts holding an English word (3+ Latin letters) that is not on the allow-list."""
    found = []
    for text in page.evaluate(VISIBLE_TEXT):
        tokens = re.findall(r"[A-Za-z0-9][A-Za-z0-9_/]*", text)
        words = [w for w in tokens if len(re.sub(r"[^A-Za-z]", "", w)) >= 3 and w not in ALLOWED]
        words = [w for w in words if not NAMES.fullmatch(w)]
        if words:
            found.append(text)
    return found


BOUNDARIES = "document.querySelector('[data-testid=compare-boundaries]').textContent"  # legends, colour bars


def test_no_english_is_visible_in_korean_mode(server: LiveServer, page: Page, artifacts_dir: Path) -> None:
    page.goto(server.url + "/")
    page.wait_for_function("() => !document.getElementById('start').disabled")
    page.click("#language")
    page.wait_for_function("() => document.documentElement.lang === 'ko'")
    page.evaluate("() => window.trainscope.drawAll()")
    idle = english(page)
    page.select_option("select[name=pace]", "0")
    page.fill("input[name='optim.steps']", "300")
    page.click("#start")
    page.wait_for_function("() => document.body.dataset.run === 'done'", timeout=60_000)
    page.evaluate("() => window.trainscope.drawAll()")
    after_run = english(page)
    page.screenshot(path=str(artifacts_dir / "playground-ko.png"), full_page=True)
    page.goto(server.url + "/lessons.html")
    page.wait_for_selector("#lesson-list li")
    index = english(page)
    page.goto(server.url + "/lessons.html#bias")
    lesson = run_lesson_and_read(page, artifacts_dir / "lesson-bias-ko.png")
    assert "P(클래스 1)" in page.evaluate(f"() => {BOUNDARIES}")
    page.click("#language")  # back to English for the tests after this one; drawn charts follow
    wait_js(page, f"{BOUNDARIES}.includes('P(class 1)') && !{BOUNDARIES}.includes('P(클래스 1)')", 10)
    assert (idle, after_run, index, lesson) == ([], [], [], [])


def run_lesson_and_read(page: Page, screenshot: Path) -> list[str]:
    """Run the open lesson from its page, draw every panel as a person scrolling would, and return the
    visible English."""
    page.wait_for_selector("#lesson-title")
    page.click("#run-lesson")
    page.wait_for_selector("#verdict[data-held='true']", timeout=120_000)
    for panel in page.locator("[data-panel]").all():  # charts draw once on screen
        panel.scroll_into_view_if_needed()
    page.wait_for_timeout(500)  # the last panel's frame (a person's glance, not a condition)
    page.screenshot(path=str(screenshot), full_page=True)
    return english(page)


@pytest.mark.parametrize("lesson_id", ["cnn-vs-mlp", "cnn-sequences"])
def test_the_cnn_lessons_run_to_their_verdict_in_korean(
    server: LiveServer, page: Page, artifacts_dir: Path, lesson_id: str
) -> None:
    page.goto(f"{server.url}/lessons.html#{lesson_id}")
    page.wait_for_selector("#lesson-title")
    page.click("#language")
    page.wait_for_function("() => document.documentElement.lang === 'ko'")
    try:
        assert run_lesson_and_read(page, artifacts_dir / f"lesson-{lesson_id}-ko.png") == []
        assert page.text_content("#verdict") and "성립" in page.text_content("#verdict")
    finally:
        page.click("#language")  # back to English for the tests after this one


# what a screen reader reads without it being text: labels, and each chart toolbar's button titles
READ_ALOUD = """() => [...document.querySelectorAll('[aria-label], .modebar-btn[data-title]')]
  .filter(el => !el.closest('[hidden]'))
  .map(el => el.getAttribute('aria-label') || el.dataset.title)"""


def test_after_a_reload_in_korean_no_english_is_shown_or_read_aloud(
    server: LiveServer, page: Page, artifacts_dir: Path
) -> None:
    page.goto(server.url + "/")
    page.evaluate("() => localStorage.setItem('trainscope-language', 'ko')")
    try:
        page.reload()  # the page starts in Korean: every chart's own controls are made after that
        page.wait_for_function("() => !document.getElementById('start').disabled")
        page.select_option("select[name=pace]", "0")
        page.fill("input[name='optim.steps']", "200")
        page.click("#start")
        page.wait_for_function("() => document.body.dataset.run === 'done'", timeout=60_000)
        page.evaluate("() => window.trainscope.drawAll()")
        page.hover("#loss .main-svg")  # a chart's toolbar
        shown = english(page)
        read_aloud = [
            label
            for label in page.evaluate(READ_ALOUD)
            if [w for w in re.findall(r"[A-Za-z]{3,}", label) if w not in ALLOWED and not NAMES.fullmatch(w)]
        ]
        page.screenshot(path=str(artifacts_dir / "playground-ko-reloaded.png"), full_page=True)
        assert (shown, read_aloud) == ([], [])
    finally:
        page.evaluate("() => localStorage.setItem('trainscope-language', 'en')")


def test_a_status_said_before_the_switch_is_said_again_in_korean(server: LiveServer, page: Page) -> None:
    page.goto(server.url + "/")
    page.wait_for_function("() => !document.getElementById('start').disabled")
    page.select_option("select[name=pace]", "0")
    page.fill("input[name='optim.steps']", "100")
    page.click("#start")
    page.wait_for_function("() => document.body.dataset.run === 'done'", timeout=60_000)
    assert "finished" in page.text_content("#status")  # the server's own words, in English
    page.click("#language")
    try:
        page.wait_for_function("() => document.documentElement.lang === 'ko'")
        status = page.text_content("#status") or ""
        assert not re.findall(r"[A-Za-z]{3,}", status), status
    finally:
        page.click("#language")


@pytest.mark.parametrize("kind", ["autoencoder", "vae", "kmeans"])
def test_the_kinds_that_learn_without_labels_speak_korean(
    server: LiveServer, page: Page, artifacts_dir: Path, kind: str
) -> None:
    """Each kind's own fields, panels and views, after a run, with every panel drawn."""
    page.goto(server.url + "/")
    page.wait_for_function("() => !document.getElementById('start').disabled")
    page.click("#language")
    page.wait_for_function("() => document.documentElement.lang === 'ko'")
    try:
        page.select_option("select[name='model.kind']", kind)
        page.select_option("select[name=pace]", "0")
        page.fill("input[name='optim.steps']", "60")
        page.click("#start")
        page.wait_for_function("() => document.body.dataset.run === 'done'", timeout=60_000)
        page.evaluate("() => window.trainscope.drawAll()")
        page.screenshot(path=str(artifacts_dir / f"playground-{kind}-ko.png"), full_page=True)
        assert english(page) == []
    finally:
        page.click("#language")  # back to English for the tests after this one

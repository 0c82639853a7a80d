"""word2vec in the page: the corpus shown as text and editable, a run whose word vectors the projector
names and searches (with a word's nearest neighbours listed, and a t-SNE on demand), and the analogy
view answering from the stored vectors; a corpus of the user's own reaches the page as text only."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page

from tests.e2e.test_page import chart, open_page, wait_js
from tests.live import LiveServer

PANELS = "[...document.querySelectorAll('[data-probe], [data-view]')]"
SHOWN = f"() => {PANELS}.filter((p) => !p.hidden).map((p) => p.dataset.probe || p.dataset.view).sort()"
DONE = "document.querySelector('#status').textContent.includes('done')"


def choose_word2vec(page: Page, steps: int) -> None:
    form = page.locator("#spec-form")
    form.locator("select[name='model.kind']").select_option("skipgram")
    assert form.locator("select[name='data.dataset']").input_value() == "corpus"
    page.fill("input[name='optim.steps']", str(steps))
    page.select_option("select[name='pace']", "0")


def test_word2vec_learns_from_a_corpus_shown_as_text_and_answers_analogies(
    page: Page, server: LiveServer, artifacts_dir: Path
) -> None:
    open_page(page, server.url)
    choose_word2vec(page, 500)
    form = page.locator("#spec-form")
    for path in ("model.dimension", "model.window", "model.negatives", "model.min_count", "data.language", "data.text"):
        assert form.locator(f"[data-path='{path}']").is_visible(), path
    assert not form.locator("[data-path='model.hidden']").is_visible()
    assert page.evaluate(SHOWN) == ["embedding_every", "system_every", "words"]

    corpus = form.locator("textarea[name='data.text']")
    assert corpus.input_value() == ""  # empty: the generated corpus
    form.locator("button[name='show-text']").click()
    wait_js(page, "document.querySelector('textarea[name=\"data.text\"]').value.length > 10000", 30)
    lines = corpus.input_value().splitlines()
    assert len(lines) == 1500 and all(line.split() for line in lines)
    assert "KB of at most 64 KB" in form.locator(".text-size").inner_text()
    corpus.fill("")  # back to the generated corpus: the spec carries no text

    page.click("#start")
    wait_js(page, DONE, 180)
    words = page.locator("[data-view='words']")
    words.scroll_into_view_if_needed()
    wait_js(page, "window.trainscope.charts.words.answer()?.step === 500", 30)
    assert words.locator("input[name='query']").input_value() == "king - man + woman"
    answer = chart(page, "words.answer()")
    assert len(answer["neighbours"]) == 8 and answer["neighbours"][0]["label"] == "people"
    assert not {"king", "man", "woman"} & {n["name"] for n in answer["neighbours"]}
    assert words.locator("tbody tr").count() == 8 and words.locator("thead tr").count() == 1

    words.locator("input[name='query']").fill("car")
    words.locator("button[type=submit]").click()
    wait_js(page, "window.trainscope.charts.words.answer()?.query === 'car'", 30)
    assert chart(page, "words.answer()")["neighbours"][0]["label"] == "vehicles"  # a vehicle's nearest: a vehicle
    words.locator("select[name='step']").select_option(index=1)  # the first snapshot, at step 1
    wait_js(page, "window.trainscope.charts.words.answer()?.step === 1", 30)
    assert chart(page, "words.answer()")["query"] == "car"
    words.screenshot(path=str(artifacts_dir / "word2vec-analogy.png"))

    projector = page.locator("#embedding")
    projector.scroll_into_view_if_needed()
    wait_js(page, "document.querySelector('#embedding output').textContent.startsWith('the word vectors at step 500')")
    projector.locator("input[name='search']").fill("queen")
    projector.locator("input[name='search']").press("Enter")
    wait_js(page, "document.querySelectorAll('[data-testid=embedding-neighbours] li').length === 8", 30)
    assert "nearest to queen" in projector.locator("[data-testid=embedding-neighbours]").inner_text()
    traces = page.evaluate("document.querySelector('[data-testid=embedding-chart]').data.map((t) => t.name)")
    assert traces[:2] == ["people", "animals"] and traces[-1] == "found"  # coloured by group, the word ringed
    projector.screenshot(path=str(artifacts_dir / "word2vec-projector.png"))
    projector.locator("select[name='method']").select_option("tsne")
    tsne_drawn = "document.querySelector('#embedding output').textContent.startsWith('t-SNE of the word vectors')"
    wait_js(page, tsne_drawn, 120)
    projector.screenshot(path=str(artifacts_dir / "word2vec-tsne.png"))
    projector.locator("select[name='method']").select_option("umap")
    wait_js(page, "document.querySelector('#embedding output').textContent.startsWith('UMAP of the word vectors')", 240)
    axis = page.evaluate("document.querySelector('[data-testid=embedding-chart]').layout.xaxis.title.text")
    assert axis == "UMAP 1"

    page.click("#language")
    wait_js(page, "document.querySelector('[data-view=words] h2').textContent.startsWith('word2vec: 가까운')", 10)
    assert words.locator("thead th").first.inner_text() == "단어"
    assert words.locator("select[name='step'] option").nth(1).inner_text() == "스텝 1"  # the snapshots' names too
    words.screenshot(path=str(artifacts_dir / "word2vec-analogy-ko.png"))


def test_a_corpus_of_ones_own_is_only_ever_text(page: Page, server: LiveServer) -> None:
    open_page(page, server.url)
    choose_word2vec(page, 30)
    page.fill("input[name='optim.batch_size']", "8")
    page.fill("input[name='model.min_count']", "1")
    page.fill("textarea[name='data.text']", "<img src=x onerror=window.pwned=1> the cat <b>sat</b>\n" * 5)
    page.click("#start")
    wait_js(page, DONE, 120)
    page.locator("#embedding").scroll_into_view_if_needed()
    wait_js(page, "document.querySelector('[data-testid=embedding-chart]').data?.length > 0", 30)
    names = page.evaluate("document.querySelector('[data-testid=embedding-chart]').data.flatMap((t) => t.text)")
    assert sorted(names) == sorted(["img", "src", "x", "onerror", "window", "pwned", "the", "cat", "b", "sat"])
    assert page.evaluate("window.pwned") is None and page.locator("#embedding img, #embedding b").count() == 0

"""The lessons page in Chromium against a live server: the index, one lesson run to its verdict with the
group's runs overlaid, and the language toggle."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page

from tests.conftest import Preset
from tests.live import LiveServer

pytestmark = pytest.mark.browser


def test_run_a_lesson_see_overlaid_runs_and_the_verdict_then_korean(
    server: LiveServer, page: Page, artifacts_dir: Path
) -> None:
    page.goto(f"{server.url}/lessons.html")
    page.wait_for_selector("#lesson-list a[data-lesson='activations']")
    assert page.locator("#lesson-list li").count() >= 11
    page.click("#lesson-list a[data-lesson='nonlinearity']")
    page.wait_for_function("() => document.getElementById('lesson-title').textContent.includes('non-linearity')")

    page.click("#run-lesson")
    # both runs arrive on the loss panel, one trace each, in their own colours, named by their label
    page.wait_for_function(
        """() => {
          const el = document.querySelector("[data-testid='compare-loss-step']");
          return el && el.data && el.data.filter((t) => t.y && t.y.length > 100).length === 2;
        }""",
        timeout=60_000,
    )
    names = page.evaluate("() => document.querySelector(\"[data-testid='compare-loss-step']\").data.map((t) => t.name)")
    assert names == ["identity", "tanh"]
    colors = page.evaluate(
        "() => document.querySelector(\"[data-testid='compare-loss-step']\").data.map((t) => t.line.color)"
    )
    assert len(set(colors)) == 2
    assert "Activation" in page.text_content("#differs")  # the setting as the form names it

    page.wait_for_selector("#verdict[data-held='true']", timeout=60_000)
    assert "Held" in page.text_content("#verdict-state")
    figures = page.text_content("#verdict-figures")
    assert "collapsed single layer vs the network" in figures and "tanh: validation accuracy" in figures
    # the lesson's own panels: one boundary per run and the collapsed matrix
    page.wait_for_function("() => document.querySelectorAll(\"[data-testid='compare-boundaries'] .plot\").length === 2")
    assert "max |network" in page.text_content("[data-testid='compare-collapse']")
    page.screenshot(path=str(artifacts_dir / "lesson-nonlinearity.png"), full_page=True)

    page.click("#language")
    page.wait_for_function("() => document.documentElement.lang === 'ko'")
    assert "비선형" in page.text_content("#lesson-title")
    assert page.text_content("#run-lesson") == "이 레슨 실행"
    assert "성립함" in page.text_content("#verdict-state")
    assert "tanh: 검증 정확도" in page.text_content("#verdict-figures")  # the figures' names too
    legend = page.evaluate(
        "() => document.querySelector(\"[data-testid='compare-loss-step']\").data.map((t) => t.name)"
    )
    assert legend == ["항등 함수", "tanh"]  # run labels the lesson gives in Korean
    page.wait_for_function(
        "() => document.querySelector(\"[data-testid='compare-boundaries'] h4\").textContent === '항등 함수'"
    )
    assert page.text_content("[data-panel='loss'] h2") == "학습 손실"
    page.reload()  # the choice is remembered
    page.wait_for_function("() => document.getElementById('lesson-title').textContent.includes('비선형')")
    page.screenshot(path=str(artifacts_dir / "lesson-nonlinearity-ko.png"), full_page=True)


WRAPPED_SWATCHES = """() => [...document.querySelectorAll("#differs .swatched")]
  .filter((swatch) => swatch.getClientRects().length > 1)
  .map((swatch) => swatch.textContent)"""
TEXT_ON_CURVES = """() => [...document.querySelectorAll("#compare .js-plotly-plot")]
  .filter((plot) => !plot.closest("[data-testid=compare-embeddings]")) // a projector names its points
  .flatMap((plot) => (plot.data || []).filter((trace) => (trace.mode || "").includes("text")))
  .map((trace) => trace.name)"""
NARROW_RACES = """() => [...document.querySelectorAll("[data-panel=race] .js-plotly-plot")]
  .filter((plot, _, all) => {
    const share = plot.closest("article").clientWidth / all.length;
    return plot.getBoundingClientRect().width < 0.9 * share - 20;
  })
  .map((plot) => plot.getBoundingClientRect().width)"""


def open_judged_run(server: LiveServer, page: Page, preset_group: Preset, lesson_id: str) -> str:
    """Open a lesson's judged preset run on its page; the group's id."""
    group_id: str = preset_group(lesson_id)["id"]
    page.goto(f"{server.url}/lessons.html#{lesson_id}")
    page.wait_for_function(f"() => document.querySelector('#previous option[value=\"{group_id}\"]')")
    page.select_option("#previous", group_id)
    page.wait_for_selector("#verdict[data-held='true']", timeout=30_000)
    return group_id


def test_every_lesson_page_draws_each_of_its_panels(
    server: LiveServer, page: Page, artifacts_dir: Path, preset_group: Preset
) -> None:
    lessons = server.get("/api/lessons").json()["lessons"]
    for lesson in lessons:  # one at a time: all of them together pass this client's share of the queue
        lesson_id = lesson["id"]
        group_id = open_judged_run(server, page, preset_group, lesson_id)
        charts = server.get(f"/api/lessons/{lesson_id}").json()["charts"]
        for name in charts:
            # charts draw once on screen, as a person scrolls to them
            page.locator(f"[data-panel='{name}']").scroll_into_view_if_needed()
            # a Plotly panel has traces with points; a table panel has rows; per-run panels have charts
            page.wait_for_function(
                f"""() => {{
                  const panel = document.querySelector("[data-panel='{name}']");
                  if (!panel) return false;
                  const plots = [...panel.querySelectorAll('.js-plotly-plot')];
                  if (plots.some((p) => p.data && p.data.some((t) => (t.y && t.y.length) || (t.z && t.z.length))))
                    return true;
                  return panel.querySelectorAll('table tr, svg line, canvas').length > 0;
                }}""",
                timeout=30_000,
            )
        swatches = page.evaluate(
            "() => [...document.querySelectorAll('#differs .swatch')].map((s) => s.style.background)"
        )
        assert len(set(swatches)) == len(swatches), swatches  # no colour used twice in a view
        # a swatch's label never wraps mid-label; no text sits on the curves (four runs' "early stop"
        # labels collided); two races fill their panel, not two of three columns
        assert page.evaluate(WRAPPED_SWATCHES) == []
        assert page.evaluate(TEXT_ON_CURVES) == []
        narrow = page.evaluate(NARROW_RACES)
        assert narrow == [], narrow
        verdict = server.group(group_id)["verdict"]
        for key, figure in verdict["figures"].items():  # each figure's row, a threshold never reached in words
            row = page.text_content(f"#verdict-figures tr[data-figure='{key}']")
            assert row is not None and figure["en"] in row
            assert ("never reached" in row) == (figure["value"] is None), row
        page.screenshot(path=str(artifacts_dir / f"lesson-{lesson_id}.png"), full_page=True)


def test_a_group_from_the_api_is_compared_on_the_page(server: LiveServer, page: Page, artifacts_dir: Path) -> None:
    body = {
        "name": "rates from a script",
        "base": {"data": {"dataset": "moons", "n_points": 200}, "optim": {"steps": 80, "eval_every": 20}},
        "grid": {"optim.lr": [0.003, 0.03, 0.3]},
    }
    group = server.post("/api/groups", body).json()
    page.goto(f"{server.url}/lessons.html")
    page.click(f"#group-list a[data-group='{group['id']}']")
    page.wait_for_function(
        """() => {
          const el = document.querySelector("[data-testid='compare-loss-step']");
          return el && el.data && el.data.filter((t) => t.y && t.y.length === 80).length === 3;
        }""",
        timeout=60_000,
    )
    assert page.text_content("#lesson-title") == "rates from a script"
    assert page.is_hidden("#lesson-top")
    assert "Learning rate" in page.text_content("#differs")
    with page.expect_download() as download:  # the group's every point in one file, a run column each
        page.click("#group-export a[data-format=csv]")
    assert download.value.suggested_filename == f"trainscope-{group['id']}.csv"
    runs = {line.split(",")[0] for line in Path(download.value.path()).read_text().splitlines()[1:]}
    assert runs == {"lr=0.003", "lr=0.03", "lr=0.3"}
    assert page.locator("[data-testid='compare-boundaries'] .plot").count() == 3  # 2-D data: one map per run
    page.wait_for_function(
        "() => document.querySelectorAll(\"[data-testid='compare-embeddings'] .js-plotly-plot\").length === 3"
    )
    page.wait_for_function(
        "() => (document.querySelector(\"[data-testid='compare-throughput']\").data || []).length === 1"
    )
    page.screenshot(path=str(artifacts_dir / "group-compare.png"), full_page=True)
    # one colour per run, the same on every panel: the loss traces, the boundary titles, the validation curves
    loss_colors = page.evaluate(
        "() => document.querySelector(\"[data-testid='compare-loss-step']\").data.map((t) => t.line.color)"
    )
    title_colors = page.evaluate(
        "() => [...document.querySelectorAll(\"[data-testid='compare-boundaries'] h4 .swatch\")]"
        ".map((s) => s.style.background)"
    )
    val_colors = page.evaluate(
        "() => document.querySelector(\"[data-testid='compare-val-loss']\").data"
        ".filter((t) => t.name.endsWith('validation')).map((t) => t.line.color)"
    )
    assert len(set(loss_colors)) == 3 and val_colors == loss_colors
    assert title_colors == [
        page.evaluate(
            f"() => {{ const d = document.createElement('i'); d.style.background = '{c}'; return d.style.background; }}"
        )
        for c in loss_colors
    ]


def test_a_viewer_without_the_token_follows_the_presenters_lesson(token_server: LiveServer, page: Page) -> None:
    page.goto(f"{token_server.url}/lessons.html")
    page.wait_for_function("() => document.body.dataset.mode === 'viewer'")
    assert page.is_visible("#viewer-note")
    assert token_server.post("/api/lessons/bias/run", {}).status_code == 401  # the room cannot start runs
    response = httpx.post(
        f"{token_server.url}/api/lessons/bias/run", json={}, headers={"Authorization": "Bearer room-42"}, timeout=10
    )
    assert response.status_code == 201
    # the viewer's page opens the presenter's lesson by itself and watches the runs to their verdict
    page.wait_for_function("() => document.getElementById('lesson-title').textContent === 'What the bias does'")
    assert page.is_hidden("#run-lesson")
    page.wait_for_selector("#verdict[data-held='true']", timeout=60_000)
    assert page.locator("[data-testid='compare-boundaries'] .plot").count() == 2

    # a viewer who arrives later lands on the presenter's newest lesson run too
    late = page.context.new_page()
    late.goto(f"{token_server.url}/lessons.html")
    late.wait_for_selector("#verdict[data-held='true']", timeout=30_000)
    assert late.text_content("#lesson-title") == "What the bias does"


def test_the_word2vec_lessons_projectors_search_and_list_each_runs_neighbours(
    server: LiveServer, page: Page, artifacts_dir: Path, preset_group: Preset
) -> None:
    """Each run's own projector answers from its own stored vectors: man's nearest words are people on the
    generated corpus and vehicles once man is used where vehicles go."""
    open_judged_run(server, page, preset_group, "word2vec")
    cells = page.locator("[data-testid='compare-embeddings'] > div")
    cells.first.scroll_into_view_if_needed()
    page.wait_for_function("() => document.querySelectorAll(\"[data-testid='compare-embeddings'] > div\").length === 2")
    for index, group in enumerate(("people", "vehicles")):
        cell = cells.nth(index)
        cell.scroll_into_view_if_needed()
        page.wait_for_function(
            f"""() => document.querySelectorAll("[data-testid='compare-embeddings'] > div")[{index}]
                 .querySelector('output').textContent.startsWith('the word vectors at step 2000')"""
        )
        cell.locator("input[name='search']").fill("man")
        cell.locator("input[name='search']").press("Enter")
        neighbours = cell.locator("[data-testid='embedding-neighbours'] li")
        neighbours.first.wait_for(timeout=30_000)
        assert neighbours.count() == 8
        assert f"· {group} ·" in neighbours.first.inner_text()  # word · its group · cosine
    page.locator("[data-panel='embedding']").screenshot(path=str(artifacts_dir / "lesson-word2vec-projectors.png"))

"""What a demanding user tripped on in the playground (issue rows 1-4), each seen as a person sees it:
runs compared side by side named by readable settings, the CNN's channels field usable, one run at a time
from the Start button, and no chart offering its data to a third party."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page

from tests.e2e.test_page import open_page, wait_js
from tests.live import LiveServer

pytestmark = pytest.mark.browser

CNN = {
    "data": {"kind": "digits"},
    "model": {"kind": "cnn2d", "conv": [{"channels": 4}], "hidden": [16], "activation": "relu"},
    "optim": {"steps": 30, "eval_every": 10, "lr": 0.003},
}


def test_compared_runs_are_named_by_readable_settings_and_throughput_starts_at_zero(
    server: LiveServer, page: Page, artifacts_dir: Path
) -> None:
    shifted = {**CNN, "data": {"kind": "digits", "canvas": 12, "shift": 2}}
    shifted["model"] = {**CNN["model"], "conv": [{"channels": 8}, {"channels": 16}]}
    first, second = server.submit(CNN), server.submit(shifted)
    for job in (first, second):
        server.wait_status(job["id"], {"done"})
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(f"{server.url}/lessons.html#runs={first['id']},{second['id']}")
    wait_js(page, "document.querySelector('#status').textContent.includes('2/2')")
    page.wait_for_selector("[data-testid=compare-throughput] .main-svg")
    text = page.evaluate("() => document.body.innerText")
    assert "[object Object]" not in text and "null" not in page.text_content("#status")
    legends = page.evaluate("() => [...document.querySelectorAll('.legendtext')].map(n => n.textContent)")
    assert legends and all("object" not in legend and len(legend) <= 60 for legend in legends), legends
    page.screenshot(path=str(artifacts_dir / "compare-picked-cnn-runs.png"), full_page=True)
    assert any("conv 8,16 max" in legend for legend in legends), legends  # as the form writes convolutions
    axis = page.evaluate("() => document.querySelector('[data-testid=compare-throughput]').layout.yaxis")
    assert axis["type"] == "linear" and axis["rangemode"] == "tozero"
    page.screenshot(path=str(artifacts_dir / "compare-picked-cnn-runs.png"), full_page=True)


def test_the_convolutions_field_has_room_to_type_in(server: LiveServer, page: Page) -> None:
    open_page(page, server.url + "/")
    page.select_option("select[name='model.kind']", "cnn2d")
    channels = page.locator("input[name=conv-channels]")
    channels.wait_for()
    box = channels.bounding_box()
    assert box is not None and box["width"] >= 60  # "8,16,32" visible as it is typed
    channels.fill("8,16,32")
    assert channels.input_value() == "8,16,32"


def test_start_is_refused_while_this_pages_run_is_live_and_stop_frees_it(server: LiveServer, page: Page) -> None:
    open_page(page, server.url + "/")
    page.fill("input[name='optim.steps']", "100000")
    page.click("#start")
    wait_js(page, "document.body.dataset.run === 'running'")
    assert page.is_disabled("#start")
    page.keyboard.press("Escape")  # stops it
    wait_js(page, "document.body.dataset.run === 'cancelled'")
    wait_js(page, "!document.getElementById('start').disabled")
    running = server.get("/api/jobs", status="running").json()["jobs"]
    assert not [job for job in running if job["spec"]["optim"]["steps"] == 100000]


def test_no_chart_offers_to_upload_its_data(server: LiveServer, page: Page) -> None:
    open_page(page, server.url + "/")
    page.fill("input[name='optim.steps']", "50")
    page.click("#start")
    wait_js(page, "document.body.dataset.run === 'done'")
    page.hover("#loss .main-svg")
    buttons = page.evaluate("() => [...document.querySelectorAll('.modebar-btn')].map(b => b.dataset.title)")
    assert buttons and not [title for title in buttons if "Share" in title or "Cloud" in title], buttons
    config = page.evaluate("() => document.querySelector('#loss .js-plotly-plot')._context.showSendToCloud")
    assert config is False


def test_the_histogram_over_time_has_no_empty_rows_inside_a_snapshot(server: LiveServer, page: Page) -> None:
    """Each snapshot's bins are spread over the rows they cover: no gap a student reads as "no values"."""
    open_page(page, server.url + "/")
    # 30 equal bins onto 40 rows of the same range: by centres, 10 rows stayed empty
    shares = page.evaluate(
        """async () => (await import('/js/charts/histograms.js')).rebin(
             { min: 0, max: 1, counts: new Array(30).fill(5) }, 0, 1, 40)"""
    )
    assert all(abs(share - 1 / 40) < 1e-9 for share in shares), shares
    narrow = page.evaluate(
        """async () => (await import('/js/charts/histograms.js')).rebin(
             { min: 0.25, max: 0.5, counts: [1, 0, 3] }, 0, 1, 8)"""
    )
    assert narrow == pytest.approx([0, 0, 0.25, 0.75, 0, 0, 0, 0])  # each share where its values lie

    page.fill("input[name='optim.steps']", "400")
    # 2 s at 200 steps/s: histograms every 200 steps and at most 5 a second give the first, 200th and last;
    # flat out, the tiny path trains 400 steps faster than that interval, and only the first and last remain
    page.select_option("select[name=pace]", "200")
    page.click("#start")
    wait_js(page, "document.body.dataset.run === 'done'")
    page.evaluate("() => window.trainscope.drawAll()")
    find = "[...document.querySelectorAll('#histograms .js-plotly-plot')].find(p => p.data?.[0]?.type === 'heatmap')"
    wait_js(page, f"{find} !== undefined")
    columns = page.evaluate(
        f"() => {{ const z = ({find}).data[0].z; return z[0].map((_, c) => z.map(row => row[c])); }}"
    )
    assert len(columns) >= 3 and all(abs(sum(column) - 1) < 1e-6 for column in columns)  # every value counted once


@pytest.mark.parametrize(
    ("kind", "dataset", "hidden", "lr"), [("cnn1d", "mnist1d", "", "0.01"), ("cnn2d", "digits", "32", "0.003")]
)
def test_choosing_a_cnn_starts_from_its_presets_settings_not_the_mlps(
    server: LiveServer, page: Page, kind: str, dataset: str, hidden: str, lr: str
) -> None:
    open_page(page, server.url + "/")
    page.select_option("select[name='model.kind']", kind)
    wait_js(page, f"document.querySelector(\"select[name='data.dataset']\").value === '{dataset}'")
    assert page.input_value("input[name='model.hidden']") == hidden
    assert page.input_value("select[name='model.activation']") == "relu"
    assert page.input_value("input[name='optim.lr']") == lr  # not the MLP's 8,8 tanh at 0.03


def test_layers_are_added_and_removed_with_buttons_and_reset_restores_the_defaults(
    server: LiveServer, page: Page, artifacts_dir: Path
) -> None:
    open_page(page, server.url + "/")
    page.locator("#spec-form").screenshot(path=str(artifacts_dir / "form-layers-reset.png"))
    hidden = "input[name='model.hidden']"
    assert page.input_value(hidden) == "8,8"
    page.click("button[name=more-layers]")
    assert page.input_value(hidden) == "8,8,8"  # as wide as the last
    page.click("button[name=fewer-layers]")
    page.click("button[name=fewer-layers]")
    assert page.input_value(hidden) == "8"
    wait_js(page, "location.hash.includes('model.hidden=8&') || location.hash.endsWith('model.hidden=8')")
    page.select_option("select[name='data.dataset']", "spiral")
    page.click("button[name=reset]")
    assert (page.input_value(hidden), page.input_value("select[name='data.dataset']")) == ("8,8", "circle")


def test_units_per_layer_and_no_hidden_layer_as_in_tensorflow_playground(
    server: LiveServer, page: Page, artifacts_dir: Path
) -> None:
    open_page(page, server.url + "/")
    hidden = "input[name='model.hidden']"
    page.click("button[name=more-units-0]")
    page.click("button[name=fewer-units-1]")
    assert page.input_value(hidden) == "9,7"
    assert page.locator(".unit-stepper output").all_text_contents() == ["9", "7"]
    page.click("#language")  # each stepper is named for screen readers, in the page's language
    assert page.get_attribute("button[name=more-units-1]", "aria-label") == "은닉층 2에 유닛 하나 더하기"
    page.click("#language")
    page.click("button[name=fewer-layers]")
    page.click("button[name=fewer-layers]")
    assert page.input_value(hidden) == "" and page.locator(".unit-stepper").count() == 0
    # no hidden layer: logistic regression, accepted, and x1² and x2² make a circle separable by it
    for feature in ("x1_sq", "x2_sq"):
        page.click(f"button.feature[data-feature={feature}]")
    page.fill("input[name='optim.steps']", "300")
    page.select_option("select[name=pace]", "0")
    page.click("#start")
    wait_js(page, "document.body.dataset.run === 'done'", 90)
    page.evaluate("() => window.trainscope.drawAll()")
    job_id = page.evaluate("() => new URLSearchParams(location.hash.slice(1)).get('job')")
    job = server.job(job_id)
    assert job["spec"]["model"]["hidden"] == [] and job["summary"]["val/acc"] >= 0.95
    # the output units show the boundary, P(class 0) and P(class 1), not blank boxes; hovering a unit
    # enlarges its map
    outputs = page.locator("#network image[data-unit^='1/']")
    assert outputs.count() == 2
    outputs.nth(1).hover()
    zoom = page.locator("[data-testid=unit-zoom]")
    zoom.wait_for(state="visible", timeout=5_000)
    assert zoom.evaluate("(img) => img.getBoundingClientRect().width") >= 100
    page.locator("#network").screenshot(path=str(artifacts_dir / "network-no-hidden-layer-zoom.png"))
    page.mouse.move(0, 0)
    zoom.wait_for(state="hidden", timeout=5_000)
    # the boundary's "step N" sits above the plot, not on the x axis's tick labels; the confusion says of
    # which examples it counts
    note = page.evaluate("() => document.getElementById('boundary').layout.annotations[0]")
    assert note["text"] == "step 300" and note["y"] == 1 and note["yanchor"] == "bottom"
    title = page.evaluate("() => document.getElementById('confusion').layout.annotations[0].text")
    assert "validation and" in title and "training examples" in title


def test_compared_runs_that_recorded_no_histograms_say_so_and_their_log_loss_axis_reads_in_full(
    server: LiveServer, page: Page
) -> None:
    quiet = {  # (a loss over more than a decade: Plotly labelled 0.5 and 0.2 as "5" and "2")
        "data": {"dataset": "moons", "n_points": 200},
        "optim": {"steps": 600, "eval_every": 100, "lr": 0.3},
        "probes": {"histogram_every": 0, "embedding_every": 0},
    }
    slow = {**quiet, "name": "Moons that a long name starts with · slow", "optim": {**quiet["optim"], "lr": 0.1}}
    first, second = server.submit({**quiet, "name": "Moons that a long name starts with · fast"}), server.submit(slow)
    for job in (first, second):
        server.wait_status(job["id"], {"done"})
    page.goto(f"{server.url}/lessons.html#runs={first['id']},{second['id']}")
    wait_js(page, "document.querySelector('#status').textContent.includes('2/2')")

    def notes(testid: str) -> str:
        texts = f"[...document.querySelectorAll('[data-testid={testid}] .annotation-text')]"
        return " ".join(page.evaluate(f"() => {texts}.map(n => n.textContent)"))

    for testid in ("compare-weight-histograms", "compare-act-histograms"):
        wait_js(page, f"document.querySelector('[data-testid={testid}] .annotation-text') !== null", 20)
        assert notes(testid) == "Not recorded in these runs."
    page.locator("[data-testid=compare-embeddings]").scroll_into_view_if_needed()  # drawn when on screen
    legends = page.evaluate("() => [...document.querySelectorAll('.legendtext')].map(n => n.textContent)")
    assert {"fast", "slow"} <= set(legends), legends  # by what their names do not share
    ticks = page.evaluate("() => document.querySelector('[data-testid=compare-loss-step]')._fullLayout.yaxis._vals")
    values = [10 ** tick["x"] for tick in ticks]
    assert max(values) / min(values) > 10, values  # over a decade: where the digit-only labels came
    for tick, value in zip(ticks, values, strict=True):
        assert float(tick["text"].replace("\u2212", "-")) == pytest.approx(value, rel=1e-6), ticks
    embeddings = "[...document.querySelectorAll('[data-testid=compare-embeddings] .annotation-text')]"
    wait_js(page, f"{embeddings}.filter(n => n.textContent === 'Not recorded in this run.').length === 2", 20)

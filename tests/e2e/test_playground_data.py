"""TensorFlow Playground's data side in the page: the data drawn before Start, new data, the noise and
ratio sliders, input features as toggles drawn as input units, and regression datasets."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page

from tests.e2e.test_page import draw_all, open_page, wait_js
from tests.live import LiveServer

pytestmark = pytest.mark.browser

BOUNDARY = "document.getElementById('boundary')"
JOB_IN_ADDRESS = "new URLSearchParams(location.hash.slice(1)).get('job')"
FIRST_X = f"{BOUNDARY}.data && {BOUNDARY}.data.length && {BOUNDARY}.data[{BOUNDARY}.data.length - 1].x[0]"


def slide(page: Page, name: str, value: float) -> None:
    """Move a slider as a drag would end: its value, then a change event."""
    page.locator(f"input[name='{name}']").evaluate(
        f"(el) => {{ el.value = {value}; el.dispatchEvent(new Event('change', {{ bubbles: true }})); }}"
    )


def test_the_data_is_drawn_before_start_and_redrawn_as_it_changes(server: LiveServer, page: Page) -> None:
    open_page(page, server.url + "/#data.dataset=spiral")
    wait_js(page, f"{BOUNDARY}.data && {BOUNDARY}.data.length === 1")  # the training points, no run yet
    assert page.evaluate(f"() => {BOUNDARY}.data[0].type") == "scattergl"
    assert page.evaluate("() => document.body.dataset.run") == "none"
    before = page.evaluate(f"() => {FIRST_X}")

    page.click("button[name=regenerate]")  # new data: another seed, other points
    seed = page.input_value("input[name='data.seed']")
    assert seed != ""
    wait_js(page, f"{FIRST_X} !== {before}")
    assert f"data.seed={seed}" in page.evaluate("() => location.hash")

    count = page.evaluate(f"() => {BOUNDARY}.data[0].x.length")
    slide(page, "data.val_fraction", 0.5)  # a larger validation share leaves fewer training points
    wait_js(page, f"{BOUNDARY}.data.length && {BOUNDARY}.data[0].x.length < {count}")
    assert page.text_content("[data-path='data.val_fraction'] output") == "50%"
    page.check("[name=validation]")
    wait_js(page, f"{BOUNDARY}.data.length === 2")


def test_squared_inputs_let_a_linear_net_cut_the_circle(server: LiveServer, page: Page) -> None:
    open_page(
        page, server.url + "/#data.dataset=circle&model.activation=identity&model.hidden=4&pace=0&optim.steps=600"
    )
    for feature in ("x1", "x2", "x1_sq", "x2_sq"):  # off, off, on, on
        page.click(f"button[data-feature={feature}]")
    assert page.locator("button.feature[aria-pressed=true]").all_text_contents() == ["x₁²", "x₂²"]
    assert "data.features=x1_sq%2Cx2_sq" in page.evaluate("() => location.hash")
    page.click("#start")
    wait_js(page, "document.body.dataset.run === 'done'", 60)
    job_id = page.evaluate(f"() => {JOB_IN_ADDRESS}")
    assert server.job(job_id)["summary"]["val/acc"] >= 0.95  # a straight cut in (x1², x2²) is a circle
    draw_all(page)
    wait_js(page, "document.querySelectorAll('#network svg text').length >= 2")
    assert page.locator("#network svg text").all_text_contents()[:2] == ["x₁²", "x₂²"]
    assert page.locator("#network svg image").count() == 2 + 4 + 2  # both inputs' maps, the hidden units', the outputs'

    for feature in ("x1_sq", "x2_sq"):  # none chosen: an error at the field, nothing sent
        page.click(f"button[data-feature={feature}]")
    page.click("#start")
    assert page.locator("[data-path='data.features'] .field-error").count() == 1


def test_a_regression_run_draws_values_not_classes(server: LiveServer, page: Page) -> None:
    open_page(page, server.url + "/#data.dataset=plane&pace=0&optim.steps=400")
    wait_js(page, f"{BOUNDARY}.data && {BOUNDARY}.data.length === 1")
    colors = page.evaluate(f"() => {BOUNDARY}.data[0].marker.color")
    assert all(-1 <= c <= 1 for c in colors) and len(set(colors)) > 100  # coloured by value
    page.click("#start")
    wait_js(page, "document.body.dataset.run === 'done'", 60)
    draw_all(page)
    wait_js(page, f"{BOUNDARY}.data[0].type === 'heatmap'")
    heatmap = page.evaluate(f"() => ({{min: {BOUNDARY}.data[0].zmin, title: {BOUNDARY}.data[0].colorbar.title.text}})")
    assert heatmap == {"min": -1, "title": "prediction"}
    loss = page.evaluate("() => document.querySelector('[data-testid=loss-chart]').layout.yaxis2.visible")
    assert loss is False  # no accuracy for a value to predict


def test_mnist1d_with_a_sequence_cnn_draws_each_example_as_a_line_with_its_feature_maps_under_it(
    server: LiveServer, page: Page, artifacts_dir: Path
) -> None:
    open_page(page, server.url + "/")
    page.select_option("select[name=preset]", "MNIST-1D, CNN")
    assert page.is_visible("[data-path='data.shuffle_positions']") and page.is_hidden("[data-path='data.noise']")
    # the MNIST-1D paper's CNN: 25 channels, kernels 5, 3, 3, each of stride 2
    assert page.input_value("input[name=conv-channels]") == "25:5/2,25/2,25/2"  # kernel 3 unwritten
    assert page.input_value("select[name=conv-pool]") == "none"
    run_until_pictures(page, 150)
    job_id = page.evaluate(f"() => {JOB_IN_ADDRESS}")
    spec = server.job(job_id)["spec"]
    assert spec["data"] == {**spec["data"], "kind": "mnist1d", "shuffle_positions": False}
    assert [(conv["kernel"], conv["stride"], conv["pool"]) for conv in spec["model"]["conv"]] == [
        (5, 2, "none"),
        (3, 2, "none"),
        (3, 2, "none"),
    ]

    # the first example wide, then conv1..conv3's maps under it: channels down, positions across
    sequence = page.locator("#pictures .sequence canvas")
    sizes = [sequence.nth(i).evaluate("(c) => [c.width, c.height]") for i in range(sequence.count())]
    assert sizes == [[360, 80], [19, 25], [10, 25], [5, 25]]
    assert page.locator("#pictures .sequence figcaption").nth(1).text_content().startswith("conv1: 25 channels")
    # each map's rows are numbered by channel, every fifth
    assert page.locator("#pictures .sequence .row-index").first.locator("span").all_text_contents() == [
        "0",
        "5",
        "10",
        "15",
        "20",
    ]
    assert page.locator("#pictures .pictures").nth(0).locator("canvas.line").count() == 16  # the examples
    # a 5-tap kernel is drawn 80 px wide (it was a ~30 px grey block), its filters numbered, its colours
    # keyed on one signed scale for the layer
    kernels = page.locator("#pictures .pictures").nth(1)
    assert kernels.locator("canvas").evaluate("(c) => c.getBoundingClientRect().width") == 80
    assert kernels.locator(".row-index span").count() == 5
    assert "\u2212" in (page.locator("#pictures h3 .scale-key").first.text_content() or "")
    page.locator("#pictures").screenshot(path=str(artifacts_dir / "pictures-mnist1d-cnn.png"))
    # the parameters per layer: the formula, its count and torch's
    rows = page.locator("[data-testid=parameters] tr").all_text_contents()
    assert rows[1] == "conv15·1·25 + 25150150" and rows[-1] == "Σ5,2105,210"

    page.goto(server.url + "/#data.dataset=mnist1d&data.shuffle_positions=true&model.kind=mlp&optim.steps=50")
    page.wait_for_selector("input[name='data.shuffle_positions']:checked")
    page.click("#start")
    # the first run's "done" stays shown until the new run is followed, which names it in the address
    wait_js(page, f"{JOB_IN_ADDRESS} && {JOB_IN_ADDRESS} !== '{job_id}' && document.body.dataset.run === 'done'", 90)
    job_id = page.evaluate(f"() => {JOB_IN_ADDRESS}")
    assert server.job(job_id)["spec"]["data"]["shuffle_positions"] is True


VIEWS_FOR_IMAGES = ["#loss", "#pictures", "#confusion", "#network", "#boundary"]


def run_until_pictures(page: Page, steps: int) -> None:
    """Run the form's settings flat out for `steps` and wait for the pictures panel to draw."""
    page.fill("input[name='optim.steps']", str(steps))
    page.select_option("select[name=pace]", "0")
    page.click("#start")
    wait_js(page, "document.body.dataset.run === 'done'", 90)
    draw_all(page)
    wait_js(page, "document.querySelectorAll('#pictures canvas').length > 0")


def test_a_cnn_on_digits_shows_examples_kernels_feature_maps_and_confusion(server: LiveServer, page: Page) -> None:
    open_page(page, server.url + "/")
    page.select_option("select[name=preset]", "Digits, CNN")
    assert page.is_visible("[data-path='model.conv']") and page.input_value("input[name=conv-channels]") == "8,16"
    run_until_pictures(page, 300)
    headings = page.locator("#pictures h3").all_text_contents()
    assert [h.split(" ")[0] for h in headings] == ["examples", "conv1", "conv1", "conv2", "conv2"]
    assert page.locator("#pictures .pictures").nth(0).locator("canvas").count() == 16  # the examples
    assert page.locator("#pictures .pictures").nth(1).locator("canvas").count() == 8  # conv1's kernels
    assert page.locator("#pictures .pictures").nth(4).locator("canvas").count() == 16  # conv2's maps
    # each kernel and map numbered by its channel (no "wrong" red: that is for examples), each layer's on
    # one scale with its key: a kernel's weights go both ways
    assert page.locator("#pictures .pictures").nth(1).locator("figcaption").all_text_contents() == list("01234567")
    assert page.locator("#pictures .pictures").nth(1).locator("figcaption.wrong").count() == 0
    keys = page.locator("#pictures h3 .scale-key").all_text_contents()
    assert len(keys) == 4 and keys[0].startswith("\u2212")  # a minus sign
    # what an image run has to show sits under the loss; the boundary and network, empty here, below
    tops = [page.locator(view).evaluate("(el) => el.getBoundingClientRect().top") for view in VIEWS_FOR_IMAGES]
    assert tops == sorted(tops), dict(zip(VIEWS_FOR_IMAGES, tops, strict=True))
    heatmap = page.evaluate("() => document.getElementById('confusion').data[0]")
    counts = heatmap["z"][::-1]  # drawn with class 0 on top
    assert heatmap["y"][-1] == "0" and len(counts) == 10
    assert sum(counts[i][i] for i in range(10)) > 0.8 * sum(map(sum, counts))  # mostly on the diagonal
    job_id = page.evaluate(f"() => {JOB_IN_ADDRESS}")
    assert server.job(job_id)["spec"]["model"]["conv"][1]["channels"] == 16
    assert "MLP's weight matrices" in (page.text_content("#network") or "")  # says why there is no diagram


def test_shifted_digits_are_set_in_the_form_and_drawn_on_their_canvas(
    server: LiveServer, page: Page, console_errors: list[str]
) -> None:
    open_page(page, server.url + "/")
    assert page.is_hidden("[data-path='data.canvas']")  # 2-D data: no canvas
    page.select_option("select[name=preset]", "Shifted digits, CNN")
    assert page.input_value("input[name='data.canvas']") == "16" and page.input_value("input[name='data.shift']") == "4"
    run_until_pictures(page, 100)
    assert page.locator("#pictures canvas").first.get_attribute("width") == "16"  # the examples, 16x16
    page.fill("input[name='data.shift']", "5")  # more than a 16-pixel canvas has room for
    page.click("#start")
    error = page.locator("[data-path='data.shift'] .field-error")
    error.wait_for(timeout=10_000)
    assert error.text_content() == "at most 4 on a 16-pixel canvas"
    assert all("422" in message for message in console_errors)  # the browser's own note of the refusal
    console_errors.clear()

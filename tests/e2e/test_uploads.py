"""Your own CSV in the playground, as a person uses it: a file refused with its line and column, a file
uploaded and chosen, its points drawn before Start, a run that draws each class's region, a link that
reopens it, a name that stays text, and the table deleted."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from playwright.sync_api import Page

from tests.e2e.test_page import draw_all, open_page, status, wait_js
from tests.live import LiveServer

BOUNDARY = "document.getElementById('boundary')"
DATASET = "select[name='data.dataset']"
CHOSEN = f'document.querySelector("{DATASET}").value'


def three_blobs(path: Path, names: tuple[str, ...] = ("0", "1", "2")) -> Path:
    from sklearn.datasets import make_blobs

    x, y = make_blobs(n_samples=240, centers=3, cluster_std=1.0, random_state=2)
    rows = "".join(f"{a * 50:.3f},{b:.4f},{names[label]}\n" for (a, b), label in zip(x, y, strict=True))
    path.write_text("width,height,species\n" + rows)
    return path


def test_a_bad_file_is_refused_at_its_line_and_column_and_nothing_is_added(
    server: LiveServer, page: Page, tmp_path: Path, console_errors: list[str]
) -> None:
    open_page(page, server.url + "/")
    options = page.locator(f"{DATASET} option").count()
    bad = tmp_path / "typo.csv"
    bad.write_text("a,b,label\n1,2,0\n3,4,1\n5,6O,0\n")
    page.set_input_files("input[name=upload-file]", str(bad))
    wait_js(page, "document.querySelector('#status').className === 'error'", 10)
    assert status(page) == "line 4, column 'b': '6O' is not a number"
    assert page.locator(f"{DATASET} option").count() == options
    assert all("422" in message for message in console_errors)  # Chromium logs the refused request itself
    console_errors.clear()


def test_an_uploaded_table_is_drawn_trained_on_reopened_by_link_and_deleted(
    server: LiveServer, page: Page, tmp_path: Path
) -> None:
    open_page(page, server.url + "/")
    table = three_blobs(tmp_path / "<img src=x onerror=alert(1)>blobs.csv", ("red", "<b>green</b>", "blue"))
    page.set_input_files("input[name=upload-file]", str(table))
    wait_js(page, f"{CHOSEN}.startsWith('upload:')", 10)
    dataset_id = page.eval_on_selector(DATASET, "(s) => s.value").removeprefix("upload:")
    assert status(page) == "Stored <img src=x onerror=alert(1)>blobs.csv: 240 rows, 2 features, 3 classes."
    chosen = page.eval_on_selector(DATASET, "(s) => s.selectedOptions[0].textContent")
    assert chosen == "<img src=x onerror=alert(1)>blobs.csv (240\u00d72)"  # rows x features
    assert page.locator("img").count() == 0  # the name is text, never markup
    assert page.is_visible("[data-path='data.standardize']") and page.is_hidden("[data-path='data.noise']")
    # the points, standardized, before any run
    wait_js(page, f"{BOUNDARY}.data && {BOUNDARY}.data.length === 1", 10)
    xs = np.array(page.evaluate(f"() => {BOUNDARY}.data[0].x"))
    assert len(xs) == 168 and abs(xs.mean()) < 0.2 and 0.8 < xs.std() < 1.2  # width was in the hundreds

    page.fill("input[name='optim.steps']", "500")
    page.select_option("select[name=pace]", "0")
    page.click("#start")
    wait_js(page, "document.body.dataset.run === 'done'", 60)
    draw_all(page)
    wait_js(page, f"{BOUNDARY}.data[0].type === 'heatmap'")
    heatmap = page.evaluate(f"() => {BOUNDARY}.data[0]")
    assert (heatmap["zmin"], heatmap["zmax"]) == (-0.5, 2.5) and heatmap["colorbar"]["tickvals"] == [0, 1, 2]
    assert {v for row in heatmap["z"] for v in row} == {0, 1, 2}  # every class has its region
    classes = [str(name) for name in server.get(f"/api/datasets/{dataset_id}").json()["classes"]]
    assert sorted(classes) == sorted(["red", "<b>green</b>", "blue"])
    as_text = [name.replace("<", "&#60;").replace(">", "&#62;") for name in classes]  # Plotly reads no markup
    assert heatmap["colorbar"]["ticktext"] == as_text  # the table's own class names
    confusion = page.evaluate("() => document.querySelector('[data-testid=confusion-chart]').data[0].x")
    assert confusion == as_text
    legend = page.evaluate("() => document.querySelector('#embedding .js-plotly-plot').data.map(d => d.name)")
    assert sorted(legend) == sorted(as_text)
    titles = page.evaluate(f"() => [{BOUNDARY}.layout.xaxis.title.text, {BOUNDARY}.layout.yaxis.title.text]")
    assert titles == ["width", "height"]  # the axes named after the table's columns
    assert page.locator("b", has_text="green").count() == 0  # a class name is text on the page, never markup
    job_id = page.evaluate("() => new URLSearchParams(location.hash.slice(1)).get('job')")
    assert server.job(job_id)["spec"]["data"]["dataset"] == dataset_id

    fresh = page.context.new_page()  # a copied link chooses the same table
    open_page(fresh, page.url.split("&job=")[0])
    assert fresh.eval_on_selector(DATASET, "(s) => s.value") == f"upload:{dataset_id}"
    fresh.close()

    page.once("dialog", lambda dialog: dialog.accept())
    page.click("button[name=delete-table]")
    wait_js(page, f"!{CHOSEN}.startsWith('upload:')", 10)
    assert server.get(f"/api/datasets/{dataset_id}").status_code == 404
    assert page.is_hidden("button[name=delete-table]")


def test_a_link_to_a_table_this_server_lacks_says_so_at_start(
    server: LiveServer, page: Page, console_errors: list[str]
) -> None:
    open_page(page, server.url + "/#data.dataset=upload%3A0123456789ab&optim.steps=50")
    chosen = page.eval_on_selector(DATASET, "(s) => [s.value, s.selectedOptions[0].textContent]")
    assert chosen == ["upload:0123456789ab", "table 0123456789ab (not on this server)"]
    page.click("#start")
    wait_js(page, "document.querySelector('#status').className === 'error'", 10)
    note = page.text_content("label[data-path='data.dataset'] .field-error")
    assert note == "this table is not on the server (deleted?)"
    assert all("422" in message for message in console_errors)
    console_errors.clear()

"""The runs list as a person uses it: filter and page through runs, name one and write notes on it,
and tick runs to compare them side by side."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page

from tests.e2e.test_page import open_page, wait_js
from tests.live import LiveServer

pytestmark = pytest.mark.browser

ROWS = "#runs tbody tr[data-job]"


def test_filter_page_name_and_compare_picked_runs(server: LiveServer, page: Page) -> None:
    # 22 tiny runs on a dataset no other test uses, as one group: a page of 20 and a second of 2
    group = server.post(
        "/api/groups",
        {
            "base": {"data": {"dataset": "multi_gauss", "n_points": 60}, "optim": {"steps": 5, "eval_every": 5}},
            "grid": {"optim.lr": [0.001 * (i + 1) for i in range(22)]},
        },
    ).json()
    server.wait_group(group["id"])
    open_page(page, server.url + "/")
    page.select_option("#runs select[name=dataset]", "multi_gauss")
    wait_js(page, "document.querySelector('#runs output[name=range]').textContent === '1\u201320 of 22'")
    assert page.locator(ROWS).count() == 20
    page.click("#runs button[name=older]")
    wait_js(page, f"document.querySelectorAll('{ROWS}').length === 2")
    page.click("#runs button[name=newer]")
    wait_js(page, f"document.querySelectorAll('{ROWS}').length === 20")
    page.select_option("#runs select[name=lesson]", "true")  # none of them is a lesson's
    wait_js(page, f"document.querySelectorAll('{ROWS}').length === 0")
    page.select_option("#runs select[name=lesson]", "")

    wait_js(page, f"document.querySelectorAll('{ROWS}').length === 20")
    first, second = page.locator(ROWS).nth(0), page.locator(ROWS).nth(1)
    first_id, second_id = first.get_attribute("data-job"), second.get_attribute("data-job")
    first.locator("[data-action=edit]").click()
    page.fill("tr.editor input[name=name]", "<i>fast</i> one")
    page.fill("tr.editor textarea[name=notes]", "the largest rate")
    page.click("tr.editor button[type=submit]")
    wait_js(
        page,
        f"document.querySelector(\"tr[data-job='{first_id}'] [data-action=open]\").textContent === '<i>fast</i> one'",
    )
    assert page.text_content(f"tr[data-job='{first_id}'] .notes") == "the largest rate"
    assert server.job(first_id)["notes"] == "the largest rate"
    with page.expect_download() as download:  # every stored point, as a file
        first.locator("[data-action=export-csv]").click()
    assert download.value.suggested_filename == f"trainscope-{first_id}.csv"
    lines = Path(download.value.path()).read_text(encoding="utf-8").splitlines()
    assert lines[0] == "run,tag,step,wall,value"
    assert next(line for line in lines if ",train/loss," in line).startswith("<i>fast</i> one,train/loss,1,")

    assert page.is_disabled("#runs button[name=compare]")
    first.locator("[data-action=select]").check()
    second.locator("[data-action=select]").check()
    page.click("#runs button[name=compare]")
    page.wait_for_url("**/lessons.html#runs=*")
    wait_js(page, "document.querySelectorAll('[data-panel]').length > 0")
    differs = page.text_content("#differs") or ""
    assert "<i>fast</i> one" in differs and "lr=0.021" in differs  # each by its name (a group's: its setting)
    assert page.locator("#differs code").text_content() == "Learning rate"  # as the form names it
    wait_js(page, "document.querySelector(\"[data-testid='compare-loss-step']\")?.data?.length >= 2", 20)
    assert {first_id, second_id} <= set(page.evaluate("() => location.hash").removeprefix("#runs=").split(","))
    assert httpx.get(server.url + "/api/jobs", params={"lesson": "true", "dataset": "multi_gauss"}).json()["total"] == 0


def test_unnamed_runs_are_told_apart_by_the_settings_they_differ_in(server: LiveServer, page: Page) -> None:
    base = {"data": {"dataset": "xor", "n_points": 60}, "optim": {"steps": 5, "eval_every": 5}}
    slow = server.submit({**base, "optim": {**base["optim"], "lr": 0.01}})
    fast = server.submit({**base, "model": {"activation": "relu"}, "optim": {**base["optim"], "lr": 0.02}})
    server.wait_status(fast["id"], {"done"})
    page.goto(f"{server.url}/lessons.html#runs={slow['id']},{fast['id']}")
    wait_js(page, "document.querySelectorAll('[data-panel]').length > 0")
    assert page.locator("#differs code").text_content() == "Activation, Learning rate"
    differs = page.text_content("#differs") or ""
    assert "activation tanh, lr 0.01" in differs and "activation relu, lr 0.02" in differs


def test_sort_by_a_figure_filter_by_range_and_see_parallel_coordinates(
    server: LiveServer, page: Page, artifacts_dir: Path, console_errors: list[str]
) -> None:
    base = {"data": {"dataset": "spiral", "n_points": 97}, "optim": {"steps": 60, "eval_every": 20}}
    group = server.post("/api/groups", {"name": "rates", "base": base, "grid": {"optim.lr": [0.003, 0.03, 0.3]}})
    jobs = [run["job"] for run in server.wait_group(group.json()["id"])["runs"]]
    accuracy = {job["id"]: job["summary"]["val/acc"] for job in jobs}
    open_page(page, server.url + "/")
    page.set_viewport_size({"width": 1440, "height": 900})

    def filter_by(text: str) -> None:
        page.fill("#runs input[name=where]", text)
        page.press("#runs input[name=where]", "Enter")

    def rows() -> list[str]:
        return [row.get_attribute("data-job") or "" for row in page.locator(ROWS).all()]

    filter_by("data.n_points=97")  # this group's runs only
    wait_js(page, f"document.querySelectorAll('{ROWS}').length === 3")
    page.click("#runs details.columns summary")
    page.check("#runs .choices input[value='optim.lr']")
    page.click("#runs details.columns summary")
    page.wait_for_selector("#runs th button[data-sort='optim.lr']")
    page.click("#runs th button[data-sort='val/acc']")  # best first
    wait_js(page, "document.querySelector(\"#runs th[aria-sort='descending'] [data-sort='val/acc']\") !== null")
    best_first = sorted(accuracy, key=lambda job_id: -accuracy[job_id])
    wait_js(
        page, f"[...document.querySelectorAll('{ROWS}')].map(r => r.dataset.job).join() === '{','.join(best_first)}'"
    )
    page.click("#runs th button[data-sort='optim.lr']")
    by_rate = [job["id"] for job in sorted(jobs, key=lambda job: job["spec"]["optim"]["lr"])]
    wait_js(page, f"[...document.querySelectorAll('{ROWS}')].map(r => r.dataset.job).join() === '{','.join(by_rate)}'")
    rates = [cell.text_content() for cell in page.locator("#runs td[data-column='optim.lr']").all()]
    assert rates == ["0.003", "0.03", "0.3"]

    middle = sorted(accuracy.values())[1]
    filter_by(f"data.n_points=97, val/acc>={middle}")  # a range on a figure
    wait_js(page, f"document.querySelectorAll('{ROWS}').length === 2")
    assert set(rows()) == {job_id for job_id, acc in accuracy.items() if acc >= middle}
    filter_by("nosuch.setting=1")
    wait_js(page, "document.querySelector('#runs output[name=problem]').textContent.includes('query.where.0')")
    assert all("422" in message for message in console_errors)  # Chromium's own note of the refusal
    console_errors.clear()
    filter_by("data.n_points=97")
    wait_js(page, f"document.querySelectorAll('{ROWS}').length === 3")
    assert page.text_content("#runs output[name=problem]") == ""

    page.click("#runs button[name=parcoords]")
    axes = "document.querySelector('#runs [data-testid=parcoords]').data[0].dimensions.map(d => d.label)"
    wait_js(page, f"document.querySelector('#runs [data-testid=parcoords]').data !== undefined && {axes}.length >= 3")
    labels = page.evaluate(f"() => {axes}")
    assert any("(log)" in label for label in labels) and len(labels) == 3  # the rate on log10, loss, accuracy
    page.locator("#runs").screenshot(path=str(artifacts_dir / "runs-table-parcoords.png"))

    page.goto(f"{server.url}/lessons.html#group={group.json()['id']}")
    page.wait_for_selector("#group-parcoords:not([hidden]) .main-svg")
    group_axes = page.evaluate(
        "() => document.querySelector('[data-testid=group-parcoords]').data[0].dimensions.length"
    )
    assert group_axes == 4  # the setting the runs differ in, then train loss, validation loss and accuracy
    page.locator("#group-parcoords").screenshot(path=str(artifacts_dir / "group-parcoords.png"))

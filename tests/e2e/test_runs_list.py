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
    assert lines[0] == "run,tag,step,wall,value" and lines[1].startswith("<i>fast</i> one,train/loss,1,")

    assert page.is_disabled("#runs button[name=compare]")
    first.locator("[data-action=select]").check()
    second.locator("[data-action=select]").check()
    page.click("#runs button[name=compare]")
    page.wait_for_url("**/lessons.html#runs=*")
    wait_js(page, "document.querySelectorAll('[data-panel]').length > 0")
    differs = page.text_content("#differs") or ""
    assert "<i>fast</i> one" in differs and "lr=0.021" in differs  # each by its name (a group's: its setting)
    assert page.locator("#differs code").text_content() == "optim.lr"
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
    assert page.locator("#differs code").text_content() == "model.activation, optim.lr"
    differs = page.text_content("#differs") or ""
    assert "activation tanh, lr 0.01" in differs and "activation relu, lr 0.02" in differs

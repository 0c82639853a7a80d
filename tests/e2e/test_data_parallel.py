"""Data parallelism from the form: an MLP offers ranks, a run of 2 ranks trains, says so, and draws each
rank's own samples/s among the other figures (the form hides ranks for a kind that steps itself:
test_kmeans.py)."""

from __future__ import annotations

from playwright.sync_api import Page

from tests.e2e.test_page import chart, open_page, wait_js
from tests.live import LiveServer


def test_a_run_of_two_ranks_from_the_form_draws_each_ranks_throughput(page: Page, server: LiveServer) -> None:
    open_page(page, server.url)
    form = page.locator("#spec-form")
    ranks = form.locator("input[name='distributed.world_size']")
    assert ranks.is_visible() and ranks.input_value() == "1"
    ranks.fill("2")
    form.locator("input[name='optim.steps']").fill("300")
    form.locator("select[name='pace']").select_option("0")
    page.click("#start")
    wait_js(page, "document.querySelector('#status').textContent.includes('done')", 120)
    wait_js(page, "window.trainscope.charts.figures.tags().includes('rank1/samples_per_s')", 30)
    assert {"rank0/samples_per_s", "rank1/samples_per_s"} <= set(chart(page, "figures.tags()"))
    job = server.get("/api/jobs", limit=1).json()["jobs"][0]
    assert job["spec"]["distributed"]["world_size"] == 2 and job["status"] == "done"
    running = next(e for e in server.stored_events(job["id"]) if e["type"] == "status" and e["status"] == "running")
    assert " as 2 data-parallel ranks (" in running["message"]  # gloo, or nccl where each rank has a GPU

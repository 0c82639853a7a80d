"""How the playground feels while it trains, measured in Chromium against a live server (loopback).

A person clicks "log scale" on the loss chart every 400 ms while a 20,000-step spiral run streams in;
each reaction is timed in the page, from the click event's timestamp (so input waiting behind a long
task counts) to the first animation frame after the chart shows the new scale. Baseline in the same
run: the same clicks on the same page after the run has ended. Also counted during the run: long tasks
(> 50 ms) and their total time, and Plotly redraws per chart.

    .venv/bin/python benchmarks/page.py [--clicks 12] [--steps 20000] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.e2e.conftest import CHROMIUM_ARGS
from tests.e2e.reaction import INSTRUMENT, reactions
from tests.live import LiveServer


def summary(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "p50_ms": statistics.median(ordered),
        "p90_ms": ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))],
        "max_ms": ordered[-1],
    }


def measure(args: argparse.Namespace) -> dict[str, Any]:
    chromium = shutil.which("chromium")
    assert chromium, "Debian's chromium is missing: scripts/test installs it"
    with tempfile.TemporaryDirectory() as folder, sync_playwright() as playwright:
        server = LiveServer(Path(folder) / "page.db", workers=1).start()
        browser = playwright.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_context(viewport={"width": 1366, "height": 900}).new_page()
            page.add_init_script(INSTRUMENT)
            page.goto(server.url + "/")
            page.wait_for_function("() => !document.getElementById('start').disabled")
            page.select_option("select[name='data.dataset']", "spiral")
            page.fill("input[name='model.hidden']", "16,16")
            page.fill("input[name='optim.lr']", "0.01")
            page.fill("input[name='optim.steps']", str(args.steps))
            page.click("#start")
            page.wait_for_function("() => window.trainscope.charts.loss.pointCount() > 500", timeout=60_000)
            page.evaluate("() => { window.__longTasks = []; window.__redraws = {}; }")
            training = reactions(page, args.clicks)
            during = page.evaluate("() => ({longTasks: window.__longTasks, redraws: window.__redraws})")
            still_running = page.evaluate("() => document.body.dataset.run") == "running"
            page.wait_for_function("() => document.body.dataset.run === 'done'", timeout=600_000)
            idle = reactions(page, args.clicks)
        finally:
            browser.close()
            server.stop()
    return {
        "training": summary(training),
        "idle": summary(idle),
        "clicks_while_running": still_running,
        "long_tasks": len(during["longTasks"]),
        "long_task_ms": sum(during["longTasks"]),
        "redraws": during["redraws"],
        "measured_s": args.clicks * 0.4,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clicks", type=int, default=12)
    parser.add_argument("--steps", type=int, default=20_000)
    parser.add_argument("--json")
    args = parser.parse_args()
    result = measure(args)
    t, i = result["training"], result["idle"]
    print(
        f"click -> reaction while training: p50 {t['p50_ms']:.0f} ms, p90 {t['p90_ms']:.0f} ms, "
        f"max {t['max_ms']:.0f} ms; "
        f"idle page: p50 {i['p50_ms']:.0f} ms, max {i['max_ms']:.0f} ms; ratio p50 {t['p50_ms'] / i['p50_ms']:.1f}x"
        + ("" if result["clicks_while_running"] else " (the run ended during the clicks)")
    )
    print(
        f"during {result['measured_s']:.1f} s of training: {result['long_tasks']} long tasks, "
        f"{result['long_task_ms']:.0f} ms in them; redraws per chart: {result['redraws']}"
    )
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()

"""How the playground feels while it trains, measured in Chromium against a live server (loopback).

1. The first visit to a fresh server: from navigation to the data preview drawn.
2. The noise slider moved step by step with no run: each step's time until the preview shows it.
3. A default run (the form as it loads, 2,000 steps at 200 steps/s) in a viewport tall enough that every
   chart is on screen: the share of the run's wall time spent in long tasks (> 50 ms), the longest, and
   redraws per chart. Baseline in the same run: the same share on the page left idle as long.
4. A person clicks "log scale" on the loss chart every 400 ms while a 20,000-step spiral run streams in;
each reaction is timed in the page, from the click event's timestamp (so input waiting behind a long
task counts) to the first animation frame after the chart shows the new scale. Baseline in the same
run: the same clicks on the same page after the run has ended. Also counted during the run: long tasks
(> 50 ms) and their total time, and Plotly redraws per chart.

    .venv/bin/python benchmarks/page.py [--clicks 12] [--steps 20000] [--slider-steps 8] [--json out.json]
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

from playwright.sync_api import Page, sync_playwright

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


# records when each chart last drew, and the main-thread time of its draws (total and longest)
DRAWN_AT = """
document.addEventListener("DOMContentLoaded", () => {
  window.__drawnAt = {};
  window.__drawMs = {};
  const react = Plotly.react;
  Plotly.react = function (el, ...rest) {
    const began = performance.now();
    const result = react.call(this, el, ...rest);
    const key = el.dataset.testid || el.id || "?";
    const now = performance.now();
    window.__drawnAt[key] = now;
    const cost = (window.__drawMs[key] = window.__drawMs[key] || { total: 0, longest: 0 });
    cost.total += now - began;
    cost.longest = Math.max(cost.longest, now - began);
    return result;
  };
});
"""
PREVIEW_DRAWN = """() => {
  const el = document.querySelector("[data-testid=boundary-chart]");
  return !!(el && el.data && el.data.some((t) => t.type === "scattergl" && t.x.length));
}"""


def long_task_share(page: Page, since_ms: float) -> dict[str, float]:
    tasks: list[float] = page.evaluate("() => window.__longTasks")
    elapsed = page.evaluate("() => performance.now()") - since_ms
    return {"share": sum(tasks) / elapsed, "longest_ms": max(tasks, default=0.0), "elapsed_ms": elapsed}


def first_preview(page: Page, url: str) -> float:
    """ms from navigation to the data preview drawn, on a server that has not drawn one yet."""
    page.goto(url + "/")
    page.wait_for_function(PREVIEW_DRAWN, timeout=120_000)
    return float(page.evaluate("() => performance.now()"))


def slider_steps(page: Page, count: int) -> list[float]:
    """Move the noise slider one notch at a time, as a person dragging it; each step's ms to its preview."""
    times = []
    for i in range(count):
        before = page.evaluate("() => window.__drawnAt['boundary-chart'] || 0")
        began = page.evaluate(
            """(value) => {
              const slider = document.querySelector("[name='data.noise']");
              slider.value = value;
              slider.dispatchEvent(new Event("input", { bubbles: true }));
              slider.dispatchEvent(new Event("change", { bubbles: true }));
              return performance.now();
            }""",
            0.05 * (i + 1),
        )
        page.wait_for_function(f"() => (window.__drawnAt['boundary-chart'] || 0) > {before}", timeout=60_000)
        page.evaluate("() => new Promise((done) => requestAnimationFrame(() => done()))")
        times.append(page.evaluate("() => window.__drawnAt['boundary-chart']") - began)
    return times


def default_run(page: Page) -> dict[str, Any]:
    """Start the form's default run with every chart on screen; long tasks while it trains and, as the
    baseline, while the page then sits idle as long."""
    height = page.evaluate("() => document.documentElement.scrollHeight")
    page.set_viewport_size({"width": 1440, "height": min(height, 6000)})
    page.evaluate("() => { window.__longTasks = []; window.__redraws = {}; window.__drawMs = {}; }")
    began = page.evaluate("() => { document.getElementById('start').click(); return performance.now(); }")
    page.wait_for_function("() => document.body.dataset.run === 'done'", timeout=300_000)
    training = long_task_share(page, began)
    redraws = page.evaluate("() => window.__redraws")
    draw_ms = page.evaluate("() => window.__drawMs")
    idle_began = page.evaluate("() => { window.__longTasks = []; return performance.now(); }")
    page.wait_for_timeout(min(training["elapsed_ms"], 10_000))  # the idle baseline's length, not a wait for a result
    idle = long_task_share(page, idle_began)
    return {"training": training, "idle": idle, "redraws": redraws, "draw_ms": draw_ms}


def measure(args: argparse.Namespace) -> dict[str, Any]:
    chromium = shutil.which("chromium")
    assert chromium, "Debian's chromium is missing: scripts/test installs it"
    result: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as folder, sync_playwright() as playwright:
        server = LiveServer(Path(folder) / "page.db", workers=1).start()
        browser = playwright.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_context(viewport={"width": 1440, "height": 900}).new_page()
            page.add_init_script(INSTRUMENT)
            page.add_init_script(DRAWN_AT)
            result["first_preview_ms"] = first_preview(page, server.url)
            page.wait_for_function("() => !document.getElementById('start').disabled")
            result["slider_ms"] = slider_steps(page, args.slider_steps)
            page.goto(server.url + "/")  # the form's defaults again
            page.wait_for_function(PREVIEW_DRAWN, timeout=60_000)
            result["default_run"] = default_run(page)
            if args.no_clicks:
                return result
            page.set_viewport_size({"width": 1366, "height": 900})
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
    return result | {
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
    parser.add_argument("--slider-steps", type=int, default=8)
    parser.add_argument("--no-clicks", action="store_true", help="skip the clicks during a long run (4.)")
    parser.add_argument("--json")
    args = parser.parse_args()
    result = measure(args)
    run = result["default_run"]
    slider = sorted(result["slider_ms"])
    print(f"first visit to a fresh server: data preview drawn after {result['first_preview_ms']:.0f} ms")
    print(
        f"noise slider, one notch to its preview: p50 {statistics.median(slider):.0f} ms, "
        f"max {slider[-1]:.0f} ms ({len(slider)} notches)"
    )
    print(
        f"default run, every chart on screen: long tasks {100 * run['training']['share']:.0f}% of "
        f"{run['training']['elapsed_ms'] / 1000:.1f} s (longest {run['training']['longest_ms']:.0f} ms); "
        f"idle page {100 * run['idle']['share']:.0f}%"
    )
    for chart, cost in sorted(run["draw_ms"].items(), key=lambda item: -item[1]["total"]):
        count = run["redraws"].get(chart, 0)
        print(
            f"  {chart}: {count} draws, {cost['total']:.0f} ms in all, "
            f"mean {cost['total'] / max(count, 1):.0f} ms, longest {cost['longest']:.0f} ms"
        )
    if args.no_clicks:
        return
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

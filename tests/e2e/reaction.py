"""Timing what a person feels in the page: a click's reaction, long tasks, and redraws per chart."""

from __future__ import annotations

from playwright.sync_api import Page

# add_init_script: counts Plotly.react calls per chart and long tasks, and times each click on the loss
# chart's "log scale" from the click event's timestamp (input queued behind a long task counts) to
# the first frame after the chart shows the new scale
INSTRUMENT = """
window.__redraws = {};
window.__longTasks = [];
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) window.__longTasks.push(entry.duration);
}).observe({ type: "longtask", buffered: true });
document.addEventListener("DOMContentLoaded", () => {
  const react = Plotly.react;
  Plotly.react = function (el, ...rest) {
    const key = el.dataset.testid || el.id || "?";
    window.__redraws[key] = (window.__redraws[key] || 0) + 1;
    return react.call(this, el, ...rest);
  };
});
window.__reactions = [];
document.addEventListener("click", (event) => {
  const box = event.target.closest && event.target.closest("#loss [name=log]");
  if (!box) return;
  const plot = document.querySelector("[data-testid=loss-chart]");
  const clicked = event.timeStamp;
  const check = () => {
    const want = box.checked ? "log" : "linear";
    if (plot.layout && plot.layout.yaxis.type === want) {
      requestAnimationFrame(() => window.__reactions.push(performance.now() - clicked));
    } else requestAnimationFrame(check);
  };
  requestAnimationFrame(check);
}, true);
"""


def reactions(page: Page, count: int) -> list[float]:
    """Click "log scale" `count` times at a person's pace (400 ms apart); each reaction in ms."""
    page.evaluate("() => { window.__reactions = []; }")
    for _ in range(count):
        page.click("#loss [name=log]")
        page.wait_for_timeout(400)  # the pace between clicks, not a wait for a result
    page.wait_for_function(f"() => window.__reactions.length >= {count}", timeout=60_000)
    measured: list[float] = page.evaluate("() => window.__reactions")
    return measured

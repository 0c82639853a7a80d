// One animation-frame loop for every chart. A chart redraws at most once per frame, only after it was
// asked to (an event for it arrived, or the user changed it), only while it is on screen, and no more
// often than its `minIntervalMs` (heavy views). A frame stops drawing once it has spent BUDGET_MS, so
// a click is answered at the next frame instead of after every chart's redraw (measured before this:
// each chart redrew on every event batch, 11 s of long tasks in 20 s of training).
const BUDGET_MS = 12;
const charts = new Set();
const byElement = new WeakMap();
let scheduled = false;

const observer = new IntersectionObserver(
  (entries) => {
    for (const entry of entries) {
      const chart = byElement.get(entry.target);
      if (!chart) continue;
      chart.visible = entry.isIntersecting;
      if (chart.visible && chart.dirty) schedule();
    }
  },
  { rootMargin: "200px 0px" }, // drawn just before it scrolls into view
);

document.addEventListener("visibilitychange", () => schedule()); // a tab brought back draws what it missed

function schedule() {
  if (scheduled) return;
  scheduled = true;
  requestAnimationFrame(frame);
}

function due(chart, now) {
  return chart.dirty && chart.visible && !document.hidden && (chart.urgent || now - chart.last >= chart.minIntervalMs);
}

function frame(now) {
  scheduled = false;
  const began = performance.now();
  // what the user asked for first, then the chart that has waited longest
  const ready = [...charts].filter((chart) => due(chart, now)).sort((a, b) => b.urgent - a.urgent || a.last - b.last);
  for (const chart of ready) {
    if (!chart.urgent && performance.now() - began > BUDGET_MS) break;
    draw(chart, now);
  }
  if ([...charts].some((chart) => chart.dirty && chart.visible)) schedule(); // the rest, in later frames
}

function draw(chart, now) {
  chart.dirty = chart.urgent = false;
  chart.last = now;
  chart.draw();
}

// Register a chart's element and its draw(); returns request(urgent): draw it soon (urgent: at the
// next frame, whatever its interval; for the user's own changes).
export function drawer(element, drawFn, { minIntervalMs = 0 } = {}) {
  const chart = { draw: drawFn, minIntervalMs, dirty: false, urgent: false, last: -Infinity, visible: true };
  charts.add(chart);
  byElement.set(element, chart);
  observer.observe(element);
  return (urgent = false) => {
    chart.dirty = true;
    chart.urgent = chart.urgent || urgent;
    schedule();
  };
}

// Draw every chart still waiting, on screen or not (for the browser tests and for printing).
export function drawAll() {
  const now = performance.now();
  for (const chart of charts) if (chart.dirty) draw(chart, now);
}

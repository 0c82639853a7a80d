// One animation-frame loop for every chart. A chart redraws at most once per frame, only after it was
// asked to (an event for it arrived, or the user changed it), only while it is on screen, and no more
// often than its `minIntervalMs` (heavy views). A frame stops drawing once it has spent BUDGET_MS, so
// a click is answered at the next frame instead of after every chart's redraw (measured before this:
// each chart redrew on every event batch, 11 s of long tasks in 20 s of training).
const BUDGET_MS = 12;
// And over any DUTY_WINDOW_MS, streaming redraws take at most DUTY_SHARE of the main thread: on a slow
// or busy machine charts update less often instead of leaving the page no time for the person using it
// (benchmarks/page.py, a default run with every chart on screen and two CPU hogs beside it on 2 cores:
// long tasks fell from 42% to 22% of the run; what it costs: the loss redraws ~2 times a second there,
// not 4). The user's own changes are drawn whatever the share.
const DUTY_SHARE = 0.3;
const DUTY_WINDOW_MS = 2000;
const spent = []; // [ended at, ms] of the draws within the window
let resting = null; // the timer that looks again once the share has fallen
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

// the share of the last DUTY_WINDOW_MS spent drawing
function duty(now) {
  while (spent.length && spent[0][0] < now - DUTY_WINDOW_MS) spent.shift();
  return spent.reduce((sum, [, ms]) => sum + ms, 0) / DUTY_WINDOW_MS;
}

function frame(now) {
  scheduled = false;
  const began = performance.now();
  // what the user asked for first, then the chart most overdue for its own pace (the loss, at 250 ms,
  // twice as often as a 500 ms view when the share holds them all back)
  const overdue = (chart) => (now - chart.last) / Math.max(chart.minIntervalMs, 100);
  const ready = [...charts].filter((chart) => due(chart, now)).sort((a, b) => b.urgent - a.urgent || overdue(b) - overdue(a));
  for (const chart of ready) {
    if (!chart.urgent && (performance.now() - began > BUDGET_MS || duty(performance.now()) >= DUTY_SHARE)) break;
    draw(chart, now);
  }
  if (![...charts].some((chart) => chart.dirty && chart.visible)) return;
  // the rest in later frames; over the share, once some of the window has passed (no busy frame loop)
  if (duty(performance.now()) < DUTY_SHARE) schedule();
  else if (!resting) resting = setTimeout(() => { resting = null; schedule(); }, DUTY_WINDOW_MS / 10);
}

function draw(chart, now) {
  chart.dirty = chart.urgent = false;
  chart.last = now;
  const began = performance.now();
  chart.draw();
  const ended = performance.now();
  spent.push([ended, ended - began]);
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

// The share of the last DUTY_WINDOW_MS spent redrawing charts (for the benchmark and the tests).
export const drawShare = () => duty(performance.now());

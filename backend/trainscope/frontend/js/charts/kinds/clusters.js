// k-means on points in a plane: the points, coloured by the blob each came from, and each centre's path
// over the iterations, from where it started to where it is now (a cross). The positions come as the
// run's figures centroid/<i>/x and centroid/<i>/y, one a step.
import { baseLayout, CLASS_COLORS, floats, plotOrWait } from "../../decode.js";
import { say, t } from "../../i18n.js";
import { drawer } from "../frames.js";

const CENTRE = /^centroid\/(\d+)\/([xy])$/;

// the panel's title, in each language the page speaks
export const words = { en: "k-means: the points and each centre's path", ko: "k-평균: 점들과 각 중심의 경로" };
// the figures this view draws, so that the panel of other figures leaves them out
export const claims = (tag) => CENTRE.test(tag);

export function mount(el) {
  el.dataset.testid = "clusters-chart";
  const plot = Object.assign(document.createElement("div"), { className: "plot" });
  el.replaceChildren(plot);
  let points; // the dataset event's training points
  let paths; // centre index -> { steps: [], x: [], y: [] }

  function reset() {
    points = null;
    paths = new Map();
    draw();
  }

  function draw() {
    const traces = [];
    if (points) {
      const xy = floats(points.points);
      traces.push({ type: "scattergl", mode: "markers", name: t("clusters.points"), x: points.labels.map((_, i) => xy[2 * i]), y: points.labels.map((_, i) => xy[2 * i + 1]), marker: { size: 5, color: points.labels.map((l) => CLASS_COLORS[l % 10]), opacity: 0.35 }, hoverinfo: "skip" });
    }
    for (const [index, path] of [...paths].sort((a, b) => a[0] - b[0])) {
      const name = say("clusters.centre", { n: index });
      traces.push({ type: "scatter", mode: "lines+markers", name, x: path.x, y: path.y, text: path.steps.map((step) => say("clusters.at", { step })), line: { color: "#1d2330", width: 2 }, marker: { size: 5, color: "#1d2330" } });
      traces.push({ type: "scatter", mode: "markers", showlegend: false, name, x: path.x.slice(-1), y: path.y.slice(-1), marker: { size: 14, symbol: "x-thin-open", color: "#d62728", line: { width: 3, color: "#d62728" } }, hoverinfo: "skip" });
    }
    const square = { ...baseLayout().yaxis, scaleanchor: "x", title: { text: "x₂" } };
    plotOrWait(plot, traces, baseLayout({ showlegend: false, xaxis: { ...baseLayout().xaxis, title: { text: "x₁" } }, yaxis: square }), t("chart.waiting"));
  }
  const redraw = drawer(plot, draw, { minIntervalMs: 500 });

  function append(events) {
    let changed = false;
    for (const event of events) {
      if (event.type === "dataset") {
        points = event.train;
        changed = true;
      } else if (event.type === "scalars") {
        for (const point of event.points) {
          for (const [tag, value] of Object.entries(point.values)) {
            const match = CENTRE.exec(tag);
            if (!match) continue;
            const index = Number(match[1]);
            if (!paths.has(index)) paths.set(index, { steps: [], x: [], y: [] });
            const path = paths.get(index);
            if (match[2] === "x") {
              path.steps.push(point.step);
              path.x.push(value);
            } else path.y.push(value);
            changed = true;
          }
        }
      }
    }
    if (changed) redraw();
  }

  reset();
  return { reset, append, relayout: () => redraw(true), centres: () => paths.size, steps: () => Math.max(0, ...[...paths.values()].map((p) => p.x.length)) };
}

// Decision boundary for 2-D data: P(class 1) over the plane, training and validation points on top.
import { baseLayout, CLASS_COLORS, floats, plotOrWait } from "../decode.js";
import { say, t } from "../i18n.js";
import { drawer } from "./frames.js";

export function mount(el) {
  el.dataset.testid = "boundary-chart";
  let data;
  let latest;
  let planar = true; // the run's data has two inputs: a boundary will come

  function reset(context = {}) {
    data = null;
    latest = null;
    planar = context.planar ?? true;
    draw();
  }

  function points(part, name, symbol) {
    const xy = floats(part.points);
    return {
      type: "scattergl", mode: "markers", name,
      x: part.labels.map((_, i) => xy[2 * i]), y: part.labels.map((_, i) => xy[2 * i + 1]),
      marker: { size: 6, symbol, color: part.labels.map((l) => CLASS_COLORS[l % 10]), line: { width: 1, color: "#fff" } },
    };
  }

  function draw() {
    const traces = [];
    let note = t(planar ? "boundary.notYet" : "boundary.only2d");
    if (latest) {
      const probs = floats(latest.probs);
      const n = latest.grid;
      const axis = (range) => Array.from({ length: n }, (_, i) => range[0] + (i * (range[1] - range[0])) / (n - 1));
      const z = Array.from({ length: n }, (_, r) => Array.from(probs.subarray(r * n, (r + 1) * n)));
      traces.push({ type: "heatmap", x: axis(latest.x_range), y: axis(latest.y_range), z, zmin: 0, zmax: 1, colorscale: [[0, CLASS_COLORS[0]], [0.5, "#f5f5f5"], [1, CLASS_COLORS[1]]], opacity: 0.75, colorbar: { title: { text: t("legend.pClass1") }, thickness: 10 }, name: t("legend.pClass1") });
      note = say("boundary.step", { step: latest.step });
    }
    if (data) traces.push(points(data.train, t("legend.train"), "circle"), points(data.val, t("legend.validation"), "diamond"));
    const annotations = [{ text: note, xref: "paper", yref: "paper", x: 1, y: -0.12, xanchor: "right", showarrow: false, font: { size: 12 } }];
    plotOrWait(el, traces, baseLayout({ annotations, yaxis: { ...baseLayout().yaxis, scaleanchor: "x" } }), note);
  }
  const redraw = drawer(el, draw, { minIntervalMs: 500 });

  function append(events) {
    let changed = false;
    for (const event of events) {
      if (event.type === "dataset") data = event;
      if (event.type === "boundary") latest = event;
      changed = changed || event.type === "dataset" || event.type === "boundary";
    }
    if (changed) redraw();
  }

  reset();
  return { reset, append, hasBoundary: () => latest !== null, relayout: () => redraw(true) };
}

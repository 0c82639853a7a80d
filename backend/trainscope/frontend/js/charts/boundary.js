// Decision boundary for 2-D data: P(class 1) over the plane (regression: the predicted value; more
// than two classes: the predicted class), the training points on top and, when asked, the validation
// points; as in TensorFlow Playground the output can be discretized. The data is drawn before a run
// too (a preview is a dataset event).
import { escape } from "../html.js";
import { baseLayout, CLASS_COLORS, floats, plotOrWait, VALUE_COLORSCALE } from "../decode.js";
import { say, t } from "../i18n.js";
import { drawer } from "./frames.js";

// options.toggles false (small multiples): no toggles, the validation points always drawn.
export function mount(el, options = {}) {
  el.dataset.testid = "boundary-chart";
  const bar = document.createElement("div");
  bar.className = "chart-bar";
  bar.innerHTML = `
    <label><input type="checkbox" name="validation"> <span data-i18n="chart.showValidation">show validation points</span></label>
    <label><input type="checkbox" name="discretize"> <span data-i18n="chart.discretize">discretize output</span></label>`;
  if (options.toggles !== false) el.before(bar);
  else bar.querySelector("[name=validation]").checked = true;
  const checked = (name) => bar.querySelector(`[name=${name}]`).checked;
  let data;
  let latest;
  let planar = true; // the run's data has two inputs: a boundary will come
  let classNames = null; // an uploaded table's own names for its classes (red, green...), else numbers
  let axisNames = null; // an uploaded table's two feature columns

  function reset(context = {}) {
    data = null;
    latest = null;
    planar = context.planar ?? true;
    classNames = context.classNames || null;
    axisNames = context.axisNames || null;
    draw();
  }

  function points(part, name, symbol, span) {
    const xy = floats(part.points);
    const color = span ? part.labels : part.labels.map((l) => CLASS_COLORS[l % 10]);
    return {
      type: "scattergl", mode: "markers", name,
      x: part.labels.map((_, i) => xy[2 * i]), y: part.labels.map((_, i) => xy[2 * i + 1]),
      marker: { size: 6, symbol, color, line: { width: 1, color: "#fff" }, ...(span ? { colorscale: VALUE_COLORSCALE, cmin: -span, cmax: span } : {}) },
    };
  }

  // The colours of a grid of predicted classes: one band per class, as the points are coloured.
  function classScale(grid) {
    const count = Math.max(...grid, ...(data ? data.train.labels : [])) + 1;
    const colorscale = Array.from({ length: count }, (_, k) => [[k / count, CLASS_COLORS[k % 10]], [(k + 1) / count, CLASS_COLORS[k % 10]]]).flat();
    return { zmin: -0.5, zmax: count - 0.5, colorscale };
  }

  function draw() {
    const traces = [];
    let note = t(planar ? "boundary.notYet" : "boundary.only2d");
    const values = (latest && latest.output === "value") || (data && data.target === "value");
    // values are coloured over [-span, span]: the built-in data's [-1, 1], or as far as an uploaded table's go
    const span = values ? Math.max(1, ...(data ? data.train.labels.map(Math.abs) : [])) : 0;
    if (latest) {
      const classes = latest.output === "class";
      let grid = floats(latest.probs);
      if (checked("discretize") && !classes) grid = grid.map(values ? Math.sign : (p) => (p >= 0.5 ? 1 : 0));
      const n = latest.grid;
      const axis = (range) => Array.from({ length: n }, (_, i) => range[0] + (i * (range[1] - range[0])) / (n - 1));
      const z = Array.from({ length: n }, (_, r) => Array.from(grid.subarray(r * n, (r + 1) * n)));
      const name = t(values ? "legend.prediction" : classes ? "legend.predictedClass" : "legend.pClass1");
      const twoClasses = { zmin: 0, zmax: 1, colorscale: [[0, CLASS_COLORS[0]], [0.5, "#f5f5f5"], [1, CLASS_COLORS[1]]] };
      const scale = values ? { zmin: -span, zmax: span, colorscale: VALUE_COLORSCALE } : classes ? classScale(grid) : twoClasses;
      const tickvals = Array.from({ length: scale.zmax + 0.5 }, (_, k) => k); // one per class
      const ticks = classes ? { tickvals, ...(classNames ? { ticktext: tickvals.map((k) => (classNames[k] === undefined ? String(k) : escape(classNames[k]))) } : {}) } : {};
      traces.push({ type: "heatmap", x: axis(latest.x_range), y: axis(latest.y_range), z, ...scale, opacity: 0.75, colorbar: { title: { text: name }, thickness: 10, ...ticks }, name });
      note = say("boundary.step", { step: latest.step });
    } else if (data) {
      note = t("boundary.data");
    }
    if (data) {
      traces.push(points(data.train, t("legend.train"), "circle", span));
      if (checked("validation")) traces.push(points(data.val, t("legend.validation"), "diamond", span));
    }
    // above the plot's right corner: under it, "step N" sat on the x axis's last tick label
    const annotations = [{ text: note, xref: "paper", yref: "paper", x: 1, y: 1, xanchor: "right", yanchor: "bottom", showarrow: false, font: { size: 12 } }];
    const named = (axis, i) => (axisNames ? { ...axis, title: { text: escape(axisNames[i]) } } : axis);
    plotOrWait(el, traces, baseLayout({ annotations, xaxis: named(baseLayout().xaxis, 0), yaxis: named({ ...baseLayout().yaxis, scaleanchor: "x" }, 1) }), note);
  }
  const redraw = drawer(el, draw, { minIntervalMs: 500 });
  bar.addEventListener("change", () => redraw(true));

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

// A representation of the probe set (the tap the event names: a hidden layer, a latent code...),
// projected by PCA, coloured by label; a slider moves through the snapshots taken during training.
import { CLASS_COLORS, VALUE_COLORSCALE, baseLayout, floats, plotOrWait } from "../decode.js";
import { escape } from "../html.js";
import { say, t } from "../i18n.js";
import { drawer } from "./frames.js";

// A tap as people say it: hidden/1 is the second hidden layer; another keeps the kind's own word for it
function tapName(tag) {
  const hidden = /^hidden\/(\d+)$/.exec(tag);
  return hidden ? say("tap.hidden", { n: Number(hidden[1]) + 1 }) : t(`tap.${tag}`, tag);
}

export function mount(el) {
  el.classList.add("chart-block");
  const bar = document.createElement("div");
  bar.className = "chart-bar";
  bar.innerHTML = `
    <label><input type="checkbox" name="three"> 3-D</label>
    <label class="grow"><span data-i18n="chart.snapshot">Snapshot</span> <input type="range" name="snapshot" min="0" max="0" value="0"></label>
    <output name="which"></output>`;
  const plot = Object.assign(document.createElement("div"), { className: "plot" });
  plot.dataset.testid = "embedding-chart";
  el.replaceChildren(bar, plot);
  const slider = bar.querySelector("[name=snapshot]");
  let snapshots;
  let following = true; // the slider follows the newest snapshot until the user moves it
  let classNames = null; // an uploaded table's own names for its classes

  function reset(context = {}) {
    classNames = context.classNames || null;
    snapshots = [];
    following = true;
    slider.max = 0;
    draw();
  }

  function draw() {
    const snap = snapshots[Number(slider.value)];
    const three = bar.querySelector("[name=three]").checked && snap && snap.dims >= 3;
    const traces = [];
    if (snap) {
      const points = floats(snap.points);
      const coordinate = (d) => snap.labels.map((_, i) => points[i * snap.dims + d]);
      if (snap.target === "value") {
        // a value to predict: one cloud coloured by it, as the boundary colours it
        traces.push({ type: three ? "scatter3d" : "scattergl", mode: "markers", name: t("legend.target"), x: coordinate(0), y: snap.dims > 1 ? coordinate(1) : snap.labels.map(() => 0), z: three ? coordinate(2) : undefined, marker: { size: three ? 3 : 6, color: snap.labels, colorscale: VALUE_COLORSCALE, cmin: -1, cmax: 1, opacity: 0.8 } });
      }
      const byLabel = new Map();
      if (snap.target !== "value") snap.labels.forEach((label, i) => {
        if (!byLabel.has(label)) byLabel.set(label, { x: [], y: [], z: [] });
        const group = byLabel.get(label);
        group.x.push(points[i * snap.dims]);
        group.y.push(snap.dims > 1 ? points[i * snap.dims + 1] : 0);
        if (three) group.z.push(points[i * snap.dims + 2]);
      });
      for (const [label, g] of [...byLabel].sort((a, b) => a[0] - b[0])) {
        traces.push({ type: three ? "scatter3d" : "scattergl", mode: "markers", name: classNames && classNames[label] !== undefined ? escape(classNames[label]) : say("legend.class", { n: label }), x: g.x, y: g.y, z: three ? g.z : undefined, marker: { size: three ? 3 : 6, color: CLASS_COLORS[label % 10], opacity: 0.8 } });
      }
      bar.querySelector("[name=which]").textContent = say("embedding.at", { tap: tapName(snap.tag), step: snap.step, share: (100 * snap.explained[0]).toFixed(0) });
    }
    // in 3-D the scene's own axes: principal components too, not x, y and z
    const scene = { xaxis: { title: { text: "PC1" } }, yaxis: { title: { text: "PC2" } }, zaxis: { title: { text: "PC3" } } };
    plotOrWait(plot, traces, baseLayout({ scene, xaxis: { ...baseLayout().xaxis, title: { text: "PC1" } }, yaxis: { ...baseLayout().yaxis, title: { text: "PC2" } } }), t("chart.waiting"));
  }
  const redraw = drawer(plot, draw, { minIntervalMs: 500 });

  function append(events) {
    let added = false;
    for (const event of events) {
      if (event.type !== "embedding") continue;
      snapshots.push(event);
      added = true;
    }
    if (!added) return;
    slider.max = snapshots.length - 1;
    if (following) slider.value = snapshots.length - 1;
    redraw();
  }

  slider.addEventListener("input", () => {
    following = Number(slider.value) === snapshots.length - 1;
    redraw(true);
  });
  bar.addEventListener("change", () => redraw(true));
  reset();
  return { reset, append, snapshotCount: () => snapshots.length, relayout: () => redraw(true) };
}

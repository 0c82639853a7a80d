// Histograms of activations, weights and gradients per layer: the latest one, and all of them over
// time as a heatmap on a common value axis (TensorBoard's distribution view).
import { baseLayout, endsRun, plotOrWait } from "../decode.js";
import { say, t } from "../i18n.js";
import { drawer } from "./frames.js";

const ROWS = 40; // value bins of the heatmap

// A histogram's shares on `rows` equal rows over [lo, hi]: each bin's count is split among the rows it
// overlaps, in proportion (moving a bin whole to the row of its centre left empty rows, read as "no values
// here", wherever a snapshot's bins were wider than a row).
export function rebin({ min, max, counts }, lo, hi, rows) {
  const total = counts.reduce((a, b) => a + b, 0) || 1;
  const span = hi - lo || 1;
  const row = (value) => ((value - lo) / span) * rows; // a value's position, in rows
  const out = new Array(rows).fill(0);
  const width = (max - min) / counts.length;
  counts.forEach((count, i) => {
    if (!count) return;
    const from = row(min + i * width);
    const to = row(min + (i + 1) * width);
    if (to - from <= 0) {
      out[Math.min(rows - 1, Math.max(0, Math.floor(from)))] += count / total;
      return;
    }
    for (let r = Math.max(0, Math.floor(from)); r < Math.min(rows, Math.ceil(to)); r += 1) {
      out[r] += ((count / total) * (Math.min(to, r + 1) - Math.max(from, r))) / (to - from);
    }
  });
  return out;
}
const MAX_SNAPSHOTS = 200;

export function mount(el) {
  el.classList.add("chart-block");
  const bar = document.createElement("div");
  bar.className = "chart-bar";
  bar.innerHTML = `
    <label><span data-i18n="chart.of">Of</span> <select name="kind"><option value="act" data-i18n="hist.act">activations</option><option value="weight" data-i18n="hist.weight">weights</option><option value="grad" data-i18n="hist.grad">gradients</option></select></label>
    <label><span data-i18n="chart.layer">Layer</span> <select name="layer"></select></label>`;
  const latest = Object.assign(document.createElement("div"), { className: "plot half" });
  const heatmap = Object.assign(document.createElement("div"), { className: "plot half" });
  latest.dataset.testid = "histogram-latest";
  heatmap.dataset.testid = "histogram-heatmap";
  const row = Object.assign(document.createElement("div"), { className: "row" });
  row.append(latest, heatmap);
  el.replaceChildren(bar, row);
  const layerSelect = bar.querySelector("[name=layer]");
  let snapshots; // tag -> [{step, min, max, counts}]
  let ended = false; // its run ended: none now means none recorded

  function reset() {
    snapshots = new Map();
    ended = false;
    layerSelect.replaceChildren();
    draw();
  }

  const tag = () => `${bar.querySelector("[name=kind]").value}/${layerSelect.value}`;

  function draw() {
    const list = snapshots.get(tag()) || [];
    const last = list[list.length - 1];
    const bars = [];
    if (last) {
      const width = (last.max - last.min) / last.counts.length;
      bars.push({ type: "bar", x: last.counts.map((_, i) => last.min + (i + 0.5) * width), y: last.counts, width, marker: { color: "#1f77b4" }, name: `${t("axis.step")} ${last.step}` });
    }
    const none = t(ended ? "chart.notRecorded" : "hist.none");
    plotOrWait(latest, bars, baseLayout({ title: { text: last ? say("hist.at", { tag: tag(), step: last.step }) : none, font: { size: 13 } }, xaxis: { ...baseLayout().xaxis, title: { text: t("axis.value") } }, yaxis: { ...baseLayout().yaxis, title: { text: t("axis.count") } }, bargap: 0 }), none);

    const traces = [];
    if (list.length) {
      // a common value axis for every snapshot, each snapshot's bins spread over it by overlap
      const lo = Math.min(...list.map((s) => s.min));
      const hi = Math.max(...list.map((s) => s.max));
      const span = hi - lo || 1;
      const z = Array.from({ length: ROWS }, () => new Array(list.length).fill(0));
      list.forEach((s, col) => rebin(s, lo, hi, ROWS).forEach((share, r) => { z[r][col] = share; }));
      traces.push({ type: "heatmap", x: list.map((s) => s.step), y: Array.from({ length: ROWS }, (_, r) => lo + ((r + 0.5) * span) / ROWS), z, colorscale: "Viridis", colorbar: { title: { text: t("axis.share") }, thickness: 10 } });
    }
    plotOrWait(heatmap, traces, baseLayout({ title: { text: t("hist.overTime"), font: { size: 13 } }, xaxis: { ...baseLayout().xaxis, title: { text: t("axis.step") } }, yaxis: { ...baseLayout().yaxis, title: { text: t("axis.value") } } }), t(ended ? "chart.notRecorded" : "chart.waiting"));
  }
  const redraw = drawer(el, draw, { minIntervalMs: 500 });

  function append(events) {
    let changed = !ended && endsRun(events);
    ended ||= changed;
    for (const event of events) {
      if (event.type !== "histogram") continue;
      changed = true;
      if (!snapshots.has(event.tag)) snapshots.set(event.tag, []);
      const list = snapshots.get(event.tag);
      list.push({ step: event.step, min: event.min, max: event.max, counts: event.counts });
      if (list.length > MAX_SNAPSHOTS) snapshots.set(event.tag, list.filter((_, i) => i % 2 === 0 || i === list.length - 1));
      const layer = event.tag.split("/")[1];
      if (![...layerSelect.options].some((o) => o.value === layer)) layerSelect.add(new Option(layer, layer));
    }
    if (changed) redraw();
  }

  bar.addEventListener("change", () => redraw(true));
  reset();
  return { reset, append, snapshotCount: () => (snapshots.get(tag()) || []).length, relayout: () => redraw(true) };
}

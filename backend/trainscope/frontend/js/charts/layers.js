// Per-layer figures over time: gradient norm (log), dead-unit fraction, saturation, weight norm.
import { baseLayout, endsRun, plotOrWait } from "../decode.js";
import { t } from "../i18n.js";
import { drawer } from "./frames.js";
import { runColors } from "./palette.js";
import { Series } from "./series.js";

const PANELS = [
  { key: "grad_norm", title: "gradient norm", log: true },
  { key: "dead_fraction", title: "dead units", range: [0, 1.02] },
  { key: "saturation", title: "saturation", range: [0, 1.02] },
  { key: "weight_norm", title: "weight norm" },
];

export function mount(el) {
  el.dataset.testid = "layers-chart";
  let series; // key -> layer -> Series
  let ended = false; // its run ended: none now means none recorded
  let revision = 0; // Plotly.react only redraws arrays that changed identity, or a new datarevision

  function reset() {
    series = Object.fromEntries(PANELS.map((p) => [p.key, new Map()]));
    ended = false;
    draw();
  }

  function draw() {
    const traces = [];
    const layout = baseLayout({ grid: { rows: 2, columns: 2, pattern: "independent" }, margin: { l: 50, r: 10, t: 30, b: 35 }, showlegend: true, datarevision: ++revision });
    PANELS.forEach((panel, i) => {
      const axis = i === 0 ? "" : String(i + 1);
      // a colour-blind-safe colour per layer (hues 47 degrees apart made fc1 and fc2 two near-identical greens)
      const colors = runColors(series[panel.key].size);
      [...series[panel.key]].forEach(([name, s], layerIndex) => {
        traces.push({ name, legendgroup: name, showlegend: i === 0, x: s.x, y: s.y, xaxis: `x${axis}`, yaxis: `y${axis}`, mode: "lines", line: { width: 1.5, color: colors[layerIndex] } });
      });
      layout[`yaxis${axis}`] = { ...baseLayout().yaxis, title: { text: t(`layers.${panel.key}`, panel.title), font: { size: 12 } }, type: panel.log ? "log" : "linear", dtick: panel.log ? 1 : undefined, exponentformat: "power", range: panel.range };
      layout[`xaxis${axis}`] = { ...baseLayout().xaxis, title: i >= 2 ? { text: t("axis.step"), font: { size: 12 } } : undefined };
    });
    plotOrWait(el, traces, layout, t(ended ? "chart.notRecorded" : "chart.waiting"));
  }
  const redraw = drawer(el, draw, { minIntervalMs: 500 });

  function append(events) {
    let changed = !ended && endsRun(events);
    ended ||= changed;
    for (const event of events) {
      if (event.type !== "layers") continue;
      changed = true;
      for (const layer of event.layers) {
        for (const panel of PANELS) {
          const value = layer[panel.key];
          if (value === null || value === undefined) continue;
          if (!series[panel.key].has(layer.name)) series[panel.key].set(layer.name, new Series(1000));
          series[panel.key].get(layer.name).push(event.step, panel.log ? Math.max(value, 1e-12) : value);
        }
      }
    }
    if (changed) redraw();
  }

  reset();
  return { reset, append, traceCount: () => el.data.length, relayout: () => redraw(true) };
}

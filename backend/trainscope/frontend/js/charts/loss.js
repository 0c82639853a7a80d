// Loss and accuracy, train and validation, with smoothing, a log-scale toggle and a choice of x
// (step, samples seen, wall time); markers where the rate changed and where the run diverged.
import { LOSS_TICKS, baseLayout, plotOrWait } from "../decode.js";
import { t } from "../i18n.js";
import { drawer } from "./frames.js";
import { Series } from "./series.js";
import { minMaxIndices, smooth } from "./thin.js";

// the tags this chart draws; every other figure goes to charts/figures.js
export const LOSS_TAGS = ["train/loss", "val/loss", "train/acc", "val/acc"];

export function mount(el, options = {}) {
  el.classList.add("chart-block");
  const bar = document.createElement("div");
  bar.className = "chart-bar";
  bar.innerHTML = `
    <label><span data-i18n="chart.smoothing">Smoothing</span> <input type="range" name="smoothing" min="0" max="0.99" step="0.01" value="0.6"></label>
    <label><input type="checkbox" name="log"> <span data-i18n="chart.logScale">log scale</span></label>
    <label><span data-i18n="chart.x">x</span> <select name="x"><option value="step" data-i18n="axis.step">step</option><option value="samples" data-i18n="axis.samples">samples seen</option><option value="time" data-i18n="axis.time">wall time (s)</option></select></label>`;
  const plot = document.createElement("div");
  plot.className = "plot";
  plot.dataset.testid = "loss-chart";
  el.replaceChildren(bar, plot);
  let state;

  function reset(context = {}) {
    state = {
      batch: context.batchSize || 1,
      startWall: null,
      train: { steps: [], values: [], walls: [] }, // every point: thinned for drawing, smoothed raw
      val: new Series(1000),
      trainAcc: new Series(1000),
      valAcc: new Series(1000),
      markers: [],
    };
    draw();
  }

  function xOf(step, wall) {
    const mode = bar.querySelector("[name=x]").value;
    if (mode === "samples") return step * state.batch;
    if (mode === "time") return wall - state.startWall;
    return step;
  }

  function draw() {
    const s = state;
    const xs = (series) => series.x.map((step, i) => xOf(step, series.extra[i]));
    const { steps, values, walls } = s.train;
    const kept = minMaxIndices(steps, values);
    const smoothed = smooth(steps, values, Number(bar.querySelector("[name=smoothing]").value));
    const trainX = kept.map((i) => xOf(steps[i], walls[i]));
    const traces = [
      { name: t("legend.trainLoss"), x: trainX, y: kept.map((i) => values[i]), mode: "lines", line: { width: 1 }, opacity: 0.35, showlegend: false, hoverinfo: "skip", legendgroup: "train" },
      { name: t("legend.trainLoss"), x: trainX, y: kept.map((i) => smoothed[i]), mode: "lines", line: { width: 2, color: "#1f77b4" }, legendgroup: "train" },
      { name: t("legend.valLoss"), x: xs(s.val), y: s.val.y, mode: "lines+markers", line: { width: 2, color: "#ff7f0e" }, marker: { size: 4 } },
      { name: t("legend.trainAcc"), x: xs(s.trainAcc), y: s.trainAcc.y, yaxis: "y2", mode: "lines", line: { dash: "dot", color: "#1f77b4" } },
      { name: t("legend.valAcc"), x: xs(s.valAcc), y: s.valAcc.y, yaxis: "y2", mode: "lines", line: { dash: "dot", color: "#ff7f0e" } },
    ];
    const shapes = [];
    const annotations = [];
    for (const m of s.markers) {
      const x = xOf(m.step, m.wall);
      shapes.push({ type: "line", x0: x, x1: x, yref: "paper", y0: 0, y1: 1, line: { color: m.color, dash: "dash", width: 1.5 } });
      annotations.push({ x, yref: "paper", y: 1, text: m.kind === "diverged" ? t("marker.diverged") : m.text, showarrow: false, xanchor: "left", yanchor: "top", font: { color: m.color, size: 12 } });
    }
    const mode = bar.querySelector("[name=x]").value;
    const layout = baseLayout({
      shapes,
      annotations,
      xaxis: { ...baseLayout().xaxis, title: { text: t(mode === "samples" ? "axis.samples" : mode === "time" ? "axis.seconds" : "axis.step") } },
      yaxis: { ...baseLayout().yaxis, ...LOSS_TICKS, title: { text: t("axis.loss") }, type: bar.querySelector("[name=log]").checked ? "log" : "linear" },
      // a run that predicts a value has no accuracy: no empty axis for it
      yaxis2: { title: { text: t("axis.accuracy") }, overlaying: "y", side: "right", range: [0, 1.02], showgrid: false, tickformat: ".0%", dtick: 0.25, tickmode: "linear", visible: s.valAcc.y.length + s.trainAcc.y.length > 0 },
      margin: { l: 55, r: 55, t: 30, b: 45 },
    });
    plotOrWait(plot, traces, layout, t("chart.waiting"));
  }
  // 8,000 points redrawn take tens of ms: while a run streams, four times a second is enough
  const redraw = drawer(plot, draw, { minIntervalMs: 250 });

  function append(events) {
    let changed = false;
    for (const event of events) {
      if (state.startWall === null) state.startWall = event.wall;
      if (event.type === "scalars") {
        changed = true;
        for (const p of event.points) {
          const v = p.values;
          if (v["train/loss"] !== undefined) {
            state.train.steps.push(p.step);
            state.train.values.push(v["train/loss"]);
            state.train.walls.push(event.wall);
          }
          if (v["val/loss"] !== undefined) state.val.push(p.step, v["val/loss"], event.wall);
          if (v["val/acc"] !== undefined) state.valAcc.push(p.step, v["val/acc"], event.wall);
          if (v["train/acc"] !== undefined) state.trainAcc.push(p.step, v["train/acc"], event.wall);
        }
      } else if (event.type === "control" && event.action === "set_lr") {
        state.markers.push({ step: event.step, wall: event.wall, text: `lr ${event.previous} → ${event.lr}`, color: "#7b1fa2", kind: "lr" });
        changed = true;
      } else if (event.type === "status" && event.status === "diverged") {
        const step = event.detail && event.detail.diverged_step ? event.detail.diverged_step : event.step;
        state.markers.push({ step, wall: event.wall, text: "diverged", color: "#d32f2f", kind: "diverged" });
        changed = true;
      }
    }
    if (changed) redraw();
  }

  bar.addEventListener("input", () => redraw(true));
  bar.addEventListener("change", () => redraw(true));
  reset(options);
  return {
    reset,
    append,
    pointCount: () => state.train.steps.length,
    lastStep: () => state.train.steps.at(-1) || 0,
    markers: () => state.markers.map((m) => m.kind),
    relayout: () => redraw(true),
  };
}

// Compare-view panels that overlay runs as lines: losses, per-layer figures, histograms. Each panel is
// {wide, mount(el) -> {draw(runs)}}; a run carries its colour, label and the series compare.js kept.
import { ENDED } from "../api.js";
import { LOSS_TICKS, baseLayout, PLOT_CONFIG, plotOrWait } from "../decode.js";
import { t, translatePage } from "../i18n.js";
import { MEASURE_PANELS } from "./measures.js";
import { faint, plot, singlePanel } from "./panel.js";

function smooth(values, weight = 0.6) {
  let last = null;
  return values.map((v) => (last = last === null ? v : last * weight + v * (1 - weight)));
}

const axis = (title, extra = {}) => ({ ...baseLayout().xaxis, title: { text: title }, ...extra });

// Training loss per run (smoothed), x in steps, samples seen or seconds; a diverged run ends in an x.
function lossPanel(defaultX) {
  return {
    wide: false,
    mount(el) {
      const bar = document.createElement("div");
      bar.className = "chart-bar";
      bar.innerHTML = `<label><input type="checkbox" name="log" checked> <span data-i18n="chart.log">log</span></label>
        <label><span data-i18n="chart.x">x</span> <select name="x"><option value="step" data-i18n="axis.step">step</option><option value="samples" data-i18n="axis.samples">samples</option><option value="time" data-i18n="axis.seconds">s</option></select></label>`;
      translatePage(bar);
      bar.querySelector("[name=x]").value = defaultX;
      el.append(bar);
      const div = plot(el, `compare-loss-${defaultX}`);
      let last = [];
      bar.addEventListener("change", () => draw(last));
      function draw(runs) {
        last = runs;
        const mode = bar.querySelector("[name=x]").value;
        const x = (run, row) => (mode === "samples" ? row[0] * run.batch : mode === "time" ? row[2] - run.startWall : row[0]);
        const traces = [];
        for (const run of runs) {
          const rows = run.scalars["train/loss"] || [];
          traces.push(faint(run, { name: run.label, x: rows.map((r) => x(run, r)), y: smooth(rows.map((r) => r[1])), mode: "lines", line: { color: run.color, width: 2 } }));
          if (run.diverged !== null && rows.length) {
            const end = rows[rows.length - 1];
            traces.push({ name: `${run.label}: diverged`, x: [x(run, end)], y: [end[1]], mode: "markers", marker: { symbol: "x", size: 12, color: "#d32f2f" }, showlegend: false });
          }
        }
        const title = t(`axis.${mode}`);
        Plotly.react(div, traces, baseLayout({ xaxis: axis(title), yaxis: { ...baseLayout().yaxis, ...LOSS_TICKS, title: { text: t("axis.loss") }, type: bar.querySelector("[name=log]").checked ? "log" : "linear" } }), PLOT_CONFIG);
      }
      return { draw };
    },
  };
}

// Validation loss (solid) over training loss (dotted), with each run's early-stopping point: the step
// of its lowest validation loss, a star in the run's colour. The stars carry no text (four runs' "early
// stop" labels collided): one legend entry names them all, and each star's hover names its run and step.
const valLoss = singlePanel(
  "compare-val-loss",
  (div, runs) => {
    const traces = [];
    let starred = false;
    for (const run of runs) {
      // the whole training set scored with dropout off, where the run measured it; else the mini-batch losses
      const scored = run.scalars["train_eval/loss"];
      const train = scored || run.scalars["train/loss"] || [];
      const val = run.scalars["val/loss"] || [];
      const y = scored ? train.map((r) => r[1]) : smooth(train.map((r) => r[1]), 0.8);
      traces.push(faint(run, { name: `${run.label} ${t("legend.train")}`, x: train.map((r) => r[0]), y, mode: "lines", line: { color: run.color, dash: "dot", width: 1.5 } }));
      traces.push(faint(run, { name: `${run.label} ${t("legend.validation")}`, x: val.map((r) => r[0]), y: val.map((r) => r[1]), mode: "lines", line: { color: run.color, width: 2.5 } }));
      if (val.length && !run.replica) {
        const best = val.reduce((a, b) => (b[1] < a[1] ? b : a));
        traces.push({ name: t("note.early"), legendgroup: "early", showlegend: !starred, x: [best[0]], y: [best[1]], mode: "markers", text: [run.label], hovertemplate: `%{text}: ${t("note.early")}, ${t("axis.step")} %{x}<extra></extra>`, marker: { symbol: "star", size: 14, color: run.color, line: { width: 1, color: "#000" } } });
        starred = true;
      }
    }
    Plotly.react(div, traces, baseLayout({ xaxis: axis(t("axis.step")), yaxis: { ...baseLayout().yaxis, ...LOSS_TICKS, type: "log", title: { text: t("axis.loss") } } }), PLOT_CONFIG);
  },
);

// Gradient norm per layer, log scale: the first sample (initial weights, dotted) and the latest (solid).
const layerGrads = singlePanel(
  "compare-layer-grads",
  (div, runs) => {
    const traces = [];
    for (const run of runs) {
      for (const [event, dash, suffix] of [[run.layersFirst, "dot", " (start)"], [run.layersLatest, "solid", ""]]) {
        if (!event) continue;
        traces.push(faint(run, { name: run.label + suffix, x: event.layers.map((l) => l.name), y: event.layers.map((l) => l.grad_norm), mode: "lines+markers", line: { color: run.color, dash }, showlegend: dash === "solid" }));
      }
    }
    // the key above the plot (under it, the legend's rows clipped it)
    const annotations = [{ text: t("note.start"), xref: "paper", yref: "paper", x: 0, y: 1, yanchor: "bottom", showarrow: false, xanchor: "left", font: { size: 11 } }];
    // the layers in the network's order, from the deepest run's (a category axis orders by first appearance)
    const order = runs.map((run) => (run.layersLatest ? run.layersLatest.layers.map((l) => l.name) : [])).reduce((a, b) => (b.length > a.length ? b : a), []);
    Plotly.react(div, traces, baseLayout({ annotations, xaxis: axis(t("axis.layer"), { categoryorder: "array", categoryarray: order }), yaxis: { ...baseLayout().yaxis, type: "log", exponentformat: "e", title: { text: "‖grad‖" } } }), PLOT_CONFIG);
  },
);

// Dead-unit fraction of each hidden layer over time: one colour per run, one dash per layer.
const DASHES = ["solid", "dash", "dot", "dashdot", "longdash", "longdashdot"];
const dead = singlePanel(
  "compare-dead",
  (div, runs) => {
    const traces = runs.flatMap((run) =>
      Object.entries(run.dead).map(([layer, rows], i) => faint(run, {
        name: `${run.label} ${layer}`, x: rows.map((r) => r[0]), y: rows.map((r) => r[1]),
        mode: "lines+markers", marker: { size: 4 }, line: { color: run.color, dash: DASHES[i % DASHES.length] },
      })),
    );
    Plotly.react(div, traces, baseLayout({ xaxis: axis(t("axis.step")), yaxis: { ...baseLayout().yaxis, range: [0, 1.02], tickformat: ".0%" } }), PLOT_CONFIG);
  },
);

// The latest histogram of one layer per run, as density lines over the bins (a layer selector).
function histogramPanel(kind) {
  return {
    wide: false,
    mount(el) {
      const bar = document.createElement("div");
      bar.className = "chart-bar";
      bar.innerHTML = `<label>${t("axis.layer")} <select name="layer"></select></label>`;
      el.append(bar);
      const select = bar.querySelector("select");
      const div = plot(el, `compare-${kind}-histograms`);
      let last = [];
      select.addEventListener("change", () => draw(last));
      function draw(runs) {
        last = runs;
        const tags = [...new Set(runs.flatMap((run) => Object.keys(run.histograms).filter((tag) => tag.startsWith(`${kind}/`))))];
        if (tags.length !== select.options.length) {
          const keep = select.value;
          select.replaceChildren(...tags.map((tag) => new Option(tag.slice(kind.length + 1), tag)));
          select.value = tags.includes(keep) ? keep : tags[kind === "act" ? tags.length - 2 : 0] || tags[0] || "";
        }
        const traces = [];
        for (const run of runs) {
          const h = run.histograms[select.value];
          if (!h) continue;
          const total = h.counts.reduce((a, b) => a + b, 0) || 1;
          const width = (h.max - h.min) / h.counts.length || 1;
          const x = h.counts.map((_, i) => h.min + (i + 0.5) * width);
          traces.push(faint(run, { name: run.label, x, y: h.counts.map((c) => c / total / width), mode: "lines", line: { color: run.color, shape: "hvh" } }));
        }
        const waiting = runs.length && runs.every((run) => ENDED.has(run.status) || run.status === "deleted") ? "chart.notRecordedRuns" : "chart.waiting";
        plotOrWait(div, traces, baseLayout({ xaxis: axis(select.value), yaxis: { ...baseLayout().yaxis, title: { text: t("axis.density") } } }), t(waiting));
      }
      return { draw };
    },
  };
}

export const PANELS = {
  loss: lossPanel("step"),
  loss_samples: lossPanel("samples"),
  val_loss: valLoss,
  layer_grads: layerGrads,
  dead,
  act_histograms: histogramPanel("act"),
  weight_histograms: histogramPanel("weight"),
  ...MEASURE_PANELS,
};

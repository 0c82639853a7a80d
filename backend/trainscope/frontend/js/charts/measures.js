// Compare-view panels for the lessons' one-off measurements: boundaries and the network per run, the
// collapsed linear map, the gradient check, loss surfaces with paths, test-score selection, batch-norm
// statistics, gradient variance, throughput and a step's memory.
import { baseLayout, floats, PLOT_CONFIG } from "../decode.js";
import { mount as mountBoundary } from "./boundary.js";
import { mount as mountEmbedding } from "./embedding.js";
import { mount as mountNetwork } from "./network.js";
import { parameterTable } from "./parameters.js";
import { mount as mountPictures } from "./pictures.js";
import { escape } from "../html.js";
import { language, say, t } from "../i18n.js";
import { plot, singlePanel } from "./panel.js";

const fmt = (v, digits = 4) => (typeof v === "number" ? (Math.abs(v) >= 1e4 || (Math.abs(v) < 1e-3 && v !== 0) ? v.toExponential(2) : v.toFixed(digits)) : String(v));
const latest = (run, name) => {
  const list = run.analyses[name];
  return list ? list[list.length - 1] : null;
};

// One small chart per run, fed with that run's events as they arrive (boundary and network views).
function perRun(mountChart, testid, first = false, bodyClass = "plot") {
  return {
    wide: true,
    mount(el) {
      const grid = document.createElement("div");
      grid.className = "small-multiples";
      grid.dataset.testid = testid;
      el.append(grid);
      const charts = new Map();
      return {
        draw(runs) {
          for (const run of first ? runs.slice(0, 1) : runs) {
            let entry = charts.get(run.index);
            if (!entry) {
              const cell = document.createElement("div");
              const title = document.createElement("h4");
              title.innerHTML = `<span class="swatch" style="background:${run.color}"></span>`;
              const name = document.createElement("span");
              title.append(name);
              const body = document.createElement("div");
              body.className = bodyClass;
              cell.append(title, body);
              grid.append(cell);
              entry = { chart: mountChart(body, run), fed: 0, name, language: language() };
              charts.set(run.index, entry);
            }
            if (entry.name.textContent !== run.label) entry.name.textContent = run.label; // the language changed
            if (entry.language !== language()) {
              entry.language = language();
              entry.chart.relayout?.(); // its legend and axes in the new language
            }
            if (run.events.length > entry.fed) {
              entry.chart.append(run.events.slice(entry.fed));
              entry.fed = run.events.length;
            }
          }
        },
      };
    },
  };
}

function table(el, rows, head) {
  const tableEl = document.createElement("table");
  tableEl.className = "figures";
  const headRow = head ? `<tr>${head.map((h) => `<th>${h}</th>`).join("")}</tr>` : "";
  tableEl.innerHTML = headRow + rows.map((row) => `<tr>${row.map((cell) => `<td>${cell}</td>`).join("")}</tr>`).join("");
  el.replaceChildren(tableEl);
}

const collapse = singlePanel(
  "compare-collapse",
  (box, runs) => {
    const found = runs.map((run) => [run, latest(run, "linear_collapse")]).find(([, a]) => a);
    if (!found) return;
    const [run, event] = found;
    const w = event.data.weight.map((row, i) => `[${row.map((v) => fmt(v, 3)).join(", ")}] · x + ${fmt(event.data.bias[i], 3)}`);
    table(box, [
      [`${run.label}: W x + b = W_L ⋯ W_1 x + b`, w.join("<br>")],
      ["max |network − W x − b|", fmt(event.figures.max_abs_diff)],
      ["same predicted class", `${(100 * event.figures.prediction_agreement).toFixed(1)}% of ${event.figures.examples}`],
    ]);
  },
  "", // a table, not a plot
);

const gradcheck = singlePanel(
  "compare-gradcheck",
  (box, runs) => {
    const event = runs.map((run) => latest(run, "gradient_check")).find(Boolean);
    if (!event) return;
    const rows = event.data.checks.map((c) => [c.layer, `[${c.index.join(", ")}]`, fmt(c.autograd, 8), fmt(c.numeric, 8), fmt(c.relative)]);
    table(box, rows, ["layer", "weight", "autograd", "(L(w+ε) − L(w−ε)) / 2ε", "relative error"]);
  },
  "", // a table, not a plot
);

// Loss surfaces (log-scaled contours), one per experiment that draws one (a lesson may race on two test
// functions), with every run's path on its own surface.
function drawSurface(div, runs, title) {
  const event = runs.map((run) => latest(run, "surface")).find(Boolean);
  if (!event) return;
  const d = event.data;
  const n = d.grid;
  const values = floats(d.values);
  const line = (range) => Array.from({ length: n }, (_, i) => range[0] + (i * (range[1] - range[0])) / (n - 1));
  const z = Array.from({ length: n }, (_, r) => Array.from(values.subarray(r * n, (r + 1) * n), (v) => Math.log10(v + 1e-3)));
  const traces = [{ type: "contour", x: line(d.x_range), y: line(d.y_range), z, colorscale: "Greys", reversescale: true, showscale: false, contours: { coloring: "lines" }, hoverinfo: "skip", name: "log10 loss" }];
  traces.push({ x: [d.minimum[0]], y: [d.minimum[1]], mode: "markers", marker: { symbol: "star", size: 14, color: "#000" }, name: "minimum" });
  runs.forEach((run, index) => {
    const xs = run.scalars["path/x"] || [];
    const ys = run.scalars["path/y"] || [];
    // paths that share a valley lie on top of each other: each run drawn thinner than the one under it,
    // so that every one still shows at its edges
    const width = 2 + 2 * (runs.length - 1 - index);
    traces.push({ name: run.label, x: xs.map((r) => r[1]), y: ys.map((r) => r[1]), mode: "lines+markers", marker: { size: 3 + width / 2 }, line: { color: run.color, width } });
    if (run.diverged !== null && xs.length) traces.push({ x: [xs[xs.length - 1][1]], y: [ys[ys.length - 1][1]], mode: "markers", marker: { symbol: "x", size: 12, color: "#d32f2f" }, showlegend: false, name: `${run.label}: diverged` });
  });
  const names = d.objective === "linreg" ? ["weight", "bias"] : ["x", "y"];
  const layout = baseLayout({
    title: { text: title, font: { size: 13 } },
    xaxis: { ...baseLayout().xaxis, range: d.x_range, title: { text: names[0] } },
    yaxis: { ...baseLayout().yaxis, range: d.y_range, title: { text: names[1] } },
  });
  Plotly.react(div, traces, layout, PLOT_CONFIG);
}

const surface = {
  wide: false,
  mount(el) {
    const grid = document.createElement("div");
    grid.className = "small-multiples fill"; // two races share the panel's width, not two of three columns
    el.append(grid);
    const plots = new Map(); // part -> its plot
    return {
      draw(runs) {
        const parts = [...new Set(runs.map((run) => run.part))];
        for (const part of parts) {
          if (!plots.has(part)) plots.set(part, plot(grid, "compare-surface", "plot tall"));
          const mine = runs.filter((run) => run.part === part);
          drawSurface(plots.get(part), mine, parts.length > 1 ? mine[0].partName : "");
        }
      },
    };
  },
};

// Each run's test score against its fresh held-out score; the run that selection by test would pick is
// ringed. Points below the diagonal did worse on fresh data than their test score said.
const selection = singlePanel(
  "compare-selection",
  (div, runs) => {
    const scored = runs.filter((r) => r.summary["test/acc"] !== undefined && r.summary["holdout/acc"] !== undefined);
    if (!scored.length) return;
    // selection happens within one split of the data: the best test score of each split is ringed
    const splits = new Map();
    for (const r of scored) {
      const split = (r.changes && r.changes["data.split_index"]) || 0;
      const best = splits.get(split);
      if (!best || r.summary["test/acc"] > best.summary["test/acc"]) splits.set(split, r);
    }
    const chosen = [...splits.values()];
    const all = scored.flatMap((r) => [r.summary["test/acc"], r.summary["holdout/acc"]]);
    const lo = Math.min(...all) - 0.01;
    const hi = Math.max(...all) + 0.01;
    const traces = [
      { x: [lo, hi], y: [lo, hi], mode: "lines", line: { dash: "dash", color: "#999" }, name: "test = fresh", hoverinfo: "skip" },
      { x: scored.map((r) => r.summary["test/acc"]), y: scored.map((r) => r.summary["holdout/acc"]), text: scored.map((r) => r.label), mode: "markers", marker: { size: 9, color: scored.map((r) => r.color) }, name: "runs" },
      { x: chosen.map((r) => r.summary["test/acc"]), y: chosen.map((r) => r.summary["holdout/acc"]), text: chosen.map((r) => r.label), mode: "markers", marker: { size: 20, color: "rgba(0,0,0,0)", line: { width: 2, color: "#d32f2f" } }, name: chosen.length > 1 ? "chosen by test, per split" : "chosen by test" },
    ];
    Plotly.react(div, traces, baseLayout({ xaxis: { ...baseLayout().xaxis, title: { text: "test accuracy (used to choose)" }, tickformat: ".0%" }, yaxis: { ...baseLayout().yaxis, title: { text: "fresh held-out accuracy" }, tickformat: ".0%" } }), PLOT_CONFIG);
  },
);

// The first batch-norm layer's running mean against the validation batch's mean per unit, and the
// accuracy of eval mode vs train mode on single examples.
const bn = {
  wide: false,
  mount(el) {
    const div = plot(el, "compare-bn");
    const box = plot(el, "compare-bn-figures", "");
    return {
      draw(runs) {
        const found = runs.map((run) => [run, latest(run, "bn_modes")]).find(([, a]) => a);
        if (!found) return;
        const [run, event] = found;
        const stat = (name) => Array.from(floats(event.data[name]));
        const [runningMean, batchMean, runningVar, batchVar] = ["running_mean", "batch_mean", "running_var", "batch_var"].map(stat);
        const all = [...runningMean, ...batchMean, ...runningVar, ...batchVar];
        const lo = Math.min(...all);
        const hi = Math.max(...all);
        Plotly.react(div, [
          { x: [lo, hi], y: [lo, hi], mode: "lines", line: { dash: "dash", color: "#999" }, name: "equal", hoverinfo: "skip" },
          { x: batchMean, y: runningMean, mode: "markers", marker: { color: run.color }, name: "mean, per unit of layer 1" },
          { x: batchVar, y: runningVar, mode: "markers", marker: { color: run.color, symbol: "triangle-up" }, name: "variance" },
        ], baseLayout({ xaxis: { ...baseLayout().xaxis, title: { text: "validation batch statistic" } }, yaxis: { ...baseLayout().yaxis, title: { text: "running statistic" } } }), PLOT_CONFIG);
        table(box, [
          ["eval mode (running statistics)", `${(100 * event.figures.eval_mode_acc).toFixed(1)}%`],
          ["train mode, one example at a time", `${(100 * event.figures.train_mode_single_acc).toFixed(1)}%`],
        ]);
      },
    };
  },
};

// Mini-batch gradient variance at the shared start against batch size, log-log, with the 1/B line and
// the curve for batches drawn without replacement from N examples, 1/B * (N-B)/(N-1), both through the
// smallest batch's point.
const variance = singlePanel(
  "compare-variance",
  (div, runs) => {
    const points = runs.map((run) => [run, (run.analyses.grad_variance || [])[0]]).filter(([, a]) => a);
    if (!points.length) return;
    const sizes = points.map(([, a]) => a.figures.batch_size);
    const values = points.map(([, a]) => a.figures.variance);
    const n = points[0][1].figures.train_size;
    const shrink = (b) => (n ? (n - b) / (n - 1) : 1);
    const reference = sizes.map((b) => (values[0] * sizes[0]) / b);
    const drawn = sizes.map((b) => (values[0] * sizes[0] * shrink(b)) / (b * shrink(sizes[0])));
    Plotly.react(div, [
      { x: sizes, y: reference, mode: "lines", line: { dash: "dash", color: "#999" }, name: "∝ 1/B" },
      ...(n ? [{ x: sizes, y: drawn, mode: "lines", line: { dash: "dot", color: "#555" }, name: `∝ (N−B)/(B(N−1)), N=${n}` }] : []),
      { x: sizes, y: values, mode: "markers+lines", marker: { size: 10, color: points.map(([run]) => run.color) }, line: { color: "#555" }, name: "measured" },
    ], baseLayout({ xaxis: { ...baseLayout().xaxis, type: "log", title: { text: "batch size B" } }, yaxis: { ...baseLayout().yaxis, type: "log", exponentformat: "e", title: { text: "E‖g_B − g‖²" } } }), PLOT_CONFIG);
  },
);

// Each run's samples/s as a bar; a data-parallel run's ranks each add a bar of their own share's rate
// (rank0/samples_per_s...), beside the runs' totals
const RANK_RATE = /^rank(\d+)\/samples_per_s$/;
const throughput = singlePanel(
  "compare-throughput",
  (div, runs) => {
    const done = runs.filter((run) => run.summary.steps_per_s);
    if (!done.length) return;
    const rates = done.map((r) => r.summary.steps_per_s * r.batch);
    const ranks = [...new Set(done.flatMap((r) => Object.keys(r.summary).filter((tag) => RANK_RATE.test(tag))))];
    ranks.sort((a, b) => Number(a.match(RANK_RATE)[1]) - Number(b.match(RANK_RATE)[1]));
    const all = [...rates, ...ranks.flatMap((tag) => done.map((r) => r.summary[tag]).filter((v) => v > 0))];
    // bars start at zero, so that 1,830 beside 2,640 reads as two-thirds; a log axis only where the
    // rates span more than a decade (batch sizes 1 to 1024)
    const log = Math.max(...all) / Math.min(...all) > 10;
    const yaxis = { ...baseLayout().yaxis, type: log ? "log" : "linear", rangemode: "tozero", title: { text: "samples/s" } };
    const bar = (y, name, color) => ({ type: "bar", x: done.map((r) => r.label), y, text: y.map((v) => (v ? Math.round(v).toLocaleString() : "")), textposition: "outside", marker: { color }, name });
    const traces = [bar(rates, t("chart.allRanks"), done.map((r) => r.color))];
    ranks.forEach((tag, i) => {
      const rank = tag.match(RANK_RATE)[1];
      traces.push(bar(done.map((r) => r.summary[tag] ?? null), say("chart.rank", { rank }), `rgba(85, 85, 85, ${0.75 - 0.45 * (i / Math.max(1, ranks.length - 1))})`));
    });
    Plotly.react(div, traces, baseLayout({ yaxis, barmode: "group", showlegend: ranks.length > 0 }), PLOT_CONFIG);
  },
);

// Each run's first training step, part by part as measured (stacked bars), beside the total estimated
// from its settings before it ran (a marker): where a step's memory goes, and how well it was foreseen
const MEMORY_PARTS = ["parameters", "gradients", "optimizer_state", "saved_for_backward"];
const memory = singlePanel(
  "compare-memory",
  (div, runs) => {
    const measured = runs.map((run) => [run, latest(run, "memory")]).filter(([, event]) => event);
    if (!measured.length) return;
    const labels = measured.map(([run]) => run.label);
    const mb = (bytes) => bytes / 1e6;
    const shades = ["#4c78a8", "#9ecae9", "#f58518", "#54a24b"];
    const traces = MEMORY_PARTS.map((part, i) => ({
      type: "bar", name: t(`chart.memory.${part}`), x: labels, y: measured.map(([, e]) => mb(e.data.measured[part] || 0)), marker: { color: shades[i] },
    }));
    traces.push({
      type: "scatter", mode: "markers", name: t("chart.memory.estimate"), x: labels,
      y: measured.map(([, e]) => mb(e.data.estimate.total)), marker: { symbol: "line-ew-open", size: 36, color: "#222", line: { width: 3 } },
    });
    const peaks = measured.filter(([, e]) => e.data.measured.peak);
    if (peaks.length) traces.push({ type: "scatter", mode: "markers", name: t("chart.memory.peak"), x: peaks.map(([run]) => run.label), y: peaks.map(([, e]) => mb(e.data.measured.peak)), marker: { symbol: "diamond", size: 12, color: "#e45756" } });
    Plotly.react(div, traces, baseLayout({ barmode: "stack", yaxis: { ...baseLayout().yaxis, rangemode: "tozero", title: { text: "MB" } } }), PLOT_CONFIG);
  },
);

// Each run's final validation accuracy, grouped by the lesson's parts (in order, then shuffled...): a
// variation repeated on several seeds shows their mean
const accuracy = singlePanel(
  "compare-accuracy",
  (div, runs) => {
    const final = (run) => (run.scalars["val/acc"] || []).at(-1)?.[1];
    const scored = runs.filter((run) => final(run) !== undefined);
    if (!scored.length) return;
    const parts = [...new Set(scored.map((run) => run.partName))];
    const labels = [...new Set(scored.map((run) => run.label))];
    const traces = labels.map((label) => {
      const mine = scored.filter((run) => run.label === label);
      const y = parts.map((part) => {
        const values = mine.filter((run) => run.partName === part).map(final);
        return values.length ? values.reduce((a, b) => a + b, 0) / values.length : null;
      });
      return { type: "bar", name: label, x: parts, y, marker: { color: mine[0].color }, text: y.map((v) => (v === null ? "" : `${(100 * v).toFixed(1)}%`)), textposition: "outside" };
    });
    Plotly.react(div, traces, baseLayout({ barmode: "group", yaxis: { ...baseLayout().yaxis, range: [0, 1.1], tickformat: ".0%" } }), PLOT_CONFIG);
  },
);

// Each run's final validation error as a bar, on a log scale (an autoencoder's by code size spans decades)
const finalError = singlePanel(
  "compare-final-error",
  (div, runs) => {
    const scored = runs.map((run) => ({ run, value: (run.scalars["val/loss"] || []).at(-1)?.[1] })).filter((entry) => entry.value > 0);
    if (!scored.length) return;
    const trace = { type: "bar", x: scored.map(({ run }) => run.label), y: scored.map(({ value }) => value), marker: { color: scored.map(({ run }) => run.color) }, text: scored.map(({ value }) => value.toPrecision(2)), textposition: "outside", cliponaxis: false, showlegend: false };
    Plotly.react(div, [trace], baseLayout({ yaxis: { ...baseLayout().yaxis, type: "log", dtick: 1, title: { text: t("chart.finalError") } } }), PLOT_CONFIG);
  },
);

// Each run's layers: the parameters by formula next to torch's count
const parameters = singlePanel(
  "compare-parameters",
  (box, runs) => {
    const name = (run) => `<span class="swatch" style="background:${run.color}"></span>${escape(run.label)}`;
    const entries = runs.map((run) => ({ event: latest(run, "parameters"), name: name(run) })).filter((entry) => entry.event);
    if (entries.length) box.replaceChildren(parameterTable(entries));
  },
  "",
);

export const MEASURE_PANELS = {
  accuracy: { ...accuracy, wide: true },
  final_error: finalError,
  parameters,
  pictures: perRun(mountPictures, "compare-pictures", false, "pictures-view"), // as tall as its pictures
  boundary: perRun((el) => mountBoundary(el, { toggles: false }), "compare-boundaries"),
  embedding: perRun((el, run) => { // the projector asks the run's stored vectors for neighbours
    const chart = mountEmbedding(el);
    chart.reset({ job: run.job_id });
    return chart;
  }, "compare-embeddings"),
  network: perRun((el) => mountNetwork(el, { edges: "gradients" }), "compare-network", true), // where the gradient flows
  collapse,
  gradcheck,
  surface,
  race: { ...surface, wide: true },
  selection,
  bn,
  variance,
  throughput,
  memory,
};

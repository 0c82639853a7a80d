import { ENDED } from "./api.js";

// Arrays arrive as base64 little-endian float32 (compact and fast to parse).
export function floats(base64) {
  const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  return new Float32Array(bytes.buffer);
}

// A value to predict in [-1, 1]: blue-white-orange, orange positive as in the network view and for class 1
export const VALUE_COLORSCALE = [[0, "#0877bd"], [0.5, "#e8eaeb"], [1, "#f59322"]];

export const CLASS_COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];

// Theme-aware layout pieces shared by every chart.
export function baseLayout(extra = {}) {
  const css = getComputedStyle(document.body);
  const fg = css.getPropertyValue("--fg").trim() || "#222";
  const grid = css.getPropertyValue("--grid").trim() || "#e5e5e5";
  const size = Number(css.getPropertyValue("--chart-font")) || 13; // larger in projector mode
  const layout = {
    paper_bgcolor: "rgba(0,0,0,0)",
    plot_bgcolor: "rgba(0,0,0,0)",
    font: { color: fg, size },
    margin: { l: 55, r: 15, t: 30, b: 45 },
    xaxis: { gridcolor: grid, zerolinecolor: grid, automargin: true },
    yaxis: { gridcolor: grid, zerolinecolor: grid, automargin: true },
    // the legend at the foot of the figure, never over the curves: Plotly makes room for it there however
    // many runs it names (above the axes, three or more entries wrapped onto the plot)
    legend: { orientation: "h", x: 0, xanchor: "left", y: 0, yanchor: "bottom", yref: "container" },
    uirevision: "keep",
    ...extra,
  };
  // a log axis labels its decades, or 2 and 5 within a short range: never every digit (2 3 4 … 9 crowded
  // into one decade). Plotly spaces log ticks by range / nticks, so 3 here, unless a chart set its own.
  for (const [key, axis] of Object.entries(layout)) {
    if (/^[xy]axis\d*$/.test(key) && axis && axis.type === "log" && axis.dtick === undefined && axis.nticks === undefined) layout[key] = { ...axis, nticks: 3 };
  }
  return layout;
}

// No "Share chart…": plotly.js 4 offers every chart's data to Plotly Cloud by default, an upload to a
// third party from a classroom tool, and useless offline. Set for every chart the page draws.
const NO_CLOUD = { showSendToCloud: false, showEditInChartStudio: false, plotlyServerURL: "", showLink: false };
if (typeof Plotly !== "undefined") Plotly.setPlotConfig(NO_CLOUD);
export const PLOT_CONFIG = { responsive: true, displaylogo: false, ...NO_CLOUD };

// Whether these events end their run: a chart still empty then says the run did not record what it draws
// (a probe turned off, a kind without it) instead of promising it.
export const endsRun = (events) => events.some((event) => event.type === "status" && ENDED.has(event.status));

// A loss axis labelled in full: on a log axis over a decade or two Plotly labels 2x and 5x a power of ten
// by the digit alone ("5 2 1 5 2" read as 5 and 2, not 0.5 and 0.2).
export const LOSS_TICKS = { tickformat: "~g" };

// Plotly.react; while no trace has a point, no axes at all (empty ones read as data: -1..6, 1e-1..1e4)
// but a line saying what will come.
export function plotOrWait(el, traces, layout, waiting) {
  const empty = !traces.some((trace) => (trace.x && trace.x.length) || (trace.z && trace.z.length) || (trace.y && trace.y.length));
  if (!empty) return Plotly.react(el, traces, layout, PLOT_CONFIG);
  const note = { text: waiting, showarrow: false, xref: "paper", yref: "paper", x: 0.5, y: 0.5, font: { size: 14 } };
  return Plotly.react(el, [], baseLayout({ xaxis: { visible: false }, yaxis: { visible: false }, annotations: [note] }), PLOT_CONFIG);
}

// Throughput over time, the device, and GPU utilization and memory when the job runs on a GPU.
import { baseLayout, plotOrWait } from "../decode.js";
import { language, say, t } from "../i18n.js";
import { drawer } from "./frames.js";
import { Series } from "./series.js";

export function mount(el) {
  el.classList.add("chart-block");
  const facts = Object.assign(document.createElement("p"), { className: "facts" });
  const plot = Object.assign(document.createElement("div"), { className: "plot short" });
  plot.dataset.testid = "system-chart";
  el.replaceChildren(facts, plot);
  let samples;
  let latest;
  let revision = 0; // the series grows in place: a new datarevision makes Plotly.react redraw it

  function reset() {
    samples = new Series(1000);
    latest = null;
    facts.textContent = t("system.none");
    draw();
  }

  function draw() {
    // a short run's one or two samples make no line: shown as points, or the chart looks empty
    const mode = samples.x.length < 3 ? "lines+markers" : "lines";
    plotOrWait(plot, [{ x: samples.x, y: samples.y, mode, name: t("axis.samplesPerS") }], baseLayout({ xaxis: { ...baseLayout().xaxis, title: { text: t("axis.step") } }, yaxis: { ...baseLayout().yaxis, title: { text: t("axis.samplesPerS") }, rangemode: "tozero" }, margin: { l: 60, r: 10, t: 10, b: 40 }, datarevision: ++revision }), t("chart.waiting"));
    if (!latest) {
      facts.textContent = t("system.none");
      return;
    }
    const parts = [say("system.device", { device: latest.gpu_name || latest.device })];
    if (latest.samples_per_s) parts.push(say("system.rate", { rate: Math.round(latest.samples_per_s).toLocaleString(language()) }));
    if (latest.step_path) parts.push(say("system.path", { path: t(`system.path.${latest.step_path}`, latest.step_path) }));
    if (latest.stacked_runs) parts.push(say("system.stacked", { n: latest.stacked_runs }));
    if (latest.gpu_utilization !== undefined && latest.gpu_utilization !== null) parts.push(say("system.gpuBusy", { n: latest.gpu_utilization }));
    if (latest.gpu_memory_mb !== undefined && latest.gpu_memory_mb !== null) parts.push(say("system.gpuMemory", { mb: latest.gpu_memory_mb.toFixed(0), peak: latest.gpu_memory_peak_mb.toFixed(0) }));
    if (latest.gpu_memory_used_mb !== undefined && latest.gpu_memory_used_mb !== null) parts.push(say("system.gpuMemoryUsed", { mb: latest.gpu_memory_used_mb.toFixed(0) }));
    facts.textContent = parts.join(" · ");
  }
  const redraw = drawer(plot, draw, { minIntervalMs: 1000 });

  function append(events) {
    let changed = false;
    for (const event of events) {
      if (event.type !== "system") continue;
      latest = event;
      changed = true;
      if (event.samples_per_s) samples.push(event.step, event.samples_per_s);
    }
    if (changed) redraw();
  }

  reset();
  return { reset, append, relayout: () => redraw(true) };
}

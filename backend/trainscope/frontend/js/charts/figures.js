// Every other figure a run reports over time (the learning rate; a kind's own, such as a reconstruction
// or KL loss, an inertia, a path's coordinates): a small plot per tag, for tags the page has never heard
// of too, so that a new model kind's figures are drawn without a change to the page.
import { baseLayout, plotOrWait } from "../decode.js";
import { escape } from "../html.js";
import { t } from "../i18n.js";
import { drawer } from "./frames.js";
import { LOSS_TAGS } from "./loss.js";
import { Series } from "./series.js";

const COLUMNS = 3;
const ROW_PX = 200;

export function mount(el) {
  el.dataset.testid = "figures-chart";
  const panel = el.closest("article");
  let series; // tag -> Series
  let revision = 0; // the series grow in place: a new datarevision makes Plotly.react redraw them
  const claimed = []; // tests of the tags another view draws (a k-means centre's path)

  function reset() {
    series = new Map();
    if (panel) panel.hidden = true; // shown with the first figure of its own
    draw();
  }

  function draw() {
    if (panel && panel.hidden) return; // Plotly sizes a hidden plot wrongly, and keeps that size
    const tags = [...series.keys()].sort();
    const rows = Math.max(1, Math.ceil(tags.length / COLUMNS));
    const height = rows * ROW_PX + 40;
    el.style.height = `${height}px`;
    // the size given, not kept from an earlier draw: the rows grow as tags arrive
    const layout = baseLayout({ grid: { rows, columns: Math.min(COLUMNS, Math.max(1, tags.length)), pattern: "independent" }, showlegend: false, margin: { l: 60, r: 10, t: 10, b: 40 }, datarevision: ++revision, height });
    const traces = tags.map((tag, i) => {
      const axis = i ? String(i + 1) : "";
      const s = series.get(tag);
      // a figure that never changed (a fixed learning rate) is drawn around its value, not as "0"
      const low = Math.min(...s.y);
      const flat = low === Math.max(...s.y) ? { range: [low - Math.abs(low) / 2 - 1e-12, low + Math.abs(low) / 2 + 1e-12] } : {};
      layout[`xaxis${axis}`] = { ...baseLayout().xaxis, title: i >= tags.length - COLUMNS ? { text: t("axis.step") } : undefined };
      const name = escape(t(`tag.${tag}`, tag)); // a tag the page has words for, else the tag itself
      layout[`yaxis${axis}`] = { ...baseLayout().yaxis, title: { text: name, font: { size: 12 } }, exponentformat: "power", ...flat };
      return { name, x: s.x, y: s.y, xaxis: `x${axis}`, yaxis: `y${axis}`, mode: "lines+markers", marker: { size: 3 }, line: { width: 1.5, color: "#4477AA" } };
    });
    plotOrWait(el, traces, layout, t("chart.waiting"));
  }
  const redraw = drawer(el, draw, { minIntervalMs: 1000 });

  function append(events) {
    let changed = false;
    for (const event of events) {
      if (event.type !== "scalars") continue;
      for (const point of event.points) {
        for (const [tag, value] of Object.entries(point.values)) {
          if (LOSS_TAGS.includes(tag) || typeof value !== "number" || claimed.some((claims) => claims(tag))) continue;
          if (!series.has(tag)) series.set(tag, new Series(1000));
          series.get(tag).push(point.step, value);
          changed = true;
        }
      }
    }
    if (!changed) return;
    if (panel) panel.hidden = false; // before the draw: a hidden panel is never on screen, so never drawn
    redraw();
  }

  reset();
  return { reset, append, tags: () => [...series.keys()].sort(), relayout: () => redraw(true), claim: (claims) => claimed.push(claims) };
}

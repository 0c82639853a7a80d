// The confusion matrix on the probe set: rows the true class, columns the predicted one, each cell's
// count written in it; the diagonal is what the model gets right.
import { baseLayout, plotOrWait } from "../decode.js";
import { escape } from "../html.js";
import { say, t } from "../i18n.js";
import { drawer } from "./frames.js";

export function mount(el) {
  el.dataset.testid = "confusion-chart";
  let latest;
  let classNames = null; // an uploaded table's own names for its classes

  function reset(context = {}) {
    latest = null;
    classNames = context.classNames || null;
    draw();
  }

  function draw() {
    const traces = [];
    let title = "";
    if (latest) {
      const classes = latest.counts.map((_, i) => (classNames && classNames[i] !== undefined ? escape(classNames[i]) : String(i)));
      const rows = [...latest.counts].reverse(); // plotly draws the first row lowest: class 0 goes on top
      traces.push({
        type: "heatmap", x: classes, y: [...classes].reverse(), z: rows, colorscale: "Blues", reversescale: true, showscale: false,
        text: rows.map((row) => row.map(String)), texttemplate: "%{text}", hovertemplate: `${t("axis.true")} %{y}, ${t("axis.predicted")} %{x}: %{z}<extra></extra>`,
      });
      const right = latest.counts.reduce((sum, row, i) => sum + row[i], 0);
      const total = latest.counts.flat().reduce((a, b) => a + b, 0);
      title = say("confusion.title", { step: latest.step, right, total });
      // of which examples: the probe set is the validation set first, then training examples
      if (latest.validation !== undefined) title += `<br>${say("confusion.set", { validation: latest.validation, training: total - latest.validation })}`;
    }
    const axis = (name) => ({ ...baseLayout().xaxis, title: { text: t(name) }, type: "category", dtick: 1 });
    const layout = baseLayout({ xaxis: axis("axis.predicted"), yaxis: axis("axis.true"), annotations: title ? [{ text: title, xref: "paper", yref: "paper", x: 0, y: 1, yanchor: "bottom", showarrow: false, xanchor: "left", align: "left" }] : [], margin: { ...baseLayout().margin, t: 50 } });
    plotOrWait(el, traces, layout, t("confusion.none"));
  }
  const redraw = drawer(el, draw, { minIntervalMs: 500 });

  function append(events) {
    const last = events.filter((e) => e.type === "confusion").pop();
    if (!last) return;
    latest = last;
    redraw();
  }

  reset();
  return { reset, append, relayout: () => redraw(true) };
}

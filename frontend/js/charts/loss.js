// Loss chart: train loss every step, validation loss at each evaluation. mount(el) -> {reset, append}.

const MAX_POINTS = 5000; // per trace in the browser; older points scroll out

const LAYOUT = {
  margin: { l: 55, r: 15, t: 30, b: 45 },
  xaxis: { title: { text: "step" } },
  yaxis: { title: { text: "cross-entropy loss" }, rangemode: "tozero" },
  legend: { orientation: "h", y: 1.08 },
  uirevision: "keep", // keep the user's zoom while points arrive
};

export function mount(el) {
  function reset() {
    Plotly.react(
      el,
      [
        { name: "train loss", x: [], y: [], mode: "lines", line: { width: 1.5 } },
        { name: "validation loss", x: [], y: [], mode: "lines+markers", line: { width: 2 } },
      ],
      LAYOUT,
      { responsive: true, displaylogo: false },
    );
  }

  function append(events) {
    const train = { x: [], y: [] };
    const val = { x: [], y: [] };
    for (const event of events) {
      if (event.type !== "scalars") continue;
      for (const point of event.points) {
        const v = point.values;
        if (v["train/loss"] !== undefined) { train.x.push(point.step); train.y.push(v["train/loss"]); }
        if (v["val/loss"] !== undefined) { val.x.push(point.step); val.y.push(v["val/loss"]); }
      }
    }
    if (!train.x.length && !val.x.length) return;
    Plotly.extendTraces(el, { x: [train.x, val.x], y: [train.y, val.y] }, [0, 1], MAX_POINTS);
  }

  reset();
  return { reset, append, pointCount: () => el.data[0].x.length };
}

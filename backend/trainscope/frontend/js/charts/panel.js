// The shell every compare-view panel shares: {wide, mount(el) -> {draw(runs)}} (see views/compare.js).

export function plot(el, testid, className = "plot") {
  const div = document.createElement("div");
  div.className = className;
  div.dataset.testid = testid;
  el.append(div);
  return div;
}

// A panel that is one element redrawn from the runs: render(element, runs).
export function singlePanel(testid, render, className = "plot") {
  return {
    wide: false,
    mount(el) {
      const element = plot(el, testid, className);
      return { draw: (runs) => render(element, runs) };
    },
  };
}

// A lesson may repeat each run on further seeds: those draw faint and without a legend entry, so each
// variation reads as one line (its first seed's) with the others' spread around it.
export function faint(run, trace) {
  return run.replica ? { ...trace, opacity: 0.3, showlegend: false } : trace;
}

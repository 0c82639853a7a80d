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

// Parameters per layer, by formula (k·k·c_in·c_out + c_out for a convolution, fan_in·fan_out + fan_out for
// a dense layer) next to torch's own count: the `parameters` analysis a network run emits before step 1.
import { escape } from "../html.js";
import { t } from "../i18n.js";

// One table for one or more runs: [{event, name?}] where name is markup already escaped
export function parameterTable(entries) {
  const rows = [];
  for (const { event, name = "" } of entries) {
    for (const layer of event.data.layers) rows.push([name, escape(layer.name), escape(layer.formula), layer.by_formula, layer.by_torch]);
    rows.push([name, "Σ", "", event.figures.by_formula, event.figures.by_torch].map((cell) => (typeof cell === "number" ? `<b>${cell.toLocaleString()}</b>` : cell)));
  }
  const cell = (value) => `<td>${typeof value === "number" ? value.toLocaleString() : value}</td>`;
  const head = ["", t("parameters.layer"), t("parameters.formula"), t("parameters.by_formula"), t("parameters.by_torch")];
  const table = Object.assign(document.createElement("table"), { className: "figures" });
  const named = entries.some((entry) => entry.name);
  const keep = (row) => (named ? row : row.slice(1));
  table.innerHTML = `<tr>${keep(head).map((h) => `<th>${h}</th>`).join("")}</tr>` + rows.map((row) => `<tr>${keep(row).map(cell).join("")}</tr>`).join("");
  return table;
}

export function mount(el) {
  el.dataset.testid = "parameters";
  let latest = null;

  function reset() {
    latest = null;
    el.replaceChildren(Object.assign(document.createElement("p"), { className: "hint", textContent: t("parameters.none") }));
  }

  function append(events) {
    const event = events.filter((e) => e.type === "analysis" && e.name === "parameters").pop();
    if (!event) return;
    latest = event;
    el.replaceChildren(parameterTable([{ event }]));
  }

  reset();
  return { reset, append, relayout: () => (latest ? el.replaceChildren(parameterTable([{ event: latest }])) : reset()) };
}

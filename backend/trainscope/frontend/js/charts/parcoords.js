// Parallel coordinates of runs (Plotly's parcoords): an axis per setting and figure, a line per run,
// coloured by one figure, so that "which learning rate won?" reads at a glance. A setting that is a word
// (an optimizer) gets a tick per value; a positive number spanning two decades or more (a learning rate)
// is drawn as its log10, its ticks labelled with the values themselves.
import { PLOT_CONFIG, baseLayout } from "../decode.js";
import { t } from "../i18n.js";
import { convText, fieldName } from "../state.js";

const shortNumber = (value) => (Number.isInteger(value) ? String(value) : Number(value.toPrecision(4)).toString());

// A run's value at a key: "run" its label (a group's) or name, a figure of its summary, or a setting at a
// dotted path of its spec (a list as its JSON; an object, such as a whole model, as itself).
export function valueOf(job, key) {
  if (key === "run") return job.label || job.name || job.id;
  if (job.summary && key in job.summary) return job.summary[key];
  let node = job.spec;
  for (const part of key.split(".")) node = node && typeof node === "object" ? node[part] : undefined;
  if (key === "model.conv" && Array.isArray(node)) return convText(node); // as the form writes it
  return Array.isArray(node) ? JSON.stringify(node) : node;
}

// One axis from the runs' values at a key, or null when no run has one.
function dimension(key, values) {
  const present = values.filter((v) => v !== undefined && v !== null);
  if (!present.length || present.some((v) => typeof v === "object")) return null; // no axis orders objects
  const label = key === "run" ? t("runs.run") : fieldName(key);
  if (present.every((v) => typeof v === "number")) {
    const low = Math.min(...present);
    const high = Math.max(...present);
    if (low > 0 && high / low >= 100) {
      const decades = [];
      for (let p = Math.floor(Math.log10(low)); p <= Math.ceil(Math.log10(high)); p += 1) decades.push(p);
      return { label: `${label} (${t("parcoords.log")})`, values: values.map((v) => (typeof v === "number" ? Math.log10(v) : NaN)), tickvals: decades, ticktext: decades.map((p) => shortNumber(10 ** p)) };
    }
    // every tick as its value ("0.00007", not Plotly's SI "70μ"); one value alone gets a tenth of itself either side
    const pad = Math.abs(low) / 10 || 1;
    return { label, values: values.map((v) => (typeof v === "number" ? v : NaN)), range: low === high ? [low - pad, high + pad] : [low, high], tickformat: "~g" };
  }
  const words = [...new Set(present.map(String))].sort();
  // past a dozen words (36 runs' labels) the ticks would overprint: every k-th is named
  const every = Math.ceil(words.length / 12);
  const ticktext = words.map((word, i) => (i % every ? "" : word === "true" || word === "false" ? t(`value.${word}`) : word));
  return { label, values: values.map((v) => (v === undefined || v === null ? NaN : words.indexOf(String(v)))), tickvals: words.map((_, i) => i), ticktext, range: [-0.5, words.length - 0.5] };
}

// Draw `jobs` on `keys` (settings and figures), coloured by `colorKey`; the keys no run has are left out.
// Returns the keys drawn.
export function drawParcoords(el, jobs, keys, colorKey = "val/acc") {
  const dimensions = [];
  const drawn = [];
  for (const key of keys) {
    const axis = dimension(key, jobs.map((job) => valueOf(job, key)));
    if (axis) {
      dimensions.push(axis);
      drawn.push(key);
    }
  }
  const colors = jobs.map((job) => valueOf(job, colorKey));
  // a colour scale only where the runs differ in the figure (all equal, its bar would span nothing)
  const coloured = colors.every((v) => typeof v === "number") && new Set(colors).size > 1;
  const line = coloured ? { color: colors, colorscale: "Viridis", showscale: true, colorbar: { title: { text: fieldName(colorKey) }, thickness: 12 } } : { color: "#4878d0" };
  // the first axis's tick labels sit left of it: room for the longest (run labels cut to "nit_seed=5" before)
  const longest = Math.max(0, ...((dimensions[0] && dimensions[0].ticktext) || []).map((text) => text.length));
  const layout = baseLayout({ margin: { l: Math.min(240, Math.max(70, 10 + 7 * longest)), r: 70, t: 50, b: 40 } });
  Plotly.react(el, [{ type: "parcoords", dimensions, line, labelangle: -20, labelside: "top" }], layout, PLOT_CONFIG);
  return drawn;
}

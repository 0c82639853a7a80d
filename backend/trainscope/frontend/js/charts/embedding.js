// The projector: a representation of the probe set (the tap the event names: a hidden layer, a code,
// word vectors), projected by PCA (2-D or 3-D, live) or by a t-SNE of the snapshot made on demand; points
// named (a word) and coloured by label or any column the run sent; a search that marks the points it
// finds; a point's nearest neighbours by cosine of the stored vectors; a slider through the snapshots.
// Every name and column is user text or a run's: it reaches the page as text.
import { neighbours as askNeighbours, projection as askProjection } from "../api.js";
import { CLASS_COLORS, VALUE_COLORSCALE, baseLayout, endsRun, floats, plotOrWait } from "../decode.js";
import { escape } from "../html.js";
import { say, t } from "../i18n.js";
import { drawer } from "./frames.js";

const MAX_NAMED = 120; // fewer points than this are written beside their marker
const MAX_COLOURS = 20; // a column with more values than this is not offered as a colour

// A tap as people say it: hidden/1 is the second hidden layer; another keeps the kind's own word for it
function tapName(tag) {
  const hidden = /^hidden\/(\d+)$/.exec(tag);
  return hidden ? say("tap.hidden", { n: Number(hidden[1]) + 1 }) : t(`tap.${tag}`, tag);
}

const element = (tag, props = {}) => Object.assign(document.createElement(tag), props);
const labelled = (key, english, control) => {
  const label = element("label");
  const words = element("span", { textContent: t(key, english) });
  words.dataset.i18n = key;
  label.append(words, " ", control);
  return label;
};

export function mount(el) {
  el.classList.add("chart-block");
  const bar = element("div", { className: "chart-bar" });
  const three = element("input", { type: "checkbox", name: "three" });
  const method = element("select", { name: "method" });
  // PCA as it streams; a t-SNE or a UMAP of the shown snapshot, made by the server when asked
  method.append(new Option("PCA", "pca"), new Option("t-SNE", "tsne"), new Option("UMAP", "umap"));
  const METHOD_NAMES = { tsne: "t-SNE", umap: "UMAP" };
  const colour = element("select", { name: "colour" });
  const search = element("input", { type: "search", name: "search", autocomplete: "off", size: 10 });
  search.dataset.i18nPlaceholder = "embedding.search";
  search.placeholder = t("embedding.search");
  const slider = element("input", { type: "range", name: "snapshot", min: 0, max: 0, value: 0 });
  const which = element("output", { name: "which" });
  const snapshotLabel = labelled("chart.snapshot", "Snapshot", slider);
  snapshotLabel.className = "grow";
  bar.append(labelled("embedding.threeD", "3-D", three), method, labelled("embedding.colour", "Colour", colour), search);
  const steps = element("div", { className: "chart-bar" });
  steps.append(snapshotLabel, which);
  const plot = element("div", { className: "plot" });
  plot.dataset.testid = "embedding-chart";
  const near = element("div", { className: "neighbours" });
  near.dataset.testid = "embedding-neighbours";
  el.replaceChildren(bar, steps, plot, near);

  let snapshots;
  let ended = false; // its run ended: none now means none recorded
  let following = true; // the slider follows the newest snapshot until the user moves it
  let classNames = null; // an uploaded table's own names for its classes
  let job = null;
  let maps = new Map(); // "method step" -> the 2-D points of that snapshot (asked once each)
  let chosen = null; // the point whose neighbours are listed

  function reset(context = {}) {
    classNames = context.classNames || null;
    job = context.job || null;
    snapshots = [];
    ended = false;
    maps = new Map();
    chosen = null;
    following = true;
    slider.max = 0;
    near.replaceChildren();
    colour.replaceChildren(new Option(t("embedding.byLabel", "label"), ""));
    draw();
  }

  const current = () => snapshots[Number(slider.value)];
  const nameOf = (snap, i) => (snap.names ? snap.names[i] : `#${i}`);
  const classOf = (snap, label) => {
    const names = snap.classes || classNames;
    return names && names[label] !== undefined ? names[label] : say("legend.class", { n: label });
  };

  // the colour choices: the label, then each column the run sent with few enough values
  function offerColours(snap) {
    const columns = Object.entries(snap.columns || {}).filter(([, values]) => new Set(values).size <= MAX_COLOURS);
    const have = [...colour.options].map((o) => o.value);
    for (const [name] of columns) if (!have.includes(name)) colour.add(new Option(name, name));
  }

  // each point's category under the chosen colouring, and the categories in order
  function categories(snap) {
    const column = colour.value && snap.columns && snap.columns[colour.value];
    if (column) return { of: (i) => column[i], order: [...new Set(column)].sort(), name: (c) => c };
    const order = [...new Set(snap.labels)].sort((a, b) => a - b);
    return { of: (i) => snap.labels[i], order, name: (c) => classOf(snap, c) };
  }

  function coordinates(snap) {
    const projected = method.value !== "pca" ? maps.get(`${method.value} ${snap.step}`) : null;
    const name = METHOD_NAMES[method.value];
    if (projected) return { at: (i, d) => (d < 2 ? projected[i * 2 + d] : 0), dims: 2, axes: [`${name} 1`, `${name} 2`] };
    const points = floats(snap.points);
    return { at: (i, d) => (d < snap.dims ? points[i * snap.dims + d] : 0), dims: snap.dims, axes: ["PC1", "PC2", "PC3"] };
  }

  function draw() {
    const snap = current();
    const traces = [];
    let axes = ["PC1", "PC2", "PC3"];
    if (snap) {
      const coords = coordinates(snap);
      axes = coords.axes;
      const is3d = three.checked && coords.dims >= 3;
      const type = is3d ? "scatter3d" : "scattergl";
      const named = snap.names && snap.n <= MAX_NAMED;
      const query = search.value.trim().toLowerCase();
      const found = (i) => query && nameOf(snap, i).toLowerCase().includes(query);
      const trace = (name, indices, marker) => ({
        type: named && !is3d ? "scatter" : type, // svg where words are written: WebGL draws no text
        mode: named ? "markers+text" : "markers",
        name: escape(name), // Plotly reads a few tags in names and text: a run's words reach it as text
        x: indices.map((i) => coords.at(i, 0)),
        y: indices.map((i) => (coords.dims > 1 ? coords.at(i, 1) : 0)),
        z: is3d ? indices.map((i) => coords.at(i, 2)) : undefined,
        text: indices.map((i) => escape(nameOf(snap, i))),
        textposition: "top center",
        textfont: { size: 10 },
        customdata: indices,
        hovertemplate: "%{text}<extra>%{fullData.name}</extra>",
        marker: { size: is3d ? 3 : 7, opacity: query ? 0.25 : 0.8, ...marker },
      });
      const all = snap.labels.map((_, i) => i);
      if (snap.target === "value") {
        traces.push(trace(t("legend.target"), all, { color: snap.labels, colorscale: VALUE_COLORSCALE, cmin: -1, cmax: 1 }));
      } else {
        const groups = categories(snap);
        groups.order.forEach((category, k) => {
          const indices = all.filter((i) => groups.of(i) === category);
          traces.push(trace(groups.name(category), indices, { color: CLASS_COLORS[(typeof category === "number" ? category : k) % 10] }));
        });
      }
      const marked = all.filter(found);
      if (chosen !== null && chosen < snap.n && !marked.includes(chosen)) marked.push(chosen);
      const ring = { color: "#111", size: is3d ? 6 : 12, opacity: 1, symbol: "circle-open", line: { width: 2 } };
      if (marked.length) traces.push({ ...trace(t("embedding.found"), marked, ring), mode: "markers+text" });
      const share = snap.explained[0] !== undefined ? (100 * snap.explained[0]).toFixed(0) : "0";
      const made = maps.get(`${method.value} ${snap.step}`);
      if (method.value === "pca") which.textContent = say("embedding.at", { tap: tapName(snap.tag), step: snap.step, share });
      else if (made) which.textContent = say("embedding.mapAt", { method: METHOD_NAMES[method.value], tap: tapName(snap.tag), step: snap.step });
      else if (made === null) which.textContent = say("embedding.mapWait", { method: METHOD_NAMES[method.value] });
    }
    const title = (text) => ({ title: { text } });
    const scene = { xaxis: title(axes[0]), yaxis: title(axes[1]), zaxis: title(axes[2] || "") };
    const layout = baseLayout({ scene, xaxis: { ...baseLayout().xaxis, ...title(axes[0]) }, yaxis: { ...baseLayout().yaxis, ...title(axes[1]) } });
    Promise.resolve(plotOrWait(plot, traces, layout, t(ended ? "chart.notRecorded" : "chart.waiting"))).then(listenForClicks);
  }

  // a click on a point lists its neighbours (Plotly's own events exist once it has drawn)
  let listening = false;
  function listenForClicks() {
    if (listening || !plot.on) return;
    listening = true;
    plot.on("plotly_click", (data) => {
      const point = data.points && data.points[0];
      if (point && point.customdata !== undefined) listNeighbours(point.customdata);
    });
  }
  const redraw = drawer(plot, draw, { minIntervalMs: 500 });

  // a point's nearest neighbours by cosine of the snapshot's stored vectors (asked of the server)
  async function listNeighbours(index) {
    const snap = current();
    chosen = index;
    redraw(true);
    if (!snap || !job) return;
    near.replaceChildren(element("p", { textContent: t("embedding.asking") }));
    try {
      const answer = await askNeighbours(job, { of: [nameOf(snap, index)], step: snap.step, tag: snap.tag, top: 8 });
      const heading = element("p", { textContent: say("embedding.nearest", { name: nameOf(snap, index), step: answer.step }) });
      const list = element("ol");
      for (const n of answer.neighbours) list.append(element("li", { textContent: `${n.name} · ${n.label} · ${n.cosine.toFixed(3)}` }));
      near.replaceChildren(heading, list);
    } catch (error) {
      near.replaceChildren(element("p", { textContent: error.status === 404 ? t("embedding.noVectors") : error.message }));
    }
  }

  async function wantMap() {
    const snap = current();
    const key = snap && `${method.value} ${snap.step}`;
    if (method.value === "pca" || !snap || !job || maps.has(key)) return redraw(true);
    maps.set(key, null); // asked: not again while it is made
    redraw(true);
    try {
      const answer = await askProjection(job, { method: method.value, step: snap.step, tag: snap.tag });
      maps.set(key, answer.points);
    } catch (error) {
      maps.delete(key); // the reason stays in view (no vectors here; UMAP not installed on this server)
      which.textContent = error.status === 404 ? t("embedding.noVectors") : error.message;
      return;
    }
    redraw(true);
  }

  function append(events) {
    const ending = !ended && endsRun(events);
    ended ||= ending;
    let added = false;
    for (const event of events) {
      if (event.type !== "embedding") continue;
      snapshots.push(event);
      offerColours(event);
      added = true;
    }
    if (!added) {
      if (ending) redraw(); // none came: it says so
      return;
    }
    slider.max = snapshots.length - 1;
    if (following) slider.value = snapshots.length - 1;
    redraw();
  }

  slider.addEventListener("input", () => {
    following = Number(slider.value) === snapshots.length - 1;
    wantMap();
  });
  method.addEventListener("change", wantMap);
  search.addEventListener("input", () => redraw(true));
  search.addEventListener("keydown", (event) => {
    if (event.key !== "Enter") return;
    const snap = current();
    const query = search.value.trim().toLowerCase();
    const names = snap && query ? snap.labels.map((_, i) => nameOf(snap, i).toLowerCase()) : [];
    const exact = names.indexOf(query); // "man" is man, not the first word holding it (woman)
    const index = exact >= 0 ? exact : names.findIndex((name) => name.includes(query));
    if (index >= 0) listNeighbours(index);
  });
  bar.addEventListener("change", (event) => {
    if (event.target !== method) redraw(true);
  });
  reset();
  return { reset, append, snapshotCount: () => snapshots.length, relayout: () => redraw(true) };
}

// The network: units as nodes, edges coloured by the weight's sign and drawn as thick as its size
// (as TensorFlow Playground does); on 2-D data each hidden unit shows its output over the plane.
import { floats } from "../decode.js";
import { say, t } from "../i18n.js";
import { drawer } from "./frames.js";
import { FEATURES } from "../state.js";

const SVG = "http://www.w3.org/2000/svg";
const MAX_UNITS = 16; // per column; wider layers show their first units and a count
const NODE = 30;

function element(name, attributes) {
  const node = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
  return node;
}

const ZOOM = 150; // screen pixels of a unit's map under the pointer

// A unit's output over the plane as a small image (blue negative, orange positive).
function unitImage(values, offset, grid) {
  const canvas = Object.assign(document.createElement("canvas"), { width: grid, height: grid });
  const context = canvas.getContext("2d");
  const image = context.createImageData(grid, grid);
  let scale = 1e-6;
  for (let i = 0; i < grid * grid; i++) scale = Math.max(scale, Math.abs(values[offset + i]));
  for (let r = 0; r < grid; r++) {
    for (let c = 0; c < grid; c++) {
      const v = values[offset + r * grid + c] / scale; // row r is y: draw it upside down
      const p = ((grid - 1 - r) * grid + c) * 4;
      const t = Math.abs(v);
      const [R, G, B] = v >= 0 ? [255, 127, 14] : [31, 119, 180];
      image.data[p] = 245 + (R - 245) * t;
      image.data[p + 1] = 245 + (G - 245) * t;
      image.data[p + 2] = 245 + (B - 245) * t;
      image.data[p + 3] = 255;
    }
  }
  context.putImageData(image, 0, 0);
  return canvas.toDataURL();
}

export function mount(el, options = {}) {
  el.dataset.testid = "network-chart";
  let latest;
  let show = options.edges || "weights"; // or "gradients": what the edges draw

  let matrices = true; // an MLP: a diagram will come
  let boundary = null; // the latest boundary: the output units show it, as TensorFlow Playground does
  let classNames = null;
  function reset(context = {}) {
    latest = null;
    boundary = null;
    matrices = context.matrices ?? true;
    classNames = context.classNames || null;
    el.replaceChildren(Object.assign(document.createElement("p"), { className: "hint", textContent: t(matrices ? "network.notYet" : "network.onlyMlp") }));
  }

  function draw() {
    if (!latest) return;
    const widths = [latest.layers[0].shape[1], ...latest.layers.map((l) => l.shape[0])];
    const shown = widths.map((w) => Math.min(w, MAX_UNITS));
    const width = Math.max(el.clientWidth, 360);
    const height = Math.max(...shown) * (NODE + 8) + 30;
    const svg = element("svg", { viewBox: `0 0 ${width} ${height}`, width: "100%", height, role: "img", "aria-label": t("aria.network") });
    const inputs = (latest.unit_maps && latest.inputs) || []; // named inputs (x1, x1²...) have a map and a label at their left
    const left = inputs.length ? 60 : 30;
    const columnX = (i) => left + (i * (width - left - 30 - NODE)) / (widths.length - 1);
    const unitY = (i, j) => 20 + (height - 30 - shown[i] * (NODE + 8)) / 2 + j * (NODE + 8);
    latest.layers.forEach((layer, l) => {
      const w = floats(show === "gradients" && layer.gradients ? layer.gradients : layer.weights);
      const [outs, ins] = layer.shape;
      let biggest = 1e-6;
      for (const v of w) biggest = Math.max(biggest, Math.abs(v));
      for (let o = 0; o < Math.min(outs, MAX_UNITS); o++) {
        for (let i = 0; i < Math.min(ins, MAX_UNITS); i++) {
          const v = w[o * ins + i];
          svg.append(element("line", {
            x1: columnX(l) + NODE, y1: unitY(l, i) + NODE / 2, x2: columnX(l + 1), y2: unitY(l + 1, o) + NODE / 2,
            stroke: v >= 0 ? "#ff7f0e" : "#1f77b4", "stroke-width": 0.3 + (3 * Math.abs(v)) / biggest, "stroke-opacity": 0.7,
          }));
        }
      }
    });
    const maps = latest.unit_maps;
    const mapValues = maps ? floats(maps.values) : null;
    // the output units show the boundary's grid where it is theirs: a value's unit its prediction, two
    // classes' units P(class 1) and P(class 0) (2p - 1 puts p = 0.5 at white); more classes, their names
    const outputs = widths.at(-1);
    const grid = boundary && ((boundary.output === "value" && outputs === 1) || (boundary.output === "p_class1" && outputs === 2)) ? floats(boundary.probs) : null;
    const outputMap = (j) => (boundary.output === "value" ? grid : grid.map((p) => (j === 1 ? 2 * p - 1 : 1 - 2 * p)));
    let unitOffset = 0; // the maps hold the named inputs, then every hidden unit
    widths.forEach((count, i) => {
      const hidden = i > 0 && i < widths.length - 1;
      const output = i === widths.length - 1;
      const mapped = mapValues && (hidden || (i === 0 && inputs.length > 0));
      for (let j = 0; j < shown[i]; j++) {
        const x = columnX(i);
        const y = unitY(i, j);
        const href = mapped ? unitImage(mapValues, (unitOffset + j) * maps.grid * maps.grid, maps.grid) : output && grid ? unitImage(outputMap(j), 0, boundary.grid) : null;
        if (href) svg.append(element("image", { href, x, y, width: NODE, height: NODE, preserveAspectRatio: "none", "data-unit": `${i}/${j}` }));
        svg.append(element("rect", { x, y, width: NODE, height: NODE, rx: 4, fill: href ? "none" : "var(--panel)", stroke: "var(--fg)", "stroke-width": 1, "pointer-events": "none" }));
        if (output && !href) {
          // an output unit without a map is named by its class, never left blank
          const name = element("text", { x: x + NODE / 2, y: y + NODE / 2 + 4, fill: "var(--fg)", "font-size": 11, "text-anchor": "middle" });
          name.textContent = count === 1 ? "y" : classNames && classNames[j] !== undefined ? String(classNames[j]).slice(0, 4) : String(j);
          svg.append(name);
        }
        if (i === 0 && inputs[j]) {
          const name = element("text", { x: x - 4, y: y + NODE / 2 + 4, fill: "var(--fg)", "font-size": 12, "text-anchor": "end" });
          name.textContent = FEATURES[inputs[j]] || inputs[j];
          svg.append(name);
        }
      }
      if (count > shown[i]) {
        const label = element("text", { x: columnX(i), y: height - 4, fill: "var(--muted)", "font-size": 12 });
        label.textContent = say("network.more", { n: count - shown[i] });
        svg.append(label);
      }
      if (hidden || (i === 0 && inputs.length > 0)) unitOffset += count;
    });
    const caption = Object.assign(document.createElement("p"), { className: "hint", textContent: say(`network.caption.${show}`, { step: latest.step }) });
    const toggle = Object.assign(document.createElement("select"), { ariaLabel: t("aria.edges") });
    toggle.append(new Option(t("network.weights"), "weights"), new Option(t("network.gradients"), "gradients"));
    toggle.value = show;
    toggle.disabled = !latest.layers[0].gradients;
    toggle.addEventListener("change", () => {
      show = toggle.value;
      draw();
    });
    el.replaceChildren(toggle, svg, caption, zoom);
  }

  // A unit's map enlarged while the pointer is on it (30 px is too small to read a boundary in)
  const zoom = Object.assign(document.createElement("img"), { className: "unit-zoom", alt: "", hidden: true });
  zoom.dataset.testid = "unit-zoom";
  el.classList.add("network-view");
  el.addEventListener("pointerover", (event) => {
    const unit = event.target.closest && event.target.closest("image[data-unit]");
    if (!unit) return;
    const box = unit.getBoundingClientRect();
    const frame = el.getBoundingClientRect();
    zoom.src = unit.getAttribute("href");
    zoom.style.width = zoom.style.height = `${ZOOM}px`;
    zoom.style.left = `${Math.min(box.right - frame.left + 6, frame.width - ZOOM)}px`;
    zoom.style.top = `${Math.max(0, box.top - frame.top - ZOOM / 2 + box.height / 2)}px`;
    zoom.hidden = false;
  });
  el.addEventListener("pointerout", (event) => {
    if (event.target.closest && event.target.closest("image[data-unit]")) zoom.hidden = true;
  });

  function append(events) {
    let changed = false;
    for (const event of events) {
      if (event.type === "network") latest = event;
      if (event.type === "boundary") boundary = event;
      changed = changed || event.type === "network" || (event.type === "boundary" && latest !== null);
    }
    if (changed && latest) redraw();
  }

  const redraw = drawer(el, () => latest && draw(), { minIntervalMs: 500 });
  reset();
  return { reset, append, relayout: () => (latest ? redraw(true) : reset({ matrices })) };
}

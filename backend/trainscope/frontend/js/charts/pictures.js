// Image data: examples with their true and predicted class; for a CNN, each convolution's kernels and
// one example's feature maps after it. Each image a small canvas, scaled up without smoothing.
// Sequence data: each example a line; the first one drawn wide with each convolution's feature maps
// under it on the same x scale (a row per channel), so a channel lights up under the shape it found.
import { floats } from "../decode.js";
import { say, t } from "../i18n.js";
import { drawer } from "./frames.js";

const SCALE = { inputs: 5, kernels: 10, maps: 8 }; // screen pixels per image pixel

// One grey image, white the largest value, black the smallest (each image scaled on its own)
function canvasOf(values, offset, height, width, scale) {
  const canvas = Object.assign(document.createElement("canvas"), { width, height });
  canvas.style.width = `${width * scale}px`;
  canvas.style.height = `${height * scale}px`;
  const context = canvas.getContext("2d");
  const image = context.createImageData(width, height);
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < width * height; i++) {
    lo = Math.min(lo, values[offset + i]);
    hi = Math.max(hi, values[offset + i]);
  }
  const span = hi - lo || 1;
  for (let i = 0; i < width * height; i++) {
    const grey = Math.round((255 * (values[offset + i] - lo)) / span);
    image.data.set([grey, grey, grey, 255], i * 4);
  }
  context.putImageData(image, 0, 0);
  return canvas;
}

const SEQUENCE_WIDTH = 360; // screen pixels of the first example's line and of the maps under it

// One sequence as a line on a width x height canvas, scaled to its own range
function lineOf(values, offset, length, width, height) {
  const canvas = Object.assign(document.createElement("canvas"), { width, height });
  const context = canvas.getContext("2d");
  const part = values.subarray(offset, offset + length);
  const lo = Math.min(...part);
  const span = Math.max(...part) - lo || 1;
  context.strokeStyle = getComputedStyle(document.body).getPropertyValue("--fg").trim() || "#222";
  context.lineWidth = 1.5;
  context.beginPath();
  part.forEach((v, i) => context.lineTo(((i + 0.5) / length) * width, height - 2 - ((v - lo) / span) * (height - 4)));
  context.stroke();
  canvas.className = "line";
  return canvas;
}

function captioned(canvas, text) {
  const figure = document.createElement("figure");
  figure.append(canvas);
  if (text) {
    const [truth, predicted] = text.split(" → ");
    const caption = Object.assign(document.createElement("figcaption"), { textContent: text });
    if (truth !== predicted) caption.className = "wrong";
    figure.append(caption);
  }
  return figure;
}

// The first example wide, each convolution's maps (channels x positions) stretched under it
function sequenceView(inputs, maps) {
  const column = Object.assign(document.createElement("div"), { className: "sequence" });
  column.append(captioned(lineOf(floats(inputs.pixels), 0, inputs.width, SEQUENCE_WIDTH, 80), inputs.captions[0]));
  for (const event of maps) {
    const map = canvasOf(floats(event.pixels), 0, event.height, event.width, 1);
    map.style.width = "100%"; // as wide as the line above (at most SEQUENCE_WIDTH): positions line up
    map.style.height = `${Math.max(event.height * 3, 24)}px`;
    const label = Object.assign(document.createElement("figcaption"), { textContent: say("pictures.map_rows", { layer: event.tag.split("/")[1], channels: event.height }) });
    const figure = document.createElement("figure");
    figure.append(map, label);
    column.append(figure);
  }
  return column;
}

function grid(event) {
  const kind = event.tag.split("/")[0];
  const pixels = floats(event.pixels);
  const figures = [];
  const size = event.height * event.width;
  for (let i = 0; i < event.n; i++) {
    const line = event.sequence && kind === "inputs";
    const canvas = line ? lineOf(pixels, i * size, event.width, 96, 40) : canvasOf(pixels, i * size, event.height, event.width, SCALE[kind] || 6);
    if (event.sequence && kind === "kernels") canvas.style.height = `${event.height * 4}px`; // a row per filter, its taps across
    figures.push(captioned(canvas, event.captions[i]));
  }
  const row = Object.assign(document.createElement("div"), { className: "pictures" });
  row.append(...figures);
  return row;
}

export function mount(el) {
  el.dataset.testid = "pictures";
  el.classList.add("pictures-view");
  let latest; // tag -> newest images event

  function reset() {
    latest = new Map();
    el.replaceChildren(Object.assign(document.createElement("p"), { className: "hint", textContent: t("pictures.none") }));
  }

  function draw() {
    if (!latest.size) return;
    const sections = [];
    const inputs = latest.get("inputs");
    if (inputs && inputs.sequence) {
      const maps = [...latest.values()].filter((event) => event.tag.startsWith("maps/"));
      sections.push(Object.assign(document.createElement("h3"), { textContent: say("pictures.sequence", { step: inputs.step }) }), sequenceView(inputs, maps));
    }
    for (const [tag, event] of latest) {
      if (event.sequence && tag.startsWith("maps/")) continue; // drawn under the sequence
      const [kind, layer] = tag.split("/");
      const title = Object.assign(document.createElement("h3"), { textContent: say(`pictures.${kind}`, { layer, step: event.step }) });
      sections.push(title, grid(event));
    }
    el.replaceChildren(...sections);
  }
  const redraw = drawer(el, draw, { minIntervalMs: 500 });

  function append(events) {
    let changed = false;
    for (const event of events) {
      if (event.type !== "images") continue;
      latest.set(event.tag, event);
      changed = true;
    }
    if (changed) redraw();
  }

  reset();
  return { reset, append, relayout: () => (latest.size ? redraw(true) : reset()) };
}

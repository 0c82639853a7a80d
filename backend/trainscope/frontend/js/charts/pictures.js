// Image data: examples with their true and predicted class (an autoencoder: with their reconstructions
// under them, in the same order); for a CNN, each convolution's kernels and one example's feature maps
// after it. Each image a small canvas, scaled up without smoothing.
// Sequence data: each example a line; the first one drawn wide with each convolution's feature maps
// under it on the same x scale (a row per channel), so a channel lights up under the shape it found.
import { floats } from "../decode.js";
import { language, say, t } from "../i18n.js";
import { drawer } from "./frames.js";

const SCALE = { inputs: 5, kernels: 10, maps: 8 }; // screen pixels per image pixel
// images of the data itself, each drawn as an example is: the examples, a reconstruction of each, and what
// a generative model decodes from codes of its own (draws from its prior, a path between two codes)
const EXAMPLE_LIKE = new Set(["inputs", "reconstructions", "samples", "interpolation", "centroids", "grid"]);
const ROW_PX = 6; // screen pixels per channel of a sequence CNN's kernels and maps
const TAP_PX = 16; // screen pixels per tap of a sequence CNN's kernel

// One grey image, white the largest value, black the smallest (each example scaled on its own: a
// picture of a digit)
function canvasOf(values, offset, height, width, scale) {
  return paint(values, offset, height, width, scale, (v, lo, span) => {
    const grey = Math.round((255 * (v - lo)) / span);
    return [grey, grey, grey];
  });
}

// Kernels and feature maps: one scale for all of a layer's channels, so that channels compare and a
// weight's sign can be read. Signed values: blue below zero, orange above, as in the network view;
// values never below zero (after a ReLU): white to dark.
function scaleOf(values) {
  let lo = 0;
  let hi = 0;
  for (const v of values) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  const signed = lo < 0;
  return { signed, top: (signed ? Math.max(-lo, hi) : hi) || 1 };
}

const NEGATIVE = [8, 119, 189];
const POSITIVE = [245, 147, 34];
const ZERO = [245, 245, 245];
const DARK = [29, 35, 48];
const mix = (from, to, share) => from.map((c, i) => Math.round(c + (to[i] - c) * share));

function scaledCanvas(values, offset, height, width, scale) {
  return paint(values, offset, height, width, 1, (v) => {
    const share = Math.max(-1, Math.min(1, v / scale.top));
    if (!scale.signed) return mix(ZERO, DARK, share);
    return share < 0 ? mix(ZERO, NEGATIVE, -share) : mix(ZERO, POSITIVE, share);
  });
}

function paint(values, offset, height, width, pixelScale, colour) {
  const canvas = Object.assign(document.createElement("canvas"), { width, height });
  canvas.style.width = `${width * pixelScale}px`;
  canvas.style.height = `${height * pixelScale}px`;
  const context = canvas.getContext("2d");
  const image = context.createImageData(width, height);
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < width * height; i++) {
    lo = Math.min(lo, values[offset + i]);
    hi = Math.max(hi, values[offset + i]);
  }
  for (let i = 0; i < width * height; i++) image.data.set([...colour(values[offset + i], lo, hi - lo || 1), 255], i * 4);
  context.putImageData(image, 0, 0);
  return canvas;
}

const rounded = (value) => Number(value.toPrecision(2)).toLocaleString(language());

// The colours' key: the layer's range, as a bar from its lowest to its highest colour
function scaleKey(scale) {
  const key = Object.assign(document.createElement("span"), { className: "scale-key" });
  const low = scale.signed ? `−${rounded(scale.top)}` : "0";
  const bar = document.createElement("i");
  const css = (rgb) => `rgb(${rgb.join(",")})`;
  bar.style.background = scale.signed ? `linear-gradient(to right, ${css(NEGATIVE)}, ${css(ZERO)}, ${css(POSITIVE)})` : `linear-gradient(to right, ${css(ZERO)}, ${css(DARK)})`;
  key.append(low, bar, `${scale.signed ? "+" : ""}${rounded(scale.top)}`);
  return key;
}

// A sequence CNN's image with a row per channel, its channel indices beside the rows
function indexedRows(canvas, rows) {
  const holder = Object.assign(document.createElement("div"), { className: "indexed" });
  const index = Object.assign(document.createElement("div"), { className: "row-index" });
  const every = Math.max(1, Math.ceil(rows / 5));
  for (let row = 0; row < rows; row += every) {
    const label = Object.assign(document.createElement("span"), { textContent: String(row) });
    label.style.top = `${row * ROW_PX}px`;
    index.append(label);
  }
  canvas.style.height = `${rows * ROW_PX}px`;
  holder.append(index, canvas);
  return holder;
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

// an example captioned "true → predicted" (red when wrong), or a channel by its index
function captioned(canvas, text) {
  const figure = document.createElement("figure");
  figure.append(canvas);
  if (text) {
    const [truth, predicted] = text.split(" → ");
    const caption = Object.assign(document.createElement("figcaption"), { textContent: text });
    if (predicted !== undefined && truth !== predicted) caption.className = "wrong";
    figure.append(caption);
  }
  return figure;
}

// The first example wide, each convolution's maps (channels x positions) stretched under it
function sequenceView(inputs, maps) {
  const column = Object.assign(document.createElement("div"), { className: "sequence" });
  column.append(captioned(lineOf(floats(inputs.pixels), 0, inputs.width, SEQUENCE_WIDTH, 80), inputs.captions[0]));
  for (const event of maps) {
    const values = floats(event.pixels);
    const scale = scaleOf(values);
    const map = scaledCanvas(values, 0, event.height, event.width, scale);
    map.style.width = "100%"; // as wide as the line above (at most SEQUENCE_WIDTH): positions line up
    const label = Object.assign(document.createElement("figcaption"), { textContent: say("pictures.map_rows", { layer: event.tag.split("/")[1], channels: event.height }) });
    label.append(" ", scaleKey(scale));
    const figure = document.createElement("figure");
    figure.append(indexedRows(map, event.height), label);
    column.append(figure);
  }
  return column;
}

// The examples, or a layer's kernels or maps (a channel each, captioned by its index; a sequence CNN's
// kernels one image, a row per filter and its taps across)
function grid(event, scale) {
  const kind = event.tag.split("/")[0];
  const pixels = floats(event.pixels);
  const figures = [];
  const size = event.height * event.width;
  for (let i = 0; i < event.n; i++) {
    if (EXAMPLE_LIKE.has(kind)) {
      const canvas = event.sequence ? lineOf(pixels, i * size, event.width, 96, 40) : canvasOf(pixels, i * size, event.height, event.width, SCALE.inputs);
      figures.push(captioned(canvas, event.captions[i] ?? ""));
    } else if (event.sequence) {
      const canvas = scaledCanvas(pixels, i * size, event.height, event.width, scale);
      canvas.style.width = `${event.width * TAP_PX}px`;
      figures.push(indexedRows(canvas, event.height));
    } else {
      const canvas = scaledCanvas(pixels, i * size, event.height, event.width, scale);
      canvas.style.width = `${event.width * SCALE[kind]}px`;
      canvas.style.height = `${event.height * SCALE[kind]}px`;
      figures.push(captioned(canvas, String(i)));
    }
  }
  const row = Object.assign(document.createElement("div"), { className: "pictures" });
  row.append(...figures);
  if (kind === "grid") { // codes over a plane: drawn as the square they were laid out in
    row.style.display = "grid";
    row.style.gridTemplateColumns = `repeat(${Math.round(Math.sqrt(event.n))}, max-content)`;
    row.style.gap = "0";
  }
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
      const words = kind === "inputs" && !event.captions.some((caption) => caption.includes("→")) ? "pictures.inputsRebuilt" : `pictures.${kind}`; // no prediction to name
      const title = Object.assign(document.createElement("h3"), { textContent: say(words, { layer, step: event.step }) });
      const scale = EXAMPLE_LIKE.has(kind) ? null : scaleOf(floats(event.pixels));
      if (scale) title.append(" ", scaleKey(scale));
      sections.push(title, grid(event, scale));
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

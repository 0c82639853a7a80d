// Image data: examples with their true and predicted class; for a CNN, each convolution's kernels and
// one example's feature maps after it. Each image a small canvas, scaled up without smoothing.
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

function grid(event) {
  const kind = event.tag.split("/")[0];
  const pixels = floats(event.pixels);
  const figures = [];
  for (let i = 0; i < event.n; i++) {
    const figure = document.createElement("figure");
    figure.append(canvasOf(pixels, i * event.height * event.width, event.height, event.width, SCALE[kind] || 6));
    if (event.captions[i]) {
      const [truth, predicted] = event.captions[i].split(" → ");
      const caption = Object.assign(document.createElement("figcaption"), { textContent: event.captions[i] });
      if (truth !== predicted) caption.className = "wrong";
      figure.append(caption);
    }
    figures.push(figure);
  }
  const row = Object.assign(document.createElement("div"), { className: "pictures" });
  row.append(...figures);
  return row;
}

export function mount(el) {
  el.dataset.testid = "pictures";
  let latest; // tag -> newest images event

  function reset() {
    latest = new Map();
    el.replaceChildren(Object.assign(document.createElement("p"), { className: "hint", textContent: t("pictures.none") }));
  }

  function draw() {
    if (!latest.size) return;
    const sections = [];
    for (const [tag, event] of latest) {
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

// The settings form, built from /api/meta and the FIELDS table; reads and writes flat values.
import { onLanguageChange, say, t } from "../i18n.js";
import { CONV_LAYER, dataKindOf, decodeConv, encodeConv, FEATURES, FIELDS, KIND_STARTS, kindsOf, PAGE_DEFAULTS, PRESETS, relevant, specFromValues, UPLOADED, valuesFromSpec } from "../state.js";
import { datasetText } from "../api.js";
import { chooseTable } from "./uploads.js";

const LOG_MIN = -5; // learning-rate slider: 1e-5 .. 1e3
const LOG_MAX = 3;

// A feature over the plane [-1.5, 1.5]² as a small image (blue negative, orange positive), as
// TensorFlow Playground draws its input units.
const FEATURE_FUNCTIONS = {
  x1: (x) => x, x2: (x, y) => y, x1_sq: (x) => x * x, x2_sq: (x, y) => y * y,
  x1_x2: (x, y) => x * y, sin_x1: (x) => Math.sin(x), sin_x2: (x, y) => Math.sin(y),
};

function featureImage(name, size = 24) {
  const canvas = Object.assign(document.createElement("canvas"), { width: size, height: size });
  const context = canvas.getContext("2d");
  const image = context.createImageData(size, size);
  const at = (i) => -1.5 + (3 * i) / (size - 1);
  const values = [];
  for (let r = 0; r < size; r++) for (let c = 0; c < size; c++) values.push(FEATURE_FUNCTIONS[name](at(c), at(size - 1 - r)));
  const scale = Math.max(...values.map(Math.abs), 1e-6);
  values.forEach((value, p) => {
    const v = value / scale;
    const [R, G, B] = v >= 0 ? [245, 147, 34] : [8, 119, 189];
    const w = Math.abs(v);
    image.data.set([232 + (R - 232) * w, 234 + (G - 234) * w, 235 + (B - 235) * w, 255], p * 4);
  });
  context.putImageData(image, 0, 0);
  return canvas;
}

// Toggles for the input features, each drawn as its unit; the value lives in a hidden input.
function featureToggles(field) {
  const wrap = Object.assign(document.createElement("span"), { className: "features" });
  const input = Object.assign(document.createElement("input"), { type: "hidden", name: field.path });
  const buttons = Object.keys(FEATURES).map((name) => {
    const button = Object.assign(document.createElement("button"), { type: "button", className: "feature", title: FEATURES[name] });
    button.dataset.feature = name;
    button.append(featureImage(name), Object.assign(document.createElement("span"), { textContent: FEATURES[name] }));
    button.addEventListener("click", () => {
      button.setAttribute("aria-pressed", String(button.getAttribute("aria-pressed") !== "true"));
      input.value = buttons.filter((b) => b.getAttribute("aria-pressed") === "true").map((b) => b.dataset.feature).join(",");
      input.dispatchEvent(new Event("change", { bubbles: true }));
    });
    return button;
  });
  input.sync = () => {
    const chosen = new Set(input.value.split(","));
    for (const button of buttons) button.setAttribute("aria-pressed", String(chosen.has(button.dataset.feature)));
  };
  wrap.append(input, ...buttons);
  return wrap;
}

// A slider with its value written beside it (TensorFlow Playground's noise and ratio).
function rangeControl(field) {
  const wrap = Object.assign(document.createElement("span"), { className: "range-control" });
  const input = Object.assign(document.createElement("input"), { type: "range", name: field.path, min: field.min, max: field.max, step: field.step });
  const shown = document.createElement("output");
  input.sync = () => { shown.textContent = field.percent ? `${Math.round(100 * Number(input.value))}%` : Number(input.value).toFixed(2); };
  input.addEventListener("input", input.sync);
  input.addEventListener("change", input.sync);
  wrap.append(input, shown);
  return wrap;
}

// The data's own seed: empty follows the run's seed; "new data" draws another set of points.
function seedControl(field) {
  const wrap = Object.assign(document.createElement("span"), { className: "seed-control" });
  const input = Object.assign(document.createElement("input"), { type: "number", name: field.path, step: 1, min: 0 });
  input.dataset.i18nPlaceholder = "form.runSeed";
  input.placeholder = t("form.runSeed"); // empty: the run's own seed
  const again = words("form.newData", "new data", Object.assign(document.createElement("button"), { type: "button", className: "quiet", name: "regenerate" }));
  again.addEventListener("click", () => {
    input.value = Math.floor(Math.random() * 100000);
    input.dispatchEvent(new Event("change", { bubbles: true }));
  });
  wrap.append(input, again);
  return wrap;
}

// A CNN's convolutions: channels per layer, and the pooling after each; the value lives in a hidden input
function convControl(field) {
  const wrap = Object.assign(document.createElement("span"), { className: "conv-control" });
  const input = Object.assign(document.createElement("input"), { type: "hidden", name: field.path });
  const channels = Object.assign(document.createElement("input"), { placeholder: "8,16", name: "conv-channels" });
  channels.dataset.i18nLabel = "aria.convChannels";
  channels.setAttribute("aria-label", t("aria.convChannels"));
  channels.title = "channels per convolution; 25:5/2 is 25 channels, kernel 5, stride 2";
  const pool = document.createElement("select");
  pool.name = "conv-pool";
  for (const kind of ["max", "avg", "none"]) {
    const option = new Option(kind, kind);
    option.dataset.i18n = `pool.${kind}`;
    pool.add(option);
  }
  const update = () => { input.value = `${channels.value};${pool.value}`; };
  channels.addEventListener("change", update);
  pool.addEventListener("change", update);
  input.sync = () => {
    const [list = "", kind = "max"] = input.value.split(";");
    channels.value = list;
    pool.value = kind;
  };
  wrap.append(input, channels, pool);
  return wrap;
}

// Hidden widths as a list, with TensorFlow Playground's buttons: − drops the last layer, + adds one as wide
// as the last (an empty list is no hidden layer: a CNN straight to its read-out)
function layersControl(field) {
  const wrap = Object.assign(document.createElement("span"), { className: "layers-control" });
  const input = Object.assign(document.createElement("input"), { name: field.path, placeholder: "8,8" });
  const widths = () => input.value.split(",").map((s) => s.trim()).filter(Boolean);
  // a button that rewrites the widths; label: what a screen reader says
  const button = (text, name, label, change) => {
    const b = Object.assign(document.createElement("button"), { type: "button", className: "quiet", textContent: text, name });
    b.setAttribute("aria-label", label);
    b.addEventListener("click", () => {
      input.value = change(widths()).join(",");
      input.dispatchEvent(new Event("change", { bubbles: true }));
    });
    return b;
  };
  const fewer = button("−", "fewer-layers", t("form.fewerLayers"), (list) => list.slice(0, -1));
  const more = button("+", "more-layers", t("form.moreLayers"), (list) => [...list, list.at(-1) || "4"]);
  fewer.dataset.i18nLabel = "form.fewerLayers"; // translated with the page
  more.dataset.i18nLabel = "form.moreLayers";
  // each layer's width with its own − and + (TensorFlow Playground's buttons above each layer), named with
  // the layer's number, so rebuilt when the language changes
  const units = Object.assign(document.createElement("span"), { className: "units" });
  input.sync = () => {
    units.replaceChildren(...widths().map((width, layer) => {
      const step = (delta) => (all) => all.map((w, i) => (i === layer ? String(Math.max(1, (Number(w) || 1) + delta)) : w));
      const one = Object.assign(document.createElement("span"), { className: "unit-stepper" });
      const less = button("−", `fewer-units-${layer}`, say("form.fewerUnitsIn", { layer: layer + 1 }), step(-1));
      const added = button("+", `more-units-${layer}`, say("form.moreUnitsIn", { layer: layer + 1 }), step(1));
      one.append(less, Object.assign(document.createElement("output"), { textContent: width }), added);
      return one;
    }));
  };
  input.addEventListener("input", input.sync);
  input.addEventListener("change", input.sync);
  onLanguageChange(() => input.sync());
  wrap.append(input, fewer, more, units);
  return wrap;
}

// Data that is text (a corpus), as text: empty trains on the generated text, which "Show" brings in to
// read or edit (what is then written here is trained on); its size beside it, against the request limit.
function textControl(field, meta) {
  const wrap = Object.assign(document.createElement("span"), { className: "text-control" });
  const input = Object.assign(document.createElement("textarea"), { name: field.path, rows: 5, spellcheck: false });
  input.dataset.i18nPlaceholder = "form.textGenerated";
  input.placeholder = t("form.textGenerated", "empty: the generated text");
  const show = words("form.showText", "Show the generated text", Object.assign(document.createElement("button"), { type: "button", className: "quiet", name: "show-text" }));
  const size = Object.assign(document.createElement("output"), { className: "text-size" });
  input.sync = () => { size.textContent = input.value ? say("form.textSize", { kb: (new Blob([input.value]).size / 1024).toFixed(1), limit: (meta.limits.max_body_bytes / 1024).toFixed(0) }) : ""; };
  input.addEventListener("input", input.sync);
  onLanguageChange(() => input.sync());
  wrap.append(input, show, size);
  return wrap;
}

function control(field, meta) {
  let input;
  if (field.control === "text") return textControl(field, meta);
  if (field.path === "model.hidden") return layersControl(field);
  if (field.control === "features") return featureToggles(field);
  if (field.control === "conv") return convControl(field);
  if (field.control === "range") return rangeControl(field);
  if (field.control === "seed") return seedControl(field);
  if (field.control === "select") {
    input = document.createElement("select");
    for (const choice of field.choices(meta)) {
      const [value, label, key] = Array.isArray(choice) ? choice : [choice, choice];
      const option = new Option(label, value);
      if (key) option.dataset.i18n = key; // translated in place with the page
      input.add(option);
    }
  } else if (field.control === "log") {
    // A log slider with the exact value beside it: rates span orders of magnitude.
    const wrap = document.createElement("span");
    wrap.className = "log-control";
    const slider = Object.assign(document.createElement("input"), { type: "range", min: LOG_MIN, max: LOG_MAX, step: 0.01 });
    input = Object.assign(document.createElement("input"), { type: "number", step: "any", min: 0 });
    slider.setAttribute("aria-label", say("aria.logSlider", { field: t(`field.${field.path}`, field.label) }));
    slider.addEventListener("input", () => {
      input.value = Number((10 ** Number(slider.value)).toPrecision(2));
      input.dispatchEvent(new Event("change", { bubbles: true }));
    });
    input.addEventListener("input", () => { slider.value = Math.log10(Number(input.value) || 1e-5); });
    input.sync = () => { slider.value = Math.log10(Number(input.value) || 1e-5); };
    input.name = field.path;
    wrap.append(slider, input);
    return wrap;
  } else {
    input = document.createElement("input");
    if (field.control === "checkbox") input.type = "checkbox";
    else if (field.control === "list") input.placeholder = "8,8";
    else { input.type = "number"; input.step = field.step; }
  }
  input.name = field.path;
  return input;
}

// Text the language toggle translates (translatePage): English here, other languages in i18n.js.
function words(key, english, element = document.createElement("span")) {
  element.textContent = english;
  element.dataset.i18n = key;
  return element;
}

// The form field an error's location names: its path's keys in order, union tags allowed between.
function fieldAt(loc) {
  let best = null;
  for (const field of FIELDS) {
    const keys = field.path.split(".");
    if (loc[0] !== keys[0]) continue;
    let matched = 0;
    for (const part of loc) if (part === keys[matched]) matched += 1;
    if (matched === keys.length && (!best || keys.length > best.path.split(".").length)) best = field;
  }
  return best;
}

// Each form field's default as the first kind that has it declares it (the JSON schema of /api/meta)
function kindDefaults(meta, kinds) {
  const values = {};
  for (const def of Object.values(meta.schema.$defs)) {
    const kind = def.properties && def.properties.kind && def.properties.kind.const;
    const family = kind in kinds.model ? "model" : kind in kinds.data ? "data" : null;
    if (!family) continue;
    for (const [name, property] of Object.entries(def.properties)) {
      const path = `${family}.${name}`;
      if (!(path in values) && "default" in property && FIELDS.some((field) => field.path === path)) values[path] = property.default;
    }
  }
  return values;
}

export function mountControls(form, meta, onChange) {
  form.replaceChildren();
  const kinds = kindsOf(meta);
  const presets = document.createElement("label");
  const presetSelect = document.createElement("select");
  presetSelect.name = "preset";
  presetSelect.add(words("form.pickPreset", "— pick a preset —", new Option("", "")));
  for (const name of Object.keys(PRESETS)) presetSelect.add(new Option(name, name));
  const reset = words("form.reset", "Reset", Object.assign(document.createElement("button"), { type: "button", className: "quiet", name: "reset" }));
  presets.append(words("form.preset", "Preset"), presetSelect, reset);
  form.append(presets);

  const groups = new Map();
  for (const field of FIELDS) {
    if (!groups.has(field.group)) {
      const fieldset = document.createElement("fieldset");
      const legend = document.createElement("legend");
      legend.append(words(`group.${field.group}`, field.group));
      fieldset.append(legend);
      groups.set(field.group, fieldset);
      form.append(fieldset);
    }
    const label = document.createElement("label");
    label.dataset.path = field.path;
    label.append(words(`field.${field.path}`, field.label), control(field, meta));
    groups.get(field.group).append(label);
  }

  // a field no default spec has (a VAE's beta) starts at its own kind's default, never empty
  const defaults = { ...kindDefaults(meta, kinds), ...valuesFromSpec(meta.defaults), ...PAGE_DEFAULTS };

  function read() {
    const values = {};
    for (const field of FIELDS) {
      const input = form.elements[field.path];
      if (field.control === "checkbox") values[field.path] = input.checked;
      else if (field.control === "features") values[field.path] = input.value.split(",").filter(Boolean);
      else if (field.control === "conv") values[field.path] = decodeConv(input.value);
      else if (field.control === "seed") values[field.path] = input.value === "" ? null : Number(input.value);
      else if (field.control === "range") values[field.path] = Number(input.value);
      else if (field.control === "list") values[field.path] = input.value.split(",").map((s) => s.trim()).filter(Boolean).map(Number);
      else if (field.control === "number" || field.control === "log") values[field.path] = input.value === "" ? null : Number(input.value);
      else if (field.control === "text") values[field.path] = input.value.trim() === "" ? null : input.value;
      else if (field.numeric) values[field.path] = Number(input.value);
      else values[field.path] = input.value;
    }
    return values;
  }

  function write(values) {
    const merged = { ...defaults, ...values };
    for (const field of FIELDS) {
      const input = form.elements[field.path];
      const value = merged[field.path];
      if (value === undefined) continue;
      if (field.control === "checkbox") input.checked = Boolean(value);
      else if (field.control === "list" || field.control === "features") input.value = value.join(",");
      else if (field.control === "conv") input.value = encodeConv(value);
      else if (field.path === "data.dataset" && value.startsWith(UPLOADED)) chooseTable(input, value);
      else input.value = value ?? "";
      if (input.sync) input.sync();
    }
    showRelevant();
  }

  function showRelevant() {
    const dataKind = dataKindOf(form.elements["data.dataset"].value, kinds);
    const modelKind = form.elements["model.kind"].value;
    for (const field of FIELDS) form.querySelector(`[data-path="${field.path}"]`).hidden = !relevant(field, dataKind, modelKind, kinds);
  }

  // ---- errors at their fields, in the reader's language ----
  const labelOf = (path) => form.querySelector(`[data-path="${path}"]`);

  function markError(path, key, values = {}, fallback = key) {
    const label = labelOf(path);
    label.classList.add("invalid");
    const text = say(key, values, fallback);
    // the memory estimate's refusal and Start's can name the same error at once: said once
    if ([...label.querySelectorAll(".field-error")].some((shown) => shown.textContent === text)) return;
    const note = Object.assign(document.createElement("span"), { className: "field-error", role: "alert" });
    note.textContent = text; // the server's words reach the page as text
    label.append(note);
  }

  function clearErrors() {
    for (const label of form.querySelectorAll("label.invalid")) label.classList.remove("invalid");
    for (const note of form.querySelectorAll(".field-error")) note.remove();
  }

  // Numbers parsed strictly before anything is sent: "12abc" is an error at its field, never 12.
  function validate() {
    clearErrors();
    let bad = 0;
    for (const field of FIELDS) {
      if (labelOf(field.path).hidden) continue; // not sent for this dataset or model
      const input = form.elements[field.path];
      // empty is a list too (a CNN straight to its read-out); an MLP without a hidden layer is the server's 422
      if (field.control === "list" && !/^\s*(\d+\s*(,\s*\d+\s*)*)?$/.test(input.value)) {
        markError(field.path, "error.bad_list");
        bad += 1;
      } else if ((field.control === "number" || field.control === "log") && (input.validity.badInput || input.value.trim() === "")) {
        markError(field.path, "error.bad_input");
        bad += 1;
      } else if (field.control === "seed" && input.validity.badInput) {
        markError(field.path, "error.bad_input");
        bad += 1;
      } else if (field.control === "conv" && input.value.split(";")[0].trim() !== "" && !input.value.split(";")[0].split(",").every((layer) => CONV_LAYER.test(layer))) {
        // none at all is a list too (an autoencoder without convolutions); a CNN without is the server's 422
        markError(field.path, "error.bad_list");
        bad += 1;
      } else if (field.control === "features" && input.value === "") {
        markError(field.path, "error.no_features");
        bad += 1;
      }
    }
    return bad === 0;
  }

  // A 422's errors at the fields they name (loc: body, then the spec's path with union tags between);
  // returns those that name no field here.
  function showErrors(detail) {
    const unplaced = [];
    for (const error of detail) {
      const loc = error.loc.filter((part) => part !== "body");
      const field = fieldAt(loc);
      if (field) markError(field.path, `error.${error.type}`, error.ctx || {}, error.msg);
      else unplaced.push(`${loc.join(".")}: ${say(`error.${error.type}`, error.ctx || {}, error.msg)}`);
    }
    return unplaced;
  }

  reset.addEventListener("click", () => {
    presetSelect.value = "";
    write(defaults); // the page's defaults: TensorFlow Playground's circle, 8,8 tanh
    onChange(read());
  });
  presetSelect.addEventListener("change", () => {
    if (!presetSelect.value) return;
    write(PRESETS[presetSelect.value]);
    onChange(read());
  });
  // the text a job with these settings would train on, brought into its field to read or edit
  form.addEventListener("click", async (event) => {
    if (event.target.name !== "show-text") return;
    const input = event.target.parentElement.querySelector("textarea");
    const values = read();
    const spec = specFromValues(values, kinds);
    try {
      input.value = (await datasetText({ ...spec.data, text: null }, values.seed ?? 0)).text;
    } catch (error) {
      input.value = "";
      markError(input.name, "error.text", {}, String(error.message || error));
      return;
    }
    input.sync();
    onChange(read());
  });
  form.addEventListener("change", (event) => {
    if (event.target === presetSelect) return;
    if (event.target.name === "model.kind") {
      const kind = event.target.value;
      // a model kind that trains on other data brings its first data kind along
      const trainsOn = meta.kinds.model[kind].data;
      const first = trainsOn[0] === "points2d" ? defaults["data.dataset"] : trainsOn[0];
      const dataset = trainsOn.includes(dataKindOf(form.elements["data.dataset"].value, kinds)) ? {} : { "data.dataset": first };
      if (KIND_STARTS[kind] || "data.dataset" in dataset) write({ ...read(), ...dataset, ...KIND_STARTS[kind] });
    }
    const label = event.target.closest("label.invalid");
    if (label) {
      label.classList.remove("invalid");
      label.querySelector(".field-error")?.remove();
    }
    showRelevant();
    onChange(read());
  });
  return { read, write, validate, showErrors, clearErrors };
}

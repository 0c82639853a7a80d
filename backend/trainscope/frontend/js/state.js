// Form state <-> URL: one table (FIELDS) drives the form, the spec and location.hash, as
// TensorFlow Playground's state.ts does, so a pasted link reproduces a run's settings.
import { learnWords, t } from "./i18n.js";

// What a 2-D model may see of a point, as TensorFlow Playground offers it (names as the API spells them).
export const FEATURES = { x1: "x₁", x2: "x₂", x1_sq: "x₁²", x2_sq: "x₂²", x1_x2: "x₁x₂", sin_x1: "sin(x₁)", sin_x2: "sin(x₂)" };

// Datasets whose label is a value to predict (the API's REGRESSION_DATASETS) are named so in the form.
const DATASET_WORDS = { plane: ["plane (regression)", "dataset.plane"], multi_gauss: ["multi-Gaussian (regression)", "dataset.multi_gauss"] };

// The kinds table, read from the server's JSON schema of a job (/api/meta): for each data and model
// kind, the fields its spec has. The form shows a field only for the kinds that have it, so a new kind
// brings its own fields with no list kept here.
export function kindsOf(meta) {
  // a kind that steps itself (k-means) has no optimizer: its settings are not shown for it
  const models = Object.keys(meta.kinds.model);
  const kinds = { data: {}, model: {}, stepsItself: new Set(models.filter((kind) => meta.kinds.model[kind].gradients === false)) };
  // a kind whose batches ranks can share offers data parallelism (distributed.world_size)
  kinds.dataParallel = new Set(models.filter((kind) => meta.kinds.model[kind].data_parallel));
  for (const def of Object.values(meta.schema.$defs)) {
    const kind = def.properties && def.properties.kind && def.properties.kind.const;
    if (!kind) continue;
    const family = meta.choices["data.kind"].includes(kind) ? "data" : "model";
    kinds[family][kind] = new Set(Object.keys(def.properties));
  }
  return kinds;
}

// The lessons' 2-parameter surfaces (surface data, params2d model) are not offered in the playground.
const LESSON_ONLY = ["surface", "params2d"];

// An uploaded table is chosen by its id: "upload:ID" in the dataset choice and the address.
export const UPLOADED = "upload:";

// The dataset choice: the 2-D datasets by name, then every other data kind the server offers by its
// kind (the uploaded tables are added by views/uploads.js, one choice each)
export const datasetChoices = (meta) => [...meta.choices["data.dataset"], ...meta.choices["data.kind"].filter((kind) => kind !== "points2d" && kind !== "uploaded" && !LESSON_ONLY.includes(kind))];
export const modelChoices = (meta) => meta.choices["model.kind"].filter((kind) => !LESSON_ONLY.includes(kind));
export const dataKindOf = (dataset, kinds) => (dataset.startsWith(UPLOADED) ? "uploaded" : dataset in kinds.data ? dataset : "points2d");
// Points in a plane, drawn with a decision boundary: the 2-D datasets and an uploaded table of two features
export const planar = (data) => data.kind === "points2d" || (data.kind === "uploaded" && data.n_features === 2);
export const datasetOf = (data) => (data.kind === "points2d" ? data.dataset : data.kind === "uploaded" ? UPLOADED + data.dataset : data.kind);

// Whether a field belongs to the chosen data and model kinds (fields outside data.* and model.* always do)
const OPTIMIZER_FIELDS = new Set(["optim.optimizer", "optim.lr", "optim.weight_decay", "optim.batch_size"]);

export function relevant(field, dataKind, modelKind, kinds) {
  if (OPTIMIZER_FIELDS.has(field.path) && kinds.stepsItself && kinds.stepsItself.has(modelKind)) return false;
  if (field.path === "distributed.world_size") return Boolean(kinds.dataParallel && kinds.dataParallel.has(modelKind));
  const [family, name] = field.path.split(".");
  const fields = family === "data" ? kinds.data[dataKind] : family === "model" ? kinds.model[modelKind] : null;
  return !fields || name === "dataset" || fields.has(name);
}

export const FIELDS = [
  { group: "Data", path: "data.dataset", label: "Dataset", control: "select", choices: (m) => datasetChoices(m).map((name) => [name, ...(DATASET_WORDS[name] || [t(`dataset.${name}`, name), `dataset.${name}`])]) },
  { group: "Data", path: "data.features", label: "Inputs", control: "features" },
  { group: "Data", path: "data.noise", label: "Noise", control: "range", min: 0, max: 1, step: 0.05 },
  { group: "Data", path: "data.n_points", label: "Points", control: "number", step: 50 },
  // shifted digits: each 8x8 digit somewhere within `shift` pixels of the centre of a larger canvas
  { group: "Data", path: "data.canvas", label: "Canvas", control: "number", step: 2 },
  { group: "Data", path: "data.shift", label: "Shift", control: "number", step: 1 },
  // MNIST-1D with one fixed shuffle of its 40 positions
  { group: "Data", path: "data.shuffle_positions", label: "Shuffle positions", control: "checkbox" },
  // an uploaded table's columns scaled to mean 0, deviation 1 (by the training rows)
  { group: "Data", path: "data.standardize", label: "Standardize inputs", control: "checkbox" },
  { group: "Data", path: "data.val_fraction", label: "Validation share", control: "range", min: 0.1, max: 0.9, step: 0.05, percent: true },
  // empty: the run's seed draws the data; "new data" draws another set, as TensorFlow Playground's Regenerate
  { group: "Data", path: "data.seed", label: "Data seed", control: "seed" },
  // the network kinds the server offers (a 2-parameter model belongs to the lessons' surfaces)
  { group: "Model", path: "model.kind", label: "Model", control: "select", choices: (m) => modelChoices(m).map((kind) => [kind, t(`model.${kind}`, kind), `model.${kind}`]) },
  // a CNN's convolutions: channels per layer (kernel 3, stride 1 unless written "25:5/2"), one pooling for all
  { group: "Model", path: "model.conv", label: "Convolutions", control: "conv" },
  { group: "Model", path: "model.hidden", label: "Hidden widths", control: "list" },
  // an autoencoder's code and what it is scored by
  { group: "Model", path: "model.latent", label: "Code size", control: "number", step: 1 },
  { group: "Model", path: "model.loss", label: "Reconstruction loss", control: "select", choices: () => [["mse", "squared error", "loss.mse"], ["bce", "binary cross-entropy", "loss.bce"]] },
  // k-means: its centres and how they start; the blobs it runs on
  { group: "Model", path: "model.k", label: "Centres (k)", control: "number", step: 1 },
  { group: "Model", path: "model.seeding", label: "Starting centres", control: "select", choices: () => [["kmeans++", "k-means++", "seeding.kmeans++"], ["random", "random points", "seeding.random"]] },
  { group: "Data", path: "data.centers", label: "Blobs", control: "number", step: 1 },
  { group: "Data", path: "data.spread", label: "Spread", control: "number", step: 0.05 },
  // word2vec: a word's vector and what counts as its context; the corpus it learns from, as text
  { group: "Model", path: "model.dimension", label: "Vector size", control: "number", step: 1 },
  { group: "Model", path: "model.window", label: "Context window", control: "number", step: 1 },
  { group: "Model", path: "model.negatives", label: "Negative samples", control: "number", step: 1 },
  { group: "Model", path: "model.min_count", label: "Minimum count", control: "number", step: 1 },
  { group: "Data", path: "data.language", label: "Language", control: "select", choices: () => [["en", "English", "language.en"], ["ko", "Korean", "language.ko"]] },
  { group: "Data", path: "data.sentences", label: "Sentences", control: "number", step: 500 },
  { group: "Data", path: "data.text", label: "Corpus", control: "text" },
  // a VAE's weight on its KL term
  { group: "Model", path: "model.beta", label: "β (KL weight)", control: "number", step: 0.1 },
  { group: "Model", path: "model.activation", label: "Activation", control: "select", choices: (m) => m.choices["model.activation"] },
  { group: "Model", path: "model.bias", label: "Bias", control: "checkbox" },
  { group: "Model", path: "model.batch_norm", label: "Batch norm", control: "checkbox" },
  { group: "Model", path: "model.dropout", label: "Dropout", control: "number", step: 0.05 },
  { group: "Training", path: "optim.optimizer", label: "Optimizer", control: "select", choices: (m) => m.choices["optim.optimizer"] },
  { group: "Training", path: "optim.lr", label: "Learning rate", control: "log" },
  { group: "Training", path: "optim.weight_decay", label: "Weight decay", control: "number", step: "any" },
  { group: "Training", path: "optim.batch_size", label: "Batch size", control: "number", step: 1 },
  { group: "Training", path: "optim.steps", label: "Steps", control: "number", step: 100 },
  { group: "Training", path: "optim.eval_every", label: "Validate every", control: "number", step: 5 },
  // TensorFlow Playground trains at a pace you can watch; so does this page unless told to go flat out
  { group: "Training", path: "pace", label: "Pace", control: "select", numeric: true, choices: () => [[50, "50 steps/s", "pace.50"], [200, "200 steps/s", "pace.200"], [1000, "1,000 steps/s", "pace.1000"], [0, "flat out", "pace.flat"]] },
  { group: "Training", path: "seed", label: "Seed", control: "number", step: 1 },
  // data parallelism: the run as this many processes, each with a share of every batch (see its lesson)
  { group: "Training", path: "distributed.world_size", label: "Ranks (data parallel)", control: "number", step: 1 },
  { group: "Training", path: "device", label: "Device", control: "select", choices: (m) => m.choices.device.map((d) => [d, d, `device.${d}`]) },
];

// What the server's registry of kinds brings (/api/meta's kinds): each kind's name in every language it
// has, and, for a kind from another package, a field for each of its settings the table above lacks,
// made from its JSON schema (a number, a yes-or-no or a choice; a list or an object keeps its default).
// The built-in kinds' other settings stay out of the form on purpose: it shows the ones worth a control.
// model kinds that step themselves (k-means): no optimizer nor learning rate to show
export const SELF_STEPPING = new Set();

export function learnKinds(meta) {
  for (const [kind, about] of Object.entries(meta.kinds.model)) if (about.gradients === false) SELF_STEPPING.add(kind);
  for (const family of ["model", "data"]) {
    for (const [kind, about] of Object.entries(meta.kinds[family])) {
      for (const [lang, words] of Object.entries(about.words)) learnWords(lang, { [`${family === "model" ? "model" : "dataset"}.${kind}`]: words.name });
    }
  }
  const known = new Set(FIELDS.map((field) => field.path));
  for (const def of Object.values(meta.schema.$defs)) {
    const kind = def.properties && def.properties.kind && def.properties.kind.const;
    const family = meta.kinds.model[kind] ? "model" : meta.kinds.data[kind] ? "data" : null;
    if (!family || meta.kinds[family][kind].source === "trainscope") continue;
    for (const [name, property] of Object.entries(def.properties)) {
      const path = `${family}.${name}`;
      const field = name !== "kind" && !known.has(path) && schemaField(path, property);
      if (!field) continue;
      known.add(path);
      const last = FIELDS.findLastIndex((f) => f.path.startsWith(`${family}.`)); // after its family's fields
      FIELDS.splice(last + 1, 0, field);
    }
  }
}

function schemaField(path, property) {
  const group = path.startsWith("data.") ? "Data" : "Model";
  const label = property.title || path.split(".")[1];
  if (property.enum) return { group, path, label, control: "select", choices: () => property.enum };
  if (property.type === "boolean") return { group, path, label, control: "checkbox" };
  if (property.type === "integer" || property.type === "number") return { group, path, label, control: "number", step: property.type === "integer" ? 1 : "any" };
  return null;
}

// The page's own defaults on top of the API's: a first run long and slow enough to watch it learn.
export const PAGE_DEFAULTS = { "optim.steps": 2000, pace: 200, "data.canvas": 8, "data.shift": 0, "data.standardize": true, "model.conv": [{ channels: 8, pool: "max" }, { channels: 16, pool: "max" }] };

// A setting's name as the form shows it ("Learning rate" for optim.lr), in the page's language; a path the
// form does not show keeps its path
export function fieldName(path) {
  const field = FIELDS.find((f) => f.path === path);
  return t(`field.${path}`, field ? field.label : path);
}

// Probes sample about 40 times in any run, so every over-time view shows it evolve (the API's default,
// every 200 steps, leaves a short run with two snapshots).
export function probesFor(steps) {
  const every = Math.max(10, Math.round(steps / 40));
  return { histogram_every: every, layers_every: every, embedding_every: every, boundary_every: every, network_every: every, system_every: every, images_every: every, confusion_every: every, min_interval_s: 0.1 };
}

// Good first runs: each sets a few fields on top of the defaults.
export const PRESETS = {
  "Spiral, tanh": { "data.dataset": "spiral", "model.hidden": [16, 16], "model.activation": "tanh", "optim.lr": 0.01, "optim.steps": 4000 },
  "Circle, ReLU": { "data.dataset": "circle", "model.hidden": [8, 8], "model.activation": "relu", "optim.lr": 0.01, "optim.steps": 2000 },
  "XOR, no hidden non-linearity": { "data.dataset": "xor", "model.hidden": [8, 8], "model.activation": "identity", "optim.steps": 2000 },
  "Digits, CNN": { "data.dataset": "digits", "model.kind": "cnn2d", "model.hidden": [32], "model.activation": "relu", "optim.lr": 0.003, "optim.batch_size": 64, "optim.steps": 1500 },
  "Shifted digits, CNN": { "data.dataset": "digits", "data.canvas": 16, "data.shift": 4, "model.kind": "cnn2d", "model.conv": [{ channels: 8, pool: "max" }, { channels: 16, pool: "max" }, { channels: 16, pool: "max" }], "model.hidden": [32], "model.activation": "relu", "optim.lr": 0.003, "optim.batch_size": 64, "optim.steps": 2000 },
  "Shifted digits, MLP": { "data.dataset": "digits", "data.canvas": 16, "data.shift": 4, "model.hidden": [64, 32], "model.activation": "relu", "optim.lr": 0.003, "optim.batch_size": 64, "optim.steps": 2000 },
  // the MNIST-1D paper's CNN: 25 channels, kernels 5, 3, 3, each of stride 2, no pooling, a linear read-out
  "MNIST-1D, CNN": { "data.dataset": "mnist1d", "data.val_fraction": 0.2, "model.kind": "cnn1d", "model.conv": [5, 3, 3].map((kernel) => ({ channels: 25, kernel, stride: 2, pool: "none" })), "model.hidden": [], "model.activation": "relu", "optim.lr": 0.01, "optim.batch_size": 100, "optim.steps": 3000 },
  "MNIST-1D, MLP": { "data.dataset": "mnist1d", "data.val_fraction": 0.2, "model.kind": "mlp", "model.hidden": [100, 100], "model.activation": "relu", "optim.lr": 0.01, "optim.batch_size": 100, "optim.steps": 3000 },
  "Digits, autoencoder": { "data.dataset": "digits", "model.kind": "autoencoder", "model.conv": [], "model.hidden": [64], "model.latent": 8, "model.activation": "relu", "optim.lr": 0.003, "optim.batch_size": 64, "optim.steps": 2000 },
  // a convolutional autoencoder: two stride-2 convolutions (8 -> 4 -> 2 pixels), mirrored by transposed ones
  "Digits, convolutional autoencoder": { "data.dataset": "digits", "model.kind": "autoencoder", "model.conv": [8, 16].map((channels) => ({ channels, stride: 2, pool: "none" })), "model.hidden": [32], "model.latent": 8, "model.activation": "relu", "optim.lr": 0.003, "optim.batch_size": 64, "optim.steps": 2000 },
  "Digits, VAE": { "data.dataset": "digits", "model.kind": "vae", "model.hidden": [256], "model.latent": 16, "model.loss": "bce", "model.activation": "relu", "optim.lr": 0.001, "optim.batch_size": 64, "optim.steps": 3000 },
  "Corpus, word2vec": { "data.dataset": "corpus", "data.val_fraction": 0.1, "model.kind": "skipgram", "optim.optimizer": "adam", "optim.lr": 0.01, "optim.batch_size": 256, "optim.steps": 2000 },
  "Digits, MLP": { "data.dataset": "digits", "model.hidden": [64, 32], "model.activation": "relu", "optim.lr": 0.003, "optim.batch_size": 64, "optim.steps": 3000 },
  "Too large a learning rate": { "data.dataset": "moons", "optim.optimizer": "sgd", "optim.lr": 1000, "optim.steps": 2000 },
};

// What choosing a model kind in the form starts from: its preset's settings (all but the steps), those the
// CNN lessons train with. A CNN that kept the MLP's defaults (hidden 8,8, tanh, lr 0.03) reached 38% on
// MNIST-1D: a student would conclude that CNNs are bad.
const withoutSteps = ({ "optim.steps": _, ...settings }) => settings;
export const KIND_STARTS = {
  cnn2d: withoutSteps(PRESETS["Digits, CNN"]),
  cnn1d: withoutSteps(PRESETS["MNIST-1D, CNN"]),
  autoencoder: withoutSteps(PRESETS["Digits, autoencoder"]),
  vae: withoutSteps(PRESETS["Digits, VAE"]),
  skipgram: withoutSteps(PRESETS["Corpus, word2vec"]),
  // Lloyd's iterations settle in about ten steps: thirty, at a pace to watch them
  kmeans: { "data.dataset": "blobs", "model.k": 4, "optim.steps": 30, pace: 50 },
};

export const getPath = (obj, path) => path.split(".").reduce((o, key) => (o == null ? undefined : o[key]), obj);

export function setPath(obj, path, value) {
  const keys = path.split(".");
  const last = keys.pop();
  keys.reduce((o, key) => (o[key] ??= {}), obj)[last] = value;
}

// The flat form values {path: value} of a spec (as the API returns it).
export function valuesFromSpec(spec) {
  const values = {};
  for (const field of FIELDS) {
    if (field.path === "data.dataset") values[field.path] = datasetOf(spec.data);
    else {
      const value = getPath(spec, field.path);
      if (value !== undefined) values[field.path] = value;
    }
  }
  return values;
}

// The JobSpec for flat form values.
export function specFromValues(values, kinds) {
  const spec = {};
  const dataKind = dataKindOf(values["data.dataset"], kinds);
  for (const field of FIELDS) {
    if (field.path === "data.dataset" || !relevant(field, dataKind, values["model.kind"], kinds)) continue;
    if (values[field.path] !== undefined) setPath(spec, field.path, values[field.path]);
  }
  spec.data = { ...(spec.data || {}), kind: dataKind };
  if (values["optim.steps"]) spec.probes = probesFor(values["optim.steps"]);
  if (dataKind === "points2d") spec.data.dataset = values["data.dataset"];
  if (dataKind === "uploaded") spec.data.dataset = values["data.dataset"].slice(UPLOADED.length);
  return spec;
}

// Convolutions as the address and the form write them: "8,16;max" (channels per layer; the pooling of
// all), a layer's kernel and stride after its channels where they are not 3 and 1: "25:5/2,25:3/2;none"
export function encodeConv(layers) {
  const layer = ({ channels, kernel = 3, stride = 1 }) => `${channels}${kernel !== 3 ? `:${kernel}` : ""}${stride !== 1 ? `/${stride}` : ""}`;
  return `${layers.map(layer).join(",")};${layers.length ? layers[0].pool || "max" : "max"}`;
}

// Convolutions in a legend or on an axis: "8,16 max"
export const convText = (layers) => encodeConv(layers).replace(";", " ");

export const CONV_LAYER = /^\s*(\d+)\s*(?::\s*(\d+))?\s*(?:\/\s*(\d+))?\s*$/; // channels[:kernel][/stride]

export function decodeConv(text) {
  const [list = "", pool = "max"] = text.split(";");
  return list.split(",").filter((part) => part.trim()).map((part) => {
    const [, channels, kernel, stride] = part.match(CONV_LAYER) || [];
    const layer = { channels: Number(channels), pool };
    if (kernel) layer.kernel = Number(kernel);
    if (stride) layer.stride = Number(stride);
    return layer;
  });
}

function encodeValue(field, value) {
  if (field.control === "conv") return encodeConv(value);
  return Array.isArray(value) ? value.join(",") : value === null ? "" : String(value);
}

function decodeValue(field, text) {
  if (field.control === "checkbox") return text === "true";
  if (field.control === "list") return text.split(",").filter(Boolean).map(Number);
  if (field.control === "features") return text.split(",").filter((name) => name in FEATURES);
  if (field.control === "conv") return decodeConv(text);
  if (field.control === "seed") return text === "" || text === "null" ? null : Number(text);
  if (["number", "log", "range"].includes(field.control) || field.numeric) return Number(text);
  return text;
}

export function toHash(values) {
  const params = new URLSearchParams();
  for (const field of FIELDS) {
    if (values[field.path] !== undefined) params.set(field.path, encodeValue(field, values[field.path]));
  }
  return "#" + params.toString();
}

// Form values from a hash; unknown keys and unparsable numbers are ignored.
export function fromHash(hash) {
  const params = new URLSearchParams(hash.replace(/^#/, ""));
  const values = {};
  for (const field of FIELDS) {
    if (!params.has(field.path)) continue;
    const value = decodeValue(field, params.get(field.path));
    if (typeof value === "number" && !Number.isFinite(value)) continue;
    values[field.path] = value;
  }
  return values;
}

// Wiring: build the form from /api/meta, start a job, follow it, feed the chart.
import { cancelJob, createJob, getMeta } from "./api.js";
import { followJob } from "./stream.js";
import { mount as mountLossChart } from "./charts/loss.js";

// One table drives the form: path in the spec, label, control.
const FIELDS = [
  { group: "Data", path: "data.dataset", label: "Dataset", control: "select", choices: (m) => [...m.choices["data.dataset"], "digits"] },
  { group: "Data", path: "data.noise", label: "Noise", control: "number", step: 0.05, points2d: true },
  { group: "Data", path: "data.n_points", label: "Points", control: "number", step: 50, points2d: true },
  { group: "Data", path: "data.val_fraction", label: "Validation share", control: "number", step: 0.05 },
  { group: "Model", path: "model.hidden", label: "Hidden widths", control: "list" },
  { group: "Model", path: "model.activation", label: "Activation", control: "select", choices: (m) => m.choices["model.activation"] },
  { group: "Model", path: "model.bias", label: "Bias", control: "checkbox" },
  { group: "Model", path: "model.batch_norm", label: "Batch norm", control: "checkbox" },
  { group: "Model", path: "model.dropout", label: "Dropout", control: "number", step: 0.05 },
  { group: "Training", path: "optim.optimizer", label: "Optimizer", control: "select", choices: (m) => m.choices["optim.optimizer"] },
  { group: "Training", path: "optim.lr", label: "Learning rate", control: "number", step: "any" },
  { group: "Training", path: "optim.weight_decay", label: "Weight decay", control: "number", step: "any" },
  { group: "Training", path: "optim.batch_size", label: "Batch size", control: "number", step: 1 },
  { group: "Training", path: "optim.steps", label: "Steps", control: "number", step: 100 },
  { group: "Training", path: "optim.eval_every", label: "Validate every", control: "number", step: 5 },
  { group: "Training", path: "seed", label: "Seed", control: "number", step: 1 },
  { group: "Training", path: "device", label: "Device", control: "select", choices: (m) => m.choices.device },
];

const getPath = (obj, path) => path.split(".").reduce((o, key) => (o == null ? undefined : o[key]), obj);
function setPath(obj, path, value) {
  const keys = path.split(".");
  const last = keys.pop();
  keys.reduce((o, key) => (o[key] ??= {}), obj)[last] = value;
}

function buildControl(field, meta) {
  const value = getPath(meta.defaults, field.path);
  let input;
  if (field.control === "select") {
    input = document.createElement("select");
    for (const choice of field.choices(meta)) input.add(new Option(choice, choice));
    input.value = value;
  } else {
    input = document.createElement("input");
    if (field.control === "checkbox") { input.type = "checkbox"; input.checked = value; }
    else if (field.control === "list") { input.value = value.join(","); input.placeholder = "8,8"; }
    else { input.type = "number"; input.step = field.step; input.value = value; }
  }
  input.name = field.path;
  const label = document.createElement("label");
  label.append(field.label, input);
  label.dataset.path = field.path;
  return label;
}

function buildForm(form, meta) {
  form.replaceChildren();
  const groups = new Map();
  for (const field of FIELDS) {
    if (!groups.has(field.group)) {
      const fieldset = document.createElement("fieldset");
      const legend = document.createElement("legend");
      legend.textContent = field.group;
      fieldset.append(legend);
      groups.set(field.group, fieldset);
      form.append(fieldset);
    }
    groups.get(field.group).append(buildControl(field, meta));
  }
  const dataset = form.elements["data.dataset"];
  const togglePointFields = () => {
    for (const field of FIELDS.filter((f) => f.points2d)) {
      form.querySelector(`[data-path="${field.path}"]`).hidden = dataset.value === "digits";
    }
  };
  dataset.addEventListener("change", togglePointFields);
  togglePointFields();
}

function readSpec(form) {
  const spec = {};
  for (const field of FIELDS) {
    const input = form.elements[field.path];
    if (field.points2d && form.elements["data.dataset"].value === "digits") continue;
    let value;
    if (field.control === "checkbox") value = input.checked;
    else if (field.control === "list") value = input.value.split(",").map((s) => s.trim()).filter(Boolean).map(Number);
    else if (field.control === "number") value = input.value === "" ? null : Number(input.value);
    else value = input.value;
    setPath(spec, field.path, value);
  }
  if (spec.data.dataset === "digits") spec.data = { kind: "digits", val_fraction: spec.data.val_fraction };
  else spec.data.kind = "points2d";
  return spec;
}

async function start() {
  const form = document.getElementById("spec-form");
  const startButton = document.getElementById("start");
  const stopButton = document.getElementById("stop");
  const status = document.getElementById("status");
  const chart = mountLossChart(document.getElementById("loss-chart"));
  let meta;
  try {
    meta = await getMeta();
  } catch (error) {
    form.innerHTML = `<p class="error">Could not reach the server: ${error.message}</p>`;
    return;
  }
  buildForm(form, meta);
  startButton.disabled = false;
  let stream = null;
  let jobId = null;

  function show(text, isError = false) {
    status.textContent = text;
    status.className = isError ? "error" : "";
  }

  function onEvents(events) {
    chart.append(events);
    for (const event of events) {
      if (event.type === "status") {
        const acc = event.detail && event.detail["val/acc"];
        const figure = acc !== undefined ? ` · val acc ${(100 * acc).toFixed(1)}%` : "";
        show(`${event.status}: ${event.message}${figure}`, event.status === "failed");
      }
      if (event.type === "scalars") {
        const last = event.points[event.points.length - 1];
        const acc = last.values["val/acc"];
        show(`running · step ${last.step} · loss ${last.values["train/loss"].toFixed(4)}` +
          (acc !== undefined ? ` · val acc ${(100 * acc).toFixed(1)}%` : ""));
      }
    }
  }

  startButton.addEventListener("click", async () => {
    if (stream) stream.close();
    chart.reset();
    startButton.disabled = true;
    try {
      const job = await createJob(readSpec(form));
      jobId = job.id;
      show(`queued (job ${job.id})`);
      stopButton.disabled = false;
      stream = followJob(job.id, {
        onEvents,
        onClose: () => { startButton.disabled = false; stopButton.disabled = true; },
      });
    } catch (error) {
      show(error.message, true);
      startButton.disabled = false;
    }
  });

  stopButton.addEventListener("click", async () => {
    try { await cancelJob(jobId); } catch (error) { show(error.message, true); }
  });
}

start();

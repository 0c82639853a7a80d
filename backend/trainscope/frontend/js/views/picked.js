// Runs picked in the playground's list, compared as a group's are: the settings they differ in are
// found here, and each run goes by its name (or, unnamed, by those settings).

import { ENDED } from "../api.js";
import { convText } from "../state.js";

// {"optim.lr": 0.1, "model.hidden": [8, 8], "model.conv": "8,16 max", ...}: a list of numbers or words is
// one value, a CNN's convolutions are written as the form writes them, other objects are walked into
function flatten(value, prefix = "", out = {}) {
  for (const [key, inner] of Object.entries(value)) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (path === "model.conv" && Array.isArray(inner)) out[path] = convText(inner);
    else if (inner && typeof inner === "object" && (!Array.isArray(inner) || inner.some((item) => item && typeof item === "object"))) flatten(inner, path, out);
    else out[path] = inner;
  }
  return out;
}

const shown = (value) => (value === undefined ? "-" : Array.isArray(value) ? `[${value.join(",")}]` : String(value));

// "optim.lr" -> "lr"; "model.conv.1.channels" -> "conv2 channels" (a list's item by its place, from 1)
function settingName(path) {
  const parts = path.split(".");
  const last = parts.pop();
  const index = parts.length && /^\d+$/.test(parts.at(-1)) ? Number(parts.pop()) + 1 : null;
  return index === null ? last : `${parts.at(-1)}${index} ${last}`;
}

const LEGEND_CHARS = 40; // longer labels are cut, not wrapped over the plots; the line above names the settings
const cut = (text) => (text.length > LEGEND_CHARS ? `${text.slice(0, LEGEND_CHARS - 1)}…` : text);

// Names that start alike ("Two blobs away from the origin · without bias", "… · with bias", a lesson's runs)
// go by the parts after what they share: cut to fit, they all read "Two blobs away from the origin · w…"
function ownParts(names) {
  const parts = names.map((name) => name.split(" · "));
  let shared = 0;
  while (parts.every((p) => p.length > shared + 1 && p[shared] === parts[0][shared])) shared += 1;
  return parts.map((p) => p.slice(shared).join(" · "));
}

// A group record, as GET /api/groups/{id} has it, for jobs that were not submitted as one
export function groupOfJobs(jobs) {
  const flat = jobs.map((job) => flatten(job.spec));
  // probe intervals follow the steps, and a name is no setting: neither says how runs differ
  const paths = [...new Set(flat.flatMap(Object.keys))].filter((path) => path !== "name" && !path.startsWith("probes."));
  const differs = paths.filter((path) => new Set(flat.map((values) => JSON.stringify(values[path]))).size > 1);
  const named = new Map();
  const names = jobs.length > 1 && jobs.every((job) => job.name) ? ownParts(jobs.map((job) => job.name)) : jobs.map((job) => job.name);
  const runs = jobs.map((job, i) => {
    const changes = Object.fromEntries(differs.map((path) => [path, flat[i][path]]));
    const settings = differs.map((path) => `${settingName(path)} ${shown(flat[i][path])}`).join(", ");
    let label = cut(names[i] || settings || job.id);
    if (named.has(label)) label = `${label} (${job.id})`; // two runs of one name keep a colour each
    named.set(label, job.id);
    return { job_id: job.id, label, label_ko: "", part: "", changes, job };
  });
  return { id: null, name: "", lesson: null, runs, differs, finished: jobs.every((job) => ENDED.has(job.status)), verdict: null };
}

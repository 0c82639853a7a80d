// Runs picked in the playground's list, compared as a group's are: the settings they differ in are
// found here, and each run goes by its name (or, unnamed, by those settings).

const ENDED = new Set(["done", "failed", "cancelled", "diverged"]);

// {"optim.lr": 0.1, "model.hidden": [8, 8], ...}: lists are values, objects are walked into
function flatten(value, prefix = "", out = {}) {
  for (const [key, inner] of Object.entries(value)) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (inner && typeof inner === "object" && !Array.isArray(inner)) flatten(inner, path, out);
    else out[path] = inner;
  }
  return out;
}

const shown = (value) => (Array.isArray(value) ? `[${value.join(",")}]` : String(value));

// A group record, as GET /api/groups/{id} has it, for jobs that were not submitted as one
export function groupOfJobs(jobs) {
  const flat = jobs.map((job) => flatten(job.spec));
  // probe intervals follow the steps, and a name is no setting: neither says how runs differ
  const paths = [...new Set(flat.flatMap(Object.keys))].filter((path) => path !== "name" && !path.startsWith("probes."));
  const differs = paths.filter((path) => new Set(flat.map((values) => JSON.stringify(values[path]))).size > 1);
  const named = new Map();
  const runs = jobs.map((job, i) => {
    const changes = Object.fromEntries(differs.map((path) => [path, flat[i][path]]));
    const settings = differs.map((path) => `${path.split(".").pop()} ${shown(flat[i][path])}`).join(", ");
    let label = job.name || settings || job.id;
    if (named.has(label)) label = `${label} (${job.id})`; // two runs of one name keep a colour each
    named.set(label, job.id);
    return { job_id: job.id, label, label_ko: "", part: "", changes, job };
  });
  return { id: null, name: "", lesson: null, runs, differs, finished: jobs.every((job) => ENDED.has(job.status)), verdict: null };
}

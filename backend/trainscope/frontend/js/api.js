// The only module that knows the server's URLs.

// a job's statuses once it is over (schemas/jobs.py's): no more events will come
export const ENDED = new Set(["done", "failed", "cancelled", "diverged"]);

const TOKEN_KEY = "trainscope-token";

export const hasToken = () => Boolean(localStorage.getItem(TOKEN_KEY));

export function askForToken() {
  const answer = window.prompt("This server needs its access token to start or change runs:");
  if (answer) localStorage.setItem(TOKEN_KEY, answer.trim());
  return Boolean(answer);
}

// A server started with TRAINSCOPE_TOKEN needs it for every change; viewing needs none. The page asks
// once, on the first 401, and keeps the answer in this browser. A body is JSON, or a file (a Blob) sent
// as it is.
async function request(method, path, body, asked = false) {
  const file = body instanceof Blob;
  const headers = body === undefined ? {} : { "Content-Type": file ? "text/csv" : "application/json" };
  const token = localStorage.getItem(TOKEN_KEY);
  if (token && method !== "GET") headers.Authorization = `Bearer ${token}`;
  const response = await fetch(path, { method, headers, body: body === undefined || file ? body : JSON.stringify(body) });
  if (response.status === 401 && !asked && askForToken()) return request(method, path, body, true);
  const data = response.status === 204 ? null : await response.json();
  if (!response.ok) {
    const error = new Error(describeError(response.status, data));
    error.status = response.status;
    error.detail = data && data.detail;
    throw error;
  }
  return data;
}

function describeError(status, data) {
  const detail = data && data.detail;
  if (Array.isArray(detail)) {
    return detail.map((d) => `${d.loc.filter((part) => part !== "body").join(".")}: ${d.msg}`).join("; ");
  }
  return detail ? String(detail) : `HTTP ${status}`;
}

export const getMeta = () => request("GET", "/api/meta");
export const createJob = (spec) => request("POST", "/api/jobs", spec);
export const estimateMemory = (spec) => request("POST", "/api/jobs/estimate", spec, true);
export const getJob = (id) => request("GET", `/api/jobs/${encodeURIComponent(id)}`);
export const cancelJob = (id) => request("POST", `/api/jobs/${encodeURIComponent(id)}/cancel`);
export const controlJob = (id, command) => request("POST", `/api/jobs/${encodeURIComponent(id)}/control`, command);
export const deleteJob = (id) => request("DELETE", `/api/jobs/${encodeURIComponent(id)}`);
// filters: {status, lesson ("true" | "false"), dataset, order ("-val/acc"), where (a list: "val/acc>0.9"),
// offset, limit}; empty ones are left out
export const listJobs = (filters = {}) => {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries({ limit: 50, ...filters })) {
    for (const item of Array.isArray(value) ? value : [value]) if (item !== "" && item != null) query.append(key, item);
  }
  return request("GET", `/api/jobs?${query}`);
};
// Every stored point of a run, as a file: csv (scalars, long format) or jsonl (every event)
// a run's stored vectors: the points nearest `of` (summed) minus `minus` at a step (null: the newest)
export function neighbours(id, { of, minus = [], step = null, tag = null, top = 10 }) {
  const query = new URLSearchParams([...of.map((w) => ["of", w]), ...minus.map((w) => ["minus", w]), ["top", top]]);
  if (step !== null) query.set("step", step);
  if (tag !== null) query.set("tag", tag);
  return request("GET", `/api/jobs/${encodeURIComponent(id)}/neighbours?${query}`);
}
export function projection(id, { method = "tsne", step = null, tag = null }) {
  const query = new URLSearchParams({ method });
  if (step !== null) query.set("step", step);
  if (tag !== null) query.set("tag", tag);
  return request("GET", `/api/jobs/${encodeURIComponent(id)}/projection?${query}`);
}
export const exportUrl = (id, format) => `/api/jobs/${encodeURIComponent(id)}/export?format=${format}`;
export const updateJob = (id, change) => request("PATCH", `/api/jobs/${encodeURIComponent(id)}`, change);
// Uploaded tables: a CSV file stored under a name, listed, deleted
export const uploadDataset = (file, name) => request("POST", `/api/datasets?name=${encodeURIComponent(name)}`, file);
export const listDatasets = () => request("GET", "/api/datasets");
export const deleteDataset = (id) => request("DELETE", `/api/datasets/${encodeURIComponent(id)}`);
// The points a 2-D job with this data and seed would train on (starts nothing; needs no token).
export const previewDataset = (data, seed) => request("POST", "/api/datasets/preview", { data, seed }, true);
export const datasetText = (data, seed) => request("POST", "/api/datasets/text", { data, seed }, true);

const socketBase = () => `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}`;

export function jobSocketUrl(id, after, history = "full") {
  return `${socketBase()}/ws/jobs/${encodeURIComponent(id)}?after=${after}&history=${history}`;
}

export const roomSocketUrl = () => `${socketBase()}/ws/room`;
// What the presenter's page shows now (page, lesson, form values): followers turn to it. Never asks
// for the token: only a page that holds it presents.
export const present = (state) => request("PUT", "/api/room", state, true);

export const listLessons = () => request("GET", "/api/lessons");
export const getLesson = (id) => request("GET", `/api/lessons/${encodeURIComponent(id)}`);
export const runLesson = (id, overrides = {}) => request("POST", `/api/lessons/${encodeURIComponent(id)}/run`, { overrides });
export const groupExportUrl = (id, format) => `/api/groups/${encodeURIComponent(id)}/export?format=${format}`;
export const getGroup = (id) => request("GET", `/api/groups/${encodeURIComponent(id)}`);
export const listGroups = (lesson) => request("GET", lesson ? `/api/groups?limit=20&lesson=${encodeURIComponent(lesson)}` : "/api/groups?limit=20");

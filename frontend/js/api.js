// The only module that knows the server's URLs.

async function request(method, path, body) {
  const response = await fetch(path, {
    method,
    headers: body === undefined ? {} : { "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
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
export const getJob = (id) => request("GET", `/api/jobs/${encodeURIComponent(id)}`);
export const cancelJob = (id) => request("POST", `/api/jobs/${encodeURIComponent(id)}/cancel`);
export const controlJob = (id, command) => request("POST", `/api/jobs/${encodeURIComponent(id)}/control`, command);
export const deleteJob = (id) => request("DELETE", `/api/jobs/${encodeURIComponent(id)}`);
export const listJobs = () => request("GET", "/api/jobs?limit=50");

export function jobSocketUrl(id, after, history = "full") {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  return `${scheme}://${location.host}/ws/jobs/${encodeURIComponent(id)}?after=${after}&history=${history}`;
}

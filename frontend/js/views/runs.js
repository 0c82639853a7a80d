// The runs list: every job with its status, key settings and final figures; open or delete one.
import { deleteJob, listJobs } from "../api.js";
import { escape } from "../html.js";
import { say, t } from "../i18n.js";

function describe(spec) {
  const optim = `${spec.optim.optimizer} lr ${spec.optim.lr} · ${t("runs.batch")} ${spec.optim.batch_size}`;
  if (spec.data.kind === "surface") return `${spec.data.objective} (${spec.model.start.join(", ")}) · ${optim}`;
  const data = spec.data.kind === "digits" ? "digits" : spec.data.dataset;
  return `${data} · [${spec.model.hidden.join(",")}] ${spec.model.activation} · ${optim}`;
}

export function formatBytes(bytes) {
  if (!bytes) return "";
  const [value, unit] = bytes < 1e6 ? [bytes / 1e3, "kB"] : [bytes / 1e6, "MB"];
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ${unit}`;
}

export function mountRuns(el, { onOpen, onDeleted }) {
  el.dataset.testid = "runs";

  async function refresh() {
    let jobs;
    try {
      ({ jobs } = await listJobs());
    } catch {
      return []; // the server is restarting; the next refresh will do
    }
    if (!jobs.length) {
      el.replaceChildren(Object.assign(document.createElement("p"), { className: "hint", textContent: t("runs.none") }));
      return jobs;
    }
    const table = document.createElement("table");
    const heads = ["runs.run", "runs.status", "runs.settings", "runs.step", "runs.valAcc", "runs.stored", null];
    table.innerHTML = `<thead><tr>${heads.map((key) => `<th>${key ? escape(t(key)) : ""}</th>`).join("")}</tr></thead>`;
    const body = document.createElement("tbody");
    for (const job of jobs) {
      const row = document.createElement("tr");
      row.dataset.job = job.id;
      const acc = job.summary["val/acc"];
      row.innerHTML = `<td><button type="button" class="link" data-action="open" data-user-text>${escape(job.name || job.id)}</button></td>
        <td class="status-${escape(job.status)}">${escape(t(`state.${job.status}`, job.status))}</td><td>${escape(describe(job.spec))}</td>
        <td>${job.summary.step ?? ""}</td><td>${acc === undefined ? "" : (100 * acc).toFixed(1) + "%"}</td><td class="num">${formatBytes(job.stored_bytes)}</td>
        <td>${["queued", "running", "paused"].includes(job.status) ? "" : `<button type="button" class="link" data-action="delete" aria-label="delete">${escape(t("runs.delete"))}</button>`}</td>`;
      body.append(row);
    }
    table.append(body);
    el.replaceChildren(table);
    return jobs;
  }

  el.addEventListener("click", async (event) => {
    const button = event.target.closest("button[data-action]");
    if (!button) return;
    const id = button.closest("tr").dataset.job;
    if (button.dataset.action === "open") onOpen(id);
    else if (window.confirm(say("runs.confirmDelete", { name: button.closest("tr").querySelector("[data-action=open]").textContent }))) {
      await deleteJob(id); // asked once: its stored events go with it
      onDeleted?.(id);
      refresh();
    }
  });
  refresh();
  return { refresh };
}

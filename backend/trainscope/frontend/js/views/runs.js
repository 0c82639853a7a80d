// The runs list: every job with its status, key settings and final figures; filtered and paged on the
// server; open, rename and annotate, or delete one; tick several to compare them side by side.
import { deleteJob, exportUrl, listJobs, updateJob } from "../api.js";
import { escape } from "../html.js";
import { say, t, translatePage } from "../i18n.js";
import { datasetOf } from "../state.js";

const PAGE = 20;
const STATES = ["queued", "running", "paused", "done", "failed", "cancelled", "diverged"];
const LIVE = new Set(["queued", "running", "paused"]);

function describe(spec) {
  const optim = `${spec.optim.optimizer} lr ${spec.optim.lr} · ${t("runs.batch")} ${spec.optim.batch_size}`;
  if (spec.data.kind === "surface") return `${spec.data.objective} (${spec.model.start.join(", ")}) · ${optim}`;
  const name = spec.data.kind === "uploaded" ? say("runs.table", { id: spec.data.dataset }) : datasetOf(spec.data);
  const data = name + (spec.data.shuffle_positions || spec.data.permute_pixels ? ` (${t("runs.shuffled")})` : "");
  const convs = spec.model.conv ? `conv ${spec.model.conv.map((c) => c.channels).join(",")} → ` : "";
  return `${data} · ${convs}[${spec.model.hidden.join(",")}] ${spec.model.activation} · ${optim}`;
}

export function formatBytes(bytes) {
  if (!bytes) return "";
  const [value, unit] = bytes < 1e6 ? [bytes / 1e3, "kB"] : [bytes / 1e6, "MB"];
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ${unit}`;
}

const option = (value, key, english) => `<option value="${value}" data-i18n="${key}">${escape(english)}</option>`;

export function mountRuns(el, { onOpen, onDeleted }) {
  el.dataset.testid = "runs";
  const bar = document.createElement("div");
  bar.className = "chart-bar";
  bar.innerHTML = `
    <label><span data-i18n="runs.status">Status</span> <select name="status">${option("", "runs.all", "all")}${STATES.map((s) => option(s, `state.${s}`, s)).join("")}</select></label>
    <label><span data-i18n="runs.from">From</span> <select name="lesson">${option("", "runs.all", "all")}${option("false", "runs.fromPlayground", "not lessons")}${option("true", "runs.fromLessons", "lessons")}</select></label>
    <label><span data-i18n="field.data.dataset">Dataset</span> <select name="dataset">${option("", "runs.all", "all")}</select></label>
    <button type="button" class="quiet" name="compare" disabled></button>
    <span class="grow"></span>
    <button type="button" class="link" name="newer" data-i18n="runs.newer">newer</button>
    <output name="range"></output>
    <button type="button" class="link" name="older" data-i18n="runs.older">older</button>`;
  const list = document.createElement("div");
  el.replaceChildren(bar, list);
  translatePage(bar);
  const field = (name) => bar.querySelector(`[name=${name}]`);
  let offset = 0;
  let editing = null; // the job whose name and notes are being edited: no refresh replaces the form
  const selected = new Set();

  function showSelection() {
    const button = field("compare");
    button.textContent = say("runs.compare", { n: selected.size });
    button.disabled = selected.size < 2;
  }

  function row(job) {
    const tr = document.createElement("tr");
    tr.dataset.job = job.id;
    const acc = job.summary["val/acc"];
    const notes = job.notes ? `<span class="notes" data-user-text>${escape(job.notes)}</span>` : "";
    tr.innerHTML = `<td><input type="checkbox" data-action="select" aria-label="${escape(t("runs.select"))}"${selected.has(job.id) ? " checked" : ""}></td>
      <td><button type="button" class="link" data-action="open" data-user-text>${escape(job.name || job.id)}</button>${notes}</td>
      <td class="status-${escape(job.status)}">${escape(t(`state.${job.status}`, job.status))}</td><td>${escape(describe(job.spec))}</td>
      <td>${escape(String(job.summary.step ?? ""))}</td><td>${acc === undefined ? "" : (100 * acc).toFixed(1) + "%"}</td><td class="num">${formatBytes(job.stored_bytes)}</td>
      <td class="actions"><button type="button" class="link" data-action="edit">${escape(t("runs.edit"))}</button>
        <a href="${exportUrl(job.id, "csv")}" download data-action="export-csv" title="${escape(t("runs.exportCsv"))}">CSV</a>
        <a href="${exportUrl(job.id, "jsonl")}" download data-action="export-jsonl" title="${escape(t("runs.exportJsonl"))}">JSONL</a>
        <a href="${exportUrl(job.id, "tensorboard")}" download data-action="export-tensorboard" title="${escape(t("runs.exportTensorboard"))}">TensorBoard</a>${LIVE.has(job.status) ? "" : ` <button type="button" class="link" data-action="delete" aria-label="delete">${escape(t("runs.delete"))}</button>`}</td>`;
    tr.job = job;
    return tr;
  }

  // Name and notes edited in place, in a row under the run's
  function editor(job) {
    const tr = document.createElement("tr");
    tr.className = "editor";
    tr.innerHTML = `<td></td><td colspan="7"><form class="inline">
      <input name="name" maxlength="100" aria-label="${escape(t("runs.name"))}" placeholder="${escape(t("runs.name"))}">
      <textarea name="notes" maxlength="2000" rows="2" aria-label="${escape(t("runs.notes"))}" placeholder="${escape(t("runs.notes"))}"></textarea>
      <button type="submit">${escape(t("runs.save"))}</button> <button type="button" class="quiet" data-action="cancel-edit">${escape(t("runs.cancel"))}</button></form></td>`;
    const form = tr.querySelector("form");
    form.elements.name.value = job.name; // as values, never as markup
    form.elements.notes.value = job.notes;
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      await updateJob(job.id, { name: form.elements.name.value, notes: form.elements.notes.value });
      editing = null;
      refresh();
    });
    return tr;
  }

  let asked = 0; // refreshes asked for: an older answer arriving late must not replace a newer one
  async function refresh() {
    if (editing) return [];
    const ticket = (asked += 1);
    let page;
    try {
      page = await listJobs({ status: field("status").value, lesson: field("lesson").value, dataset: field("dataset").value, offset, limit: PAGE });
    } catch {
      return []; // the server is restarting; the next refresh will do
    }
    if (editing || ticket !== asked) return [];
    const { jobs, total } = page;
    field("range").textContent = total ? say("runs.range", { first: offset + 1, last: offset + jobs.length, total }) : "";
    field("newer").disabled = offset === 0;
    field("older").disabled = offset + jobs.length >= total;
    showSelection();
    if (!jobs.length) {
      list.replaceChildren(Object.assign(document.createElement("p"), { className: "hint", textContent: t(offset || bar.querySelector("select option:checked:not([value=''])") ? "runs.noneHere" : "runs.none") }));
      return jobs;
    }
    const table = document.createElement("table");
    const heads = [null, "runs.run", "runs.status", "runs.settings", "runs.step", "runs.valAcc", "runs.stored", null];
    table.innerHTML = `<thead><tr>${heads.map((key) => `<th>${key ? escape(t(key)) : ""}</th>`).join("")}</tr></thead>`;
    const body = document.createElement("tbody");
    body.append(...jobs.map(row));
    table.append(body);
    list.replaceChildren(table);
    return jobs;
  }

  // The datasets to filter on, once /api/meta has named them
  function setDatasets(names) {
    field("dataset").append(...names.map((name) => new Option(name, name)));
  }

  bar.addEventListener("change", (event) => {
    if (event.target.tagName !== "SELECT") return;
    offset = 0;
    refresh();
  });
  bar.addEventListener("click", (event) => {
    const name = event.target.closest("button")?.name;
    if (name === "newer") offset = Math.max(0, offset - PAGE);
    else if (name === "older") offset += PAGE;
    else if (name === "compare") location.href = `lessons.html#runs=${[...selected].map(encodeURIComponent).join(",")}`;
    else return;
    refresh();
  });

  list.addEventListener("click", async (event) => {
    const target = event.target.closest("[data-action]");
    if (!target) return;
    const tr = target.closest("tr");
    const id = tr.dataset.job;
    const action = target.dataset.action;
    if (action === "select") {
      if (target.checked) selected.add(id);
      else selected.delete(id);
      showSelection();
    } else if (action === "open") onOpen(id);
    else if (action === "edit") {
      if (editing) return;
      editing = id;
      const form = editor(tr.job);
      tr.after(form);
      form.querySelector("input").focus();
    } else if (action === "cancel-edit") {
      editing = null;
      refresh();
    } else if (action === "delete" && window.confirm(say("runs.confirmDelete", { name: tr.querySelector("[data-action=open]").textContent }))) {
      await deleteJob(id); // asked once: its stored events go with it
      selected.delete(id);
      onDeleted?.(id);
      refresh();
    }
  });
  refresh();
  return { refresh, setDatasets };
}

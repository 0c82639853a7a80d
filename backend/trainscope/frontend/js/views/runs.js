// The runs table: every job with its status, key settings and final figures, and the columns a person
// chooses (any figure, any setting); sorted by any column and filtered by ranges (val/acc>0.9) on the
// server; paged; open, rename and annotate, or delete one; tick several to compare them side by side or
// to see them as parallel coordinates.
import { deleteJob, exportUrl, listJobs, updateJob } from "../api.js";
import { drawParcoords, valueOf } from "../charts/parcoords.js";
import { escape } from "../html.js";
import { say, t, translatePage } from "../i18n.js";
import { SELF_STEPPING, datasetOf, fieldName } from "../state.js";

const PAGE = 20;
const COLUMNS_KEY = "trainscope-run-columns";
// settings always offered as columns; any other that differs between the listed runs is offered too
const COMMON_SETTINGS = ["optim.lr", "optim.optimizer", "optim.batch_size", "model.hidden", "model.activation", "seed"];
// what the built-in columns sort by on the server
const BUILT_IN_ORDER = { "runs.run": "name", "runs.status": "status", "runs.step": "step", "runs.valAcc": "val/acc" };
const STATES = ["queued", "running", "paused", "done", "failed", "cancelled", "diverged"];
const LIVE = new Set(["queued", "running", "paused"]);

function describe(spec) {
  // a kind that steps itself (k-means) has no optimizer, rate or batch
  const optim = SELF_STEPPING.has(spec.model.kind) ? null : `${spec.optim.optimizer} lr ${spec.optim.lr} · ${t("runs.batch")} ${spec.optim.batch_size}`;
  if (spec.data.kind === "surface") return `${t(`objective.${spec.data.objective}`, spec.data.objective)} (${spec.model.start.join(", ")}) · ${optim}`;
  const name = spec.data.kind === "uploaded" ? say("runs.table", { id: spec.data.dataset }) : datasetOf(spec.data);
  const data = name + (spec.data.shuffle_positions || spec.data.permute_pixels ? ` (${t("runs.shuffled")})` : "");
  const convs = spec.model.conv && spec.model.conv.length ? `${t("runs.conv")} ${spec.model.conv.map((c) => c.channels).join(",")} → ` : "";
  const model = spec.model.hidden ? `${convs}[${spec.model.hidden.join(",")}] ${spec.model.activation}` : ownSettings(spec.model);
  return [data, model, optim].filter(Boolean).join(" · ");
}

// A model without hidden layers to list: its kind's name and its plain settings, each by the name the
// form gives it and a choice by its words ("k-means Centres (k) 4 Starting centres random points"; a kind
// from elsewhere: "degree 3")
function ownSettings(model) {
  const settings = Object.entries(model).filter(([key, value]) => key !== "kind" && typeof value !== "object");
  const said = (key, value) => (typeof value === "string" ? t(`${key}.${value}`, value) : value); // a choice's words
  return [t(`model.${model.kind}`, model.kind), ...settings.map(([key, value]) => `${fieldName(`model.${key}`).replace(/^model\./, "")} ${said(key, value)}`)].join(" ");
}

export function formatBytes(bytes) {
  if (!bytes) return "";
  const [value, unit] = bytes < 1e6 ? [bytes / 1e3, "kB"] : [bytes / 1e6, "MB"];
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ${unit}`;
}

// Settings of a spec as dotted paths of plain values (lists count as one value).
function settingPaths(spec, prefix = "") {
  return Object.entries(spec).flatMap(([key, value]) =>
    value && typeof value === "object" && !Array.isArray(value) ? settingPaths(value, `${prefix}${key}.`) : [`${prefix}${key}`],
  );
}

// A figure or setting as people read it: accuracies as percentages, numbers to 4 significant digits.
export function shownValue(key, value) {
  if (value === undefined || value === null) return "";
  if (typeof value !== "number") return String(value);
  if (/acc$/.test(key)) return `${(100 * value).toFixed(1)}%`;
  return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(4)));
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
    <label class="grow"><span data-i18n="runs.filter">Filter</span> <input name="where" data-i18n-placeholder="runs.filterHint" placeholder="val/acc>0.9, optim.lr<0.1" autocomplete="off" spellcheck="false"></label>
    <details class="columns"><summary data-i18n="runs.columns">Columns</summary><div class="choices"></div></details>
    <button type="button" class="quiet" name="compare" disabled></button>
    <button type="button" class="quiet" name="parcoords" aria-pressed="false" data-i18n="runs.parcoords">Parallel coordinates</button>
    <output name="problem" class="error"></output>
    <button type="button" class="link" name="newer" data-i18n="runs.newer">newer</button>
    <output name="range"></output>
    <button type="button" class="link" name="older" data-i18n="runs.older">older</button>`;
  const list = Object.assign(document.createElement("div"), { className: "runs-list" }); // scrolls sideways, the page never
  const parallel = Object.assign(document.createElement("div"), { className: "plot tall", hidden: true });
  parallel.dataset.testid = "parcoords";
  el.replaceChildren(bar, list, parallel);
  translatePage(bar);
  const field = (name) => bar.querySelector(`[name=${name}]`);
  const choices = bar.querySelector(".choices");
  let offset = 0;
  let order = ""; // a figure or setting, "-" first for descending; "" newest first
  let columns = JSON.parse(localStorage.getItem(COLUMNS_KEY) || "[]"); // chosen figures and settings
  let shown = []; // the jobs on screen
  let editing = null; // the job whose name and notes are being edited: no refresh replaces the form
  const selected = new Set();

  // The columns a person may add: every figure the listed runs have, the common settings and any other
  // setting that differs between them; ticked ones first, in the order they were chosen.
  function offerColumns(jobs) {
    const figures = [...new Set(jobs.flatMap((job) => Object.keys(job.summary)))].sort();
    const differing = [...new Set(jobs.flatMap((job) => settingPaths(job.spec)))].filter(
      (path) => new Set(jobs.map((job) => JSON.stringify(valueOf(job, path)))).size > 1,
    );
    const offered = [...new Set([...columns, ...figures, ...COMMON_SETTINGS, ...differing.sort()])];
    choices.replaceChildren(
      ...offered.map((key) => {
        const label = document.createElement("label");
        const box = Object.assign(document.createElement("input"), { type: "checkbox", value: key, checked: columns.includes(key) });
        label.append(box, ` ${fieldName(key)}`); // a key is text, never markup
        return label;
      }),
    );
  }

  function drawParallel() {
    const pressed = field("parcoords").getAttribute("aria-pressed") === "true";
    const picked = shown.filter((job) => selected.has(job.id));
    const jobs = picked.length >= 2 ? picked : shown;
    parallel.hidden = !pressed || jobs.length < 2;
    if (parallel.hidden) return;
    // lines coloured by the figure the table is sorted by, else by validation accuracy
    const sortedBy = order.replace(/^-/, "");
    const colorKey = jobs.every((job) => sortedBy in job.summary) ? sortedBy : "val/acc";
    drawParcoords(parallel, jobs, [...new Set([...columns, "train/loss", "val/acc"])], colorKey);
  }

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
      <td>${escape(String(job.summary.step ?? ""))}</td><td>${acc === undefined ? "" : (100 * acc).toFixed(1) + "%"}</td>${columns.map((key) => `<td class="num" data-column="${escape(key)}">${escape(shownValue(key, valueOf(job, key)))}</td>`).join("")}<td class="num">${formatBytes(job.stored_bytes)}</td>
      <td class="actions"><button type="button" class="link" data-action="edit">${escape(t("runs.edit"))}</button>
        <a href="${exportUrl(job.id, "csv")}" download data-action="export-csv" title="${escape(t("runs.exportCsv"))}">CSV</a>
        <a href="${exportUrl(job.id, "jsonl")}" download data-action="export-jsonl" title="${escape(t("runs.exportJsonl"))}">JSONL</a>
        <a href="${exportUrl(job.id, "tensorboard")}" download data-action="export-tensorboard" title="${escape(t("runs.exportTensorboard"))}">TensorBoard</a>${LIVE.has(job.status) ? "" : ` <button type="button" class="link" data-action="delete" aria-label="${escape(t("runs.delete"))}">${escape(t("runs.delete"))}</button>`}</td>`;
    tr.job = job;
    return tr;
  }

  // Name and notes edited in place, in a row under the run's
  function editor(job) {
    const tr = document.createElement("tr");
    tr.className = "editor";
    tr.innerHTML = `<td></td><td colspan="${7 + columns.length}"><form class="inline">
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
    const where = field("where").value.split(/[,;]/).map((text) => text.trim()).filter(Boolean);
    try {
      page = await listJobs({ status: field("status").value, lesson: field("lesson").value, dataset: field("dataset").value, order, where, offset, limit: PAGE });
    } catch (error) {
      if (ticket === asked && error.status === 422) field("problem").textContent = error.message; // a field it cannot sort or filter by
      return []; // else the server is restarting; the next refresh will do
    }
    if (editing || ticket !== asked) return [];
    field("problem").textContent = "";
    const { jobs, total } = page;
    shown = jobs;
    if (!bar.querySelector("details").open) choices.replaceChildren(); // filled when opened, from the runs listed
    field("range").textContent = total ? say("runs.range", { first: offset + 1, last: offset + jobs.length, total }) : "";
    field("newer").disabled = offset === 0;
    field("older").disabled = offset + jobs.length >= total;
    showSelection();
    if (!jobs.length) {
      list.replaceChildren(Object.assign(document.createElement("p"), { className: "hint", textContent: t(offset || bar.querySelector("select option:checked:not([value=''])") ? "runs.noneHere" : "runs.none") }));
      return jobs;
    }
    const table = document.createElement("table");
    const heads = [[null], ["runs.run"], ["runs.status"], ["runs.settings"], ["runs.step"], ["runs.valAcc"], ...columns.map((key) => [key, key]), ["runs.stored"], [null]];
    table.innerHTML = `<thead><tr>${heads.map(([key, column]) => header(key, column)).join("")}</tr></thead>`;
    const body = document.createElement("tbody");
    body.append(...jobs.map(row));
    table.append(body);
    list.replaceChildren(table);
    drawParallel();
    return jobs;
  }

  // A column's header: a button that sorts by it where the server can (aria-sort says how it is sorted).
  function header(key, column) {
    const sortBy = column || BUILT_IN_ORDER[key];
    const text = column ? fieldName(column) : key ? t(key) : "";
    if (!sortBy) return `<th>${escape(text)}</th>`;
    const state = order === sortBy ? "ascending" : order === `-${sortBy}` ? "descending" : "none";
    const arrow = { ascending: " ▲", descending: " ▼", none: "" }[state];
    return `<th aria-sort="${state}"><button type="button" class="link" data-sort="${escape(sortBy)}">${escape(text)}${arrow}</button></th>`;
  }

  // The datasets to filter on, once /api/meta has named them
  function setDatasets(names) {
    field("dataset").append(...names.map((name) => new Option(name, name)));
  }

  bar.addEventListener("change", (event) => {
    if (event.target.type === "checkbox") {
      columns = [...choices.querySelectorAll("input:checked")].map((box) => box.value);
      localStorage.setItem(COLUMNS_KEY, JSON.stringify(columns));
    } else if (event.target.tagName !== "SELECT" && event.target.name !== "where") return;
    offset = 0;
    refresh();
  });
  bar.addEventListener("click", (event) => {
    const name = event.target.closest("button")?.name;
    if (name === "newer") offset = Math.max(0, offset - PAGE);
    else if (name === "older") offset += PAGE;
    else if (name === "compare") location.href = `lessons.html#runs=${[...selected].map(encodeURIComponent).join(",")}`;
    else if (name === "parcoords") {
      const button = field("parcoords");
      button.setAttribute("aria-pressed", String(button.getAttribute("aria-pressed") !== "true"));
      return drawParallel();
    } else return;
    refresh();
  });
  bar.querySelector("details").addEventListener("toggle", (event) => {
    if (event.target.open) offerColumns(shown);
    else refresh();
  });

  list.addEventListener("click", async (event) => {
    const sorter = event.target.closest("[data-sort]");
    if (sorter) {
      const key = sorter.dataset.sort;
      // a figure starts best-first by its usual sense: accuracy high, anything else (a loss) low
      const first = /acc$/.test(key) ? `-${key}` : key;
      order = order === first ? (first.startsWith("-") ? key : `-${key}`) : first;
      offset = 0;
      refresh();
      return;
    }
    const target = event.target.closest("[data-action]");
    if (!target) return;
    const tr = target.closest("tr");
    const id = tr.dataset.job;
    const action = target.dataset.action;
    if (action === "select") {
      if (target.checked) selected.add(id);
      else selected.delete(id);
      showSelection();
      drawParallel();
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

// The lessons page: the catalogue, and one lesson with its text, a Run button, the group's runs compared
// on the lesson's panels, and its observation judged on those runs (GET /api/groups/{id}).
import { ENDED, askForToken, getGroup, getJob, getLesson, getMeta, groupExportUrl, hasToken, listGroups, listLessons, runLesson } from "./api.js";
import { figureText, language, mountLanguageToggle, onLanguageChange, pick, t, translatePage } from "./i18n.js";
import { followJob } from "./stream.js";
import { followRoom, presenter, presenting } from "./room.js";
import { escape } from "./html.js";
import { fieldName, planar } from "./state.js";
import { drawParcoords, valueOf } from "./charts/parcoords.js";
import { mountCompare } from "./views/compare.js";
import { groupOfJobs } from "./views/picked.js";

const $ = (selector) => document.querySelector(selector);
const POLL_MS = 1000;
function applyTheme(dark) {
  document.body.classList.toggle("dark", dark);
  $("#theme").textContent = dark ? t("theme.light") : t("theme.dark");
  localStorage.setItem("trainscope-theme", dark ? "dark" : "light");
}

function show(text, isError = false) {
  $("#status").textContent = text;
  $("#status").className = isError ? "error" : "";
}

let lesson = null;
let session = null; // the group on screen: {group, streams, timer}
const compare = mountCompare($("#compare"), $("#differs"));
window.trainscope = { compare, session: () => session };

async function renderIndex() {
  $("#lesson").hidden = true;
  $("#index").hidden = false;
  const [{ lessons }, { groups }] = await Promise.all([listLessons(), listGroups()]);
  $("#lesson-list").innerHTML = lessons
    .map((l) => `<li><a class="panel" href="#${encodeURIComponent(l.id)}" data-lesson="${escape(l.id)}"><h3>${escape(pick(l.title))}</h3><p>${escape(pick(l.question))}</p><p class="hint">${l.runs} ${t(l.runs === 1 ? "lessons.run" : "lessons.runs")}</p></a></li>`)
    .join("");
  // groups submitted over REST (POST /api/groups) are compared here too
  const posted = groups.filter((g) => !g.lesson);
  $("#group-list").innerHTML = posted.length ? posted
    .map((g) => `<li><a href="#group=${encodeURIComponent(g.id)}" data-group="${escape(g.id)}" data-user-text>${escape(g.name || g.id)}</a> · ${g.runs.length} ${t(g.runs.length === 1 ? "lessons.run" : "lessons.runs")} · <code>${escape(g.differs.map(fieldName).join(", "))}</code></li>`)
    .join("") : `<li class="hint" data-i18n="groups.none">${t("groups.none")}</li>`;
}

// Panels for a group that is not a lesson's, from what its first run trains.
function chartsFor(group) {
  const spec = group.runs.length && group.runs[0].job ? group.runs[0].job.spec : null;
  if (spec && spec.data.kind === "surface") return ["surface", "loss"];
  const common = ["loss", "val_loss", "layer_grads", "dead", "weight_histograms", "act_histograms", "throughput"];
  return spec && planar(spec.data) ? [...common, "boundary", "embedding"] : [...common, "embedding"];
}

async function renderGroup(id) {
  $("#index").hidden = true;
  $("#lesson").hidden = false;
  $("#lesson-top").hidden = true;
  lesson = null;
  const group = await getGroup(id);
  $("#lesson-title").textContent = group.name || group.id;
  $("#lesson-question").textContent = "";
  openGroup(group, chartsFor(group));
}

// Runs ticked in the playground's runs list (#runs=ID,ID...), compared as a group is
async function renderPicked(ids) {
  $("#index").hidden = true;
  $("#lesson").hidden = false;
  $("#lesson-top").hidden = true;
  lesson = null;
  const jobs = (await Promise.all(ids.map((id) => getJob(id).catch(() => null)))).filter(Boolean);
  const group = groupOfJobs(jobs);
  $("#lesson-title").dataset.i18n = "compare.runs";
  $("#lesson-title").textContent = t("compare.runs");
  $("#lesson-question").textContent = "";
  openGroup(group, chartsFor(group), async () => groupOfJobs(await Promise.all(jobs.map((job) => getJob(job.id)))));
}

function renderLessonText() {
  $("#lesson-title").textContent = pick(lesson.title);
  $("#lesson-question").textContent = pick(lesson.question);
  $("#lesson-explanation").textContent = pick(lesson.explanation);
  $("#lesson-look").innerHTML = lesson.look_at.map((item) => `<li>${escape(pick(item))}</li>`).join("");
  $("#lesson-observation").textContent = pick(lesson.observation.text);
}

function renderVerdict(group) {
  const box = $("#verdict");
  const verdict = group && group.verdict;
  const state = $("#verdict-state");
  state.removeAttribute("data-i18n");
  if (!verdict) {
    box.dataset.held = "none";
    state.textContent = t("lesson.none");
    $("#verdict-figures").innerHTML = "";
    return;
  }
  box.dataset.held = verdict.held === null ? "none" : String(verdict.held);
  const word = verdict.held === null ? t("verdict.waiting") : verdict.held ? `✓ ${t("verdict.held")}` : `✗ ${t("verdict.failed")}`;
  const detail = language() === "ko" && verdict.detail_ko ? verdict.detail_ko : verdict.detail;
  state.textContent = detail ? `${word} (${detail})` : word;
  const format = (v) => (v === null ? t("verdict.never") : figureText(v));
  $("#verdict-figures").innerHTML = Object.entries(verdict.figures)
    .map(([key, figure]) => `<tr data-figure="${escape(key)}"><td>${escape(pick(figure))}</td><td>${escape(String(format(figure.value)))}</td></tr>`)
    .join("");
}

function stopSession() {
  $("#group-parcoords").hidden = true;
  if (!session) return;
  for (const stream of session.streams) stream.close();
  clearTimeout(session.timer);
  session = null;
}

// Open a group of this lesson: its panels, one stream per run (replay, then live), and a poll of the
// group record for statuses, summaries and the verdict until every run has ended.
function openGroup(group, charts = lesson.charts, reload = () => getGroup(group.id)) {
  stopSession();
  const titles = lesson ? Object.fromEntries(lesson.experiments.map((e) => [e.title.en, e.title])) : {};
  compare.reset(group, charts, titles);
  const exports = document.getElementById("group-export");
  exports.hidden = !group.id; // runs picked from the list are no stored group: each exports from the list
  for (const link of exports.querySelectorAll("a")) if (group.id) link.href = groupExportUrl(group.id, link.dataset.format);
  session = { group, streams: [], timer: null };
  group.runs.forEach((run, index) => {
    if (run.job) session.streams.push(followJob(run.job_id, { onEvents: (events) => compare.append(index, events) }));
  });
  const mine = session;
  async function poll() {
    if (session !== mine) return;
    try {
      mine.group = await reload();
      compare.update(mine.group);
      renderVerdict(mine.group);
      drawGroupParallel(mine.group);
      show(progress(mine.group));
      if (mine.group.finished) return; // the verdict came with this read
    } catch (error) {
      show(error.message, true);
    }
    mine.timer = setTimeout(poll, POLL_MS);
  }
  poll();
}

// The group's runs as parallel coordinates: the settings they differ in, then how far each got.
function drawGroupParallel(group) {
  const el = $("#group-parcoords");
  const jobs = group.runs.filter((run) => run.job).map((run) => ({ ...run.job, label: pick({ en: run.label, ko: run.label_ko || run.label }) }));
  el.hidden = jobs.length < 2;
  // an axis per setting the runs differ in; where one is a whole object (a model), the runs' own labels
  const plain = group.differs.filter((path) => jobs.every((job) => typeof valueOf(job, path) !== "object"));
  const keys = [...(plain.length === group.differs.length && plain.length ? plain : ["run", ...plain]), "train/loss", "val/loss", "val/acc"];
  if (!el.hidden) drawParcoords(el.querySelector(".plot"), jobs, keys);
}

async function refreshPrevious(selectId) {
  const { groups } = await listGroups(lesson.id);
  const select = $("#previous");
  const prompt = new Option(t("lesson.previous"), "");
  prompt.dataset.i18n = "lesson.previous"; // a language change rewords it
  select.replaceChildren(prompt, ...groups.map((g) => new Option(new Date(g.created_at).toLocaleString(language()), g.id)));
  select.value = selectId || "";
}

async function renderLesson(id) {
  $("#index").hidden = true;
  $("#lesson").hidden = false;
  $("#lesson-top").hidden = false;
  stopSession();
  lesson = await getLesson(id);
  renderLessonText();
  renderVerdict(null);
  $("#compare").replaceChildren();
  $("#differs").textContent = "";
  await refreshPrevious();
}

// "Why CNNs for images · 5/5": a group's name and its runs ended, in the page's language
function progress(group) {
  const ended = group.runs.filter((r) => !r.job || ENDED.has(r.job.status)).length;
  return `${groupName(group)} · ${ended}/${group.runs.length}`;
}

// A lesson's group goes by the lesson's title in the reader's language; others by their given name.
function groupName(group) {
  if (lesson && group.lesson === lesson.id) return pick(lesson.title);
  return group.name || group.id || t("compare.runs"); // runs picked in the list are no stored group
}

async function route() {
  const id = decodeURIComponent(location.hash.slice(1));
  try {
    delete $("#lesson-title").dataset.i18n; // set by the view that fills it
    if (id.startsWith("group=")) await renderGroup(id.slice("group=".length));
    else if (id.startsWith("runs=")) await renderPicked(id.slice("runs=".length).split(",").filter(Boolean));
    else if (id) await renderLesson(id);
    else {
      stopSession();
      await renderIndex();
    }
  } catch (error) {
    show(error.message, true);
  }
}

$("#run-lesson").addEventListener("click", async () => {
  const button = $("#run-lesson");
  button.disabled = true;
  show(t("lesson.running"));
  try {
    const group = await runLesson(lesson.id);
    await refreshPrevious(group.id);
    openGroup(group);
  } catch (error) {
    show(error.message, true);
  } finally {
    button.disabled = false;
  }
});

$("#previous").addEventListener("change", async (event) => {
  if (event.target.value) openGroup(await getGroup(event.target.value));
});

$("#theme").addEventListener("click", () => {
  applyTheme(!document.body.classList.contains("dark"));
  compare.relabel();
});

onLanguageChange(() => {
  applyTheme(document.body.classList.contains("dark"));
  if ($("#lesson").hidden) return renderIndex();
  if (lesson) {
    renderLessonText();
    renderVerdict(session && session.group);
  }
  if (session) {
    show(progress(session.group));
    drawGroupParallel(session.group);
  }
  compare.relabel();
});

// A workshop room: without the token this page is view-only and follows the presenter, pushed by the
// server: the page they are on (the playground, this index, a lesson) and every group they start.
// Between two of the presenter's moves a follower may look around freely.
let report = null; // set while this page presents

async function followGroup(group) {
  if (group.lesson) {
    if (!lesson || lesson.id !== group.lesson || $("#lesson").hidden) {
      history.replaceState(null, "", `#${encodeURIComponent(group.lesson)}`);
      await renderLesson(group.lesson);
    }
    openGroup(await getGroup(group.id));
  } else {
    history.replaceState(null, "", `#group=${encodeURIComponent(group.id)}`);
    await renderGroup(group.id);
  }
  show(`${t("viewer.following")} ${groupName(group)}`);
}

async function followPage(state) {
  if (state.page === "playground") {
    location.href = "index.html";
    return;
  }
  const hash = state.lesson ? `#${encodeURIComponent(state.lesson)}` : "";
  if (location.hash !== hash) {
    history.replaceState(null, "", hash || location.pathname);
    await route();
  }
}

async function setUpMode() {
  const meta = await getMeta();
  let room = null;
  const setMode = () => {
    const viewer = meta.token_required && !hasToken();
    document.body.dataset.mode = viewer ? "viewer" : "presenter";
    $("#viewer-note").hidden = !viewer;
    $("#run-lesson").hidden = viewer;
    if (room) room.close();
    room = viewer ? followRoom({ onPresenter: (state) => followPage(state).catch((e) => show(e.message, true)), onGroup: (group) => followGroup(group).catch((e) => show(e.message, true)) }) : null;
    report = presenting(meta) ? presenter() : null;
    reportPage();
  };
  setMode();
  $("#enter-token").addEventListener("click", () => {
    askForToken();
    setMode();
  });
}

function reportPage() {
  const id = decodeURIComponent(location.hash.slice(1));
  if (report) report({ page: "lessons", lesson: id && !id.startsWith("group=") ? id : null });
}

mountLanguageToggle($("#language"));
applyTheme(localStorage.getItem("trainscope-theme") === "dark");
translatePage();
document.documentElement.lang = language();
window.addEventListener("hashchange", () => route().then(reportPage));
route().then(setUpMode); // after the first render, so following cannot race it

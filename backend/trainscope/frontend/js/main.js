// Wiring: the form, the run controls, the runs list and every chart, fed by one job's events.
import { ENDED, askForToken, cancelJob, controlJob, createJob, getJob, getMeta, hasToken, previewDataset } from "./api.js";
import { followJob } from "./stream.js";
import { followRoom, presenter, presenting } from "./room.js";
import { language, learnWords, mountLanguageToggle, onLanguageChange, say, t, translatePage } from "./i18n.js";
import { datasetChoices, fromHash, kindsOf, learnKinds, planar, specFromValues, toHash, valuesFromSpec } from "./state.js";
import { mountControls } from "./views/controls.js";
import { mountRuns } from "./views/runs.js";
import { mountUploads } from "./views/uploads.js";
import { mount as mountMemoryEstimate } from "./views/memory.js";
import { mount as mountLoss } from "./charts/loss.js";
import { mount as mountLayers } from "./charts/layers.js";
import { mount as mountHistograms } from "./charts/histograms.js";
import { mount as mountEmbedding } from "./charts/embedding.js";
import { mount as mountBoundary } from "./charts/boundary.js";
import { mount as mountNetwork } from "./charts/network.js";
import { mount as mountSystem } from "./charts/system.js";
import { mount as mountPictures } from "./charts/pictures.js";
import { mount as mountConfusion } from "./charts/confusion.js";
import { mount as mountParameters } from "./charts/parameters.js";
import { mount as mountFigures } from "./charts/figures.js";
import { drawAll, drawShare } from "./charts/frames.js";

const $ = (selector) => document.querySelector(selector);

function applyTheme(dark) {
  document.body.classList.toggle("dark", dark);
  $("#theme").textContent = dark ? t("theme.light") : t("theme.dark");
  localStorage.setItem("trainscope-theme", dark ? "dark" : "light");
}

// Projector mode: larger text everywhere, charts included, for the back of a room.
function applyProjector(on) {
  document.body.classList.toggle("projector", on);
  $("#projector").setAttribute("aria-pressed", String(on));
  localStorage.setItem("trainscope-projector", on ? "on" : "off");
}

// Data that is not points in the plane (images, sequences, wider tables) shows its examples, kernels,
// maps and confusion under the loss; the boundary and the network diagram, empty for it, go last (main.css).
// A panel fed by a probe or a view its model kind does not offer (/api/meta's kinds) is hidden: a
// polynomial has no hidden layer to draw, and a panel waiting for events that never come misleads.
function arrange(points, offers) {
  document.body.dataset.shape = points ? "planar" : "other";
  for (const panel of document.querySelectorAll("[data-probe], [data-view]")) {
    panel.hidden = Boolean(offers) && !offers.probes.includes(panel.dataset.probe) && !offers.views.includes(panel.dataset.view);
  }
}

// A model kind's own views (its `views` in /api/meta that no panel of this page draws): the module
// charts/kinds/<name>.js, mounted once in a panel of its own (shown for the kinds that name it, see
// arrange), given every event as the other charts are. A view may claim figures the panel of other
// figures then leaves to it.
async function mountKindViews(meta, charts) {
  const names = new Set(Object.values(meta.kinds.model).flatMap((kind) => kind.views));
  for (const name of names) {
    if (document.querySelector(`[data-view="${name}"]`)) continue; // a panel of the page's own
    const view = await import(`./charts/kinds/${name}.js`);
    for (const [lang, title] of Object.entries(view.words)) learnWords(lang, { [`panel.view.${name}`]: title });
    const panel = Object.assign(document.createElement("article"), { className: "panel wide", hidden: true });
    panel.dataset.view = name;
    const title = Object.assign(document.createElement("h2"), { textContent: t(`panel.view.${name}`) });
    title.dataset.i18n = `panel.view.${name}`;
    const body = document.createElement("div");
    panel.append(title, body);
    $("#runs").closest("article").before(panel);
    charts[name] = view.mount(body);
    if (view.claims) charts.figures.claim(view.claims);
  }
}

async function start() {
  // what sticks under the header (the run controls on a small screen) needs its height, which wraps
  new ResizeObserver(() => document.body.style.setProperty("--header-height", `${$("header").offsetHeight}px`)).observe($("header"));
  mountLanguageToggle($("#language"));
  onLanguageChange(() => applyTheme(document.body.classList.contains("dark")));
  onLanguageChange(() => {
    for (const chart of Object.values(charts)) chart.relayout();
    runs.refresh();
    if (current.statusEvent && ENDED.has(current.statusEvent.status)) showStatus(current.statusEvent);
  });
  applyTheme(localStorage.getItem("trainscope-theme") === "dark");
  applyProjector(localStorage.getItem("trainscope-projector") === "on");
  const charts = {
    loss: mountLoss($("#loss")),
    boundary: mountBoundary($("#boundary")),
    network: mountNetwork($("#network")),
    layers: mountLayers($("#layers")),
    histograms: mountHistograms($("#histograms")),
    embedding: mountEmbedding($("#embedding")),
    system: mountSystem($("#system")),
    pictures: mountPictures($("#pictures")),
    confusion: mountConfusion($("#confusion")),
    parameters: mountParameters($("#parameters")),
    figures: mountFigures($("#figures")),
  };
  // exposed for the browser tests and for poking around in the console
  window.trainscope = { charts, drawAll, drawShare };
  const status = $("#status");
  const buttons = { start: $("#start"), pause: $("#pause"), stop: $("#stop"), step: $("#step"), lr: $("#apply-lr") };
  let current = { id: null, status: null, stream: null };

  function show(text, isError = false) {
    status.removeAttribute("data-i18n"); // no longer the page's first hint: a language change keeps it
    status.textContent = text;
    status.className = isError ? "error" : "";
  }

  function setRunState(state) {
    current.status = state;
    const live = state === "running" || state === "paused";
    buttons.pause.disabled = !live;
    buttons.pause.dataset.i18n = state === "paused" ? "run.resume" : "run.pause";
    buttons.pause.textContent = t(buttons.pause.dataset.i18n);
    buttons.stop.disabled = !(live || state === "queued");
    // one run at a time from this page: a second Start would take another worker, unseen (stop it first)
    buttons.start.disabled = live || state === "queued";
    buttons.step.disabled = state !== "paused";
    buttons.lr.disabled = !live || !current.gradients;
    buttons.lr.parentElement.hidden = current.gradients === false; // a kind that steps itself has no rate
    document.body.dataset.run = state || "none";
  }

  function showStatus(event) {
    const acc = event.detail && event.detail["val/acc"];
    const figure = acc !== undefined ? say("status.valAcc", { acc: (100 * acc).toFixed(1) }) : "";
    // the server's message is English; in another language the state says enough, a failure's reason
    // excepted
    const message = language() === "en" || event.status === "failed" ? `: ${event.message}` : "";
    show(`${t(`state.${event.status}`, event.status)}${message}${figure}`, event.status === "failed");
  }

  function onEvents(events) {
    for (const chart of Object.values(charts)) chart.append(events);
    for (const event of events) {
      if (event.type === "status") {
        setRunState(event.status);
        current.statusEvent = event; // said again in the other language when it changes
        showStatus(event);
        if (ENDED.has(event.status)) runs.refresh();
      } else if (event.type === "scalars") { // paused too: a step command's steps move it on
        const last = event.points[event.points.length - 1];
        const acc = last.values["val/acc"];
        const state = t(`state.${current.status || "running"}`, current.status || "running");
        show(say("status.progress", { state, step: last.step, loss: last.values["train/loss"].toFixed(4) }) + (acc !== undefined ? say("status.valAcc", { acc: (100 * acc).toFixed(1) }) : ""));
      }
    }
  }

  let controls = null; // the form, once /api/meta has described it
  let report = null; // set while this page presents to a workshop room
  // what followers are to show: this form and the run on screen (none: the data preview)
  const reportState = () => report && controls && report({ page: "playground", values: controls.read(), job: current.id });
  let uploads = null; // the uploaded tables in its dataset choice

  async function openRun(id) {
    const job = await getJob(id);
    if (job.spec.data.kind !== "surface") controls.write(valuesFromSpec(job.spec)); // a lesson's 2-parameter run has no place in this form
    show(`${t(`state.${job.status}`, job.status)}: ${language() === "en" && job.message ? job.message : t("status.replaying")}`);
    follow(job);
  }

  function follow(job) {
    if (current.stream) current.stream.close();
    if (controls) shownData = dataKey(controls.read()); // the run draws its own data
    previews += 1; // and a preview still on its way must not replace it
    const matrices = !job.spec.model.conv; // the network diagram draws weight matrices, not a convolution's kernels
    // an uploaded table's classes go by its own names (red, green...) in every view
    const table = job.spec.data.kind === "uploaded" && uploads ? uploads.table(job.spec.data.dataset) : null;
    const classNames = table && table.target === "class" ? table.classes.map(String) : null;
    const axisNames = table && table.columns.length === 2 ? table.columns : null;
    for (const chart of Object.values(charts)) chart.reset({ job: job.id, batchSize: job.spec.optim.batch_size, planar: planar(job.spec.data), matrices, classNames, axisNames });
    arrange(planar(job.spec.data), meta.kinds.model[job.spec.model.kind]);
    current = { id: job.id, status: null, stream: null, gradients: meta.kinds.model[job.spec.model.kind]?.gradients !== false };
    setRunState(job.status);
    $("#lr").value = job.spec.optim.lr;
    current.stream = followJob(job.id, { onEvents });
    reportState();
    // the address names the run too: a copied link opens its replay (#...&job=ID)
    if (controls) history.replaceState(null, "", `${toHash(controls.read())}&job=${encodeURIComponent(job.id)}`);
  }

  function leaveRun() {
    if (current.stream) current.stream.close();
    current = { id: null, status: null, stream: null };
    for (const chart of Object.values(charts)) chart.reset();
    if (controls) arrange(drawnAsPoints(specFromValues(controls.read(), kinds)), meta.kinds.model[controls.read()["model.kind"]]);
    setRunState(null);
    reportState();
  }

  // The data before a run, as TensorFlow Playground shows it: the very points a job with these
  // settings would train on. Changing the data while no run is live leaves the run shown.
  let shownData = "";
  let previews = 0; // counts previews asked for and runs shown: only the latest of them may draw
  // the data drawn before a run: 2-D points, or an uploaded table of two features
  const drawnAsPoints = (spec) => {
    const table = spec.data.kind === "uploaded" && uploads && uploads.table(spec.data.dataset);
    return spec.data.kind === "points2d" || Boolean(table && table.columns.length === 2);
  };
  const dataKey = (values) => {
    const spec = specFromValues(values, kinds);
    return drawnAsPoints(spec) ? JSON.stringify([spec.data, spec.seed]) : "";
  };
  // the settings changed: the data they would train on, drawn, and the memory a step of them would need
  const memoryEstimate = mountMemoryEstimate($("#memory-estimate"), { onInvalid: (detail) => controls.showErrors(detail) });
  onLanguageChange(() => memoryEstimate.redraw());
  function formChanged(values) {
    if (controls.validate()) memoryEstimate.update(specFromValues(values, kinds));
    else memoryEstimate.clear();
    previewData(values);
  }

  async function previewData(values) {
    if (!current.id) arrange(drawnAsPoints(specFromValues(values, kinds)), meta.kinds.model[values["model.kind"]]); // a run on screen keeps its own
    const key = dataKey(values);
    if (!key || key === shownData || ["queued", "running", "paused"].includes(current.status)) return;
    if (!controls.validate()) return; // what the form can tell is wrong is shown at its field, not sent
    shownData = key;
    const ticket = (previews += 1);
    const spec = specFromValues(values, kinds);
    try {
      const event = await previewDataset(spec.data, spec.seed);
      if (ticket !== previews) return; // a newer change, or a run, overtook this one
      if (current.id) {
        history.replaceState(null, "", toHash(values));
        leaveRun();
      } else charts.boundary.reset();
      charts.boundary.append([event]);
    } catch (error) {
      if (error.status === 422 && Array.isArray(error.detail)) controls.showErrors(error.detail);
      else show(error.message, true);
    }
  }

  const runs = mountRuns($("#runs"), {
    onDeleted: (id) => {
      if (id === current.id) leaveRun(); // the charts showed it: clear them
    },
    onOpen: (id) => openRun(id).catch((error) => show(error.message, true)),
  });

  // Jobs also arrive over REST (a script, a lesson): the runs list looks again now and then. A
  // workshop's followers are pushed the presenter's runs instead (joinRoom).
  setInterval(() => { if (!document.hidden) runs.refresh(); }, 2000);

  let meta;
  let kinds; // the data and model kinds with their fields, from meta's schema
  try {
    meta = await getMeta();
    learnKinds(meta);
    await mountKindViews(meta, charts);
    kinds = kindsOf(meta);
  } catch (error) {
    $("#spec-form").replaceChildren(Object.assign(document.createElement("p"), { className: "error", textContent: `Could not reach the server: ${error.message}` }));
    return;
  }
  const setMode = () => {
    const viewer = meta.token_required && !hasToken();
    document.body.dataset.mode = viewer ? "viewer" : "presenter";
    $("#viewer-note").hidden = !viewer;
  };
  setMode();
  $("#enter-token").addEventListener("click", () => {
    askForToken();
    setMode();
    joinRoom();
  });
  runs.setDatasets([...datasetChoices(meta), "uploaded"]);
  runs.refresh();
  controls = mountControls($("#spec-form"), meta, (values) => {
    history.replaceState(null, "", toHash(values));
    reportState();
    formChanged(values);
  });
  uploads = mountUploads($("#spec-form").elements["data.dataset"], show);
  await uploads.refresh().catch((error) => show(error.message, true));
  translatePage(); // the charts' bars too, mounted after the language was read (a reload in Korean)
  controls.write(fromHash(location.hash));
  window.addEventListener("hashchange", () => {
    controls.write(fromHash(location.hash));
    formChanged(controls.read());
  });
  buttons.start.disabled = false;
  setRunState(null);

  // A workshop: the token holder presents (the form as it changes); the room follows, its form
  // read-only, each run the presenter starts opened the moment it is queued, however short.
  let room = null;
  function joinRoom() {
    if (room) room.close();
    room = null;
    report = presenting(meta) ? presenter() : null;
    reportState();
    const following = document.body.dataset.mode === "viewer";
    for (const element of $("#spec-form").elements) element.disabled = following;
    if (!following) return;
    room = followRoom({
      onPresenter: (state) => {
        if (state.page === "lessons") location.href = `lessons.html${state.lesson ? `#${encodeURIComponent(state.lesson)}` : ""}`;
        else if (state.job && state.job !== current.id) openRun(state.job).catch((error) => show(error.message, true));
        else {
          if (!state.job && current.id) leaveRun(); // the presenter shows the data, not a run
          controls.write(state.values);
          formChanged(controls.read());
        }
      },
      onJob: (job) => {
        show(`${t("viewer.following")} ${job.name || job.id}`);
        follow(job);
        runs.refresh();
      },
    });
  }
  joinRoom();
  const linked = new URLSearchParams(location.hash.slice(1)).get("job");
  if (linked) openRun(linked).catch((error) => show(error.message, true));
  else formChanged(controls.read());

  buttons.start.addEventListener("click", async () => {
    if (!controls.validate()) {
      show(t("form.fixErrors"), true);
      return;
    }
    buttons.start.disabled = true;
    try {
      const job = await createJob(specFromValues(controls.read(), kinds));
      show(say("status.queued", { id: job.id }));
      follow(job);
      runs.refresh();
    } catch (error) {
      const unplaced = error.status === 422 && Array.isArray(error.detail) ? controls.showErrors(error.detail) : [error.message];
      show(unplaced.length ? unplaced.join("; ") : t("form.fixErrors"), true);
      buttons.start.disabled = false;
    }
  });

  async function command(action) {
    try {
      await action();
    } catch (error) {
      show(error.message, true);
    }
  }
  buttons.pause.addEventListener("click", () => command(() => controlJob(current.id, { action: current.status === "paused" ? "resume" : "pause" })));
  buttons.stop.addEventListener("click", () => command(() => cancelJob(current.id)));
  buttons.step.addEventListener("click", () => command(() => controlJob(current.id, { action: "step", steps: Number($("#step-count").value) || 1 })));

  // Keyboard, as in TensorFlow Playground: space starts, pauses and resumes; "n" steps while paused;
  // Escape stops. Not while typing in the form, and each only when its button could be pressed.
  document.addEventListener("keydown", (event) => {
    if (event.target.closest("input, select, textarea, button") || event.ctrlKey || event.metaKey || event.altKey) return;
    const live = current.status === "running" || current.status === "paused";
    const button = event.key === " " ? (live ? buttons.pause : buttons.start) : event.key === "n" ? buttons.step : event.key === "Escape" ? buttons.stop : null;
    if (!button || button.disabled || button.offsetParent === null) return; // (hidden for a room's followers)
    event.preventDefault();
    button.click();
  });
  buttons.lr.addEventListener("click", () => command(() => controlJob(current.id, { action: "set_lr", lr: Number($("#lr").value) })));
  $("#copy-link").addEventListener("click", async () => {
    history.replaceState(null, "", toHash(controls.read()));
    try {
      await navigator.clipboard.writeText(location.href);
      show(t("status.linkCopied"));
    } catch {
      show(say("status.link", { url: location.href }));
    }
  });
  $("#theme").addEventListener("click", () => {
    applyTheme(!document.body.classList.contains("dark"));
    for (const chart of Object.values(charts)) chart.relayout();
  });
  $("#projector").addEventListener("click", () => {
    applyProjector(!document.body.classList.contains("projector"));
    for (const chart of Object.values(charts)) chart.relayout();
    // the wider sidebar narrows the charts' column: Plotly re-measures its plots on a window resize only
    // (they ran 144 px past a 1280 px window)
    window.dispatchEvent(new Event("resize"));
  });
}

start();

// The compare view: a group's runs overlaid on every panel a lesson asks for, one colour per run on
// every panel, the legend naming each run by the setting that differs. Each run's events arrive from its
// own stream; the group's record (statuses, summaries) arrives from polling.
import { colorRuns } from "../charts/palette.js";
import { pick, t } from "../i18n.js";
import { scheduler } from "../charts/series.js";
import { PANELS } from "../charts/overlay.js";
import { escape } from "../html.js";
import { fieldName } from "../state.js";


// A colour and what it stands for, wrapped as one piece (never mid-label)
const swatch = (color, label) => `<span class="swatched"><span class="swatch" style="background:${color}"></span>${escape(label)}</span>`;

// A grid's key (charts/palette.js colorRuns): "Data split: ■0 ■1 … · Initial-weights seed: ■1 ■2 …"
function gridKey({ paths, hues, shades }) {
  return [hues, shades]
    .filter((values) => values.length)
    .map((values, i) => `${escape(fieldName(paths[i]))}: ${values.map(({ color, value }) => swatch(color, String(value))).join(" ")}`)
    .join(" · ");
}

// What a panel needs from one run's events, kept small: series as [step, value, wall] rows.
function emptyRun(run, index) {
  const spec = run.job ? run.job.spec : {};
  return {
    ...run,
    index,
    labels: { en: run.label, ko: run.label_ko || run.label }, // run.label follows the page's language
    partTitles: { en: run.part, ko: run.part }, // a lesson's experiment titles replace these
    color: null, // set by reset(): one per variation
    replica: 0, // set by reset(): 0 for a variation's first run, 1, 2... for its repeats on later seeds
    spec,
    batch: spec.optim ? spec.optim.batch_size : 1,
    surface: spec.data && spec.data.kind === "surface",
    status: run.job ? run.job.status : "deleted",
    summary: run.job ? run.job.summary : {},
    startWall: null,
    scalars: {},
    layersFirst: null,
    layersLatest: null,
    dead: {}, // layer -> [step, dead fraction]
    histograms: {},
    analyses: {},
    events: [], // kept for the per-run charts (boundary, network) that mount after the first events
    diverged: null,
  };
}

function absorb(state, events) {
  for (const event of events) {
    if (state.startWall === null) state.startWall = event.wall;
    if (event.type === "scalars") {
      for (const point of event.points) {
        for (const [tag, value] of Object.entries(point.values)) {
          (state.scalars[tag] ||= []).push([point.step, value, event.wall]);
        }
      }
    } else if (event.type === "layers") {
      state.layersFirst ||= event;
      state.layersLatest = event;
      for (const layer of event.layers) {
        if (layer.dead_fraction !== null) (state.dead[layer.name] ||= []).push([event.step, layer.dead_fraction]);
      }
    } else if (event.type === "histogram") {
      state.histograms[event.tag] = event;
    } else if (event.type === "analysis") {
      (state.analyses[event.name] ||= []).push(event);
    } else if (event.type === "status") {
      state.status = event.status;
      if (event.status === "diverged") state.diverged = event.detail && event.detail.diverged_step ? event.detail.diverged_step : event.step;
    }
    // (and its end: a per-run chart with none of them by then says it was not recorded)
    if (["boundary", "dataset", "network", "embedding", "images", "status"].includes(event.type)) state.events.push(event);
  }
}

// Which runs a panel shows: surface panels the 2-parameter runs, the selection panel the runs with a
// test set, accuracy and throughput bars every run, every other panel the first experiment's runs.
function runsFor(name, runs) {
  if (name === "surface" || name === "race") return runs.filter((r) => r.surface);
  if (name === "selection") return runs.filter((r) => r.spec.data && r.spec.data.test_fraction > 0);
  if (name === "accuracy" || name === "throughput") return runs;
  const first = runs.length ? runs[0].part : "";
  return runs.filter((r) => r.part === first);
}

export function mountCompare(el, differsEl) {
  let runs = [];
  let panels = [];
  let group = null;
  let keys = []; // the grids whose runs are coloured by their two settings (charts/palette.js)

  // partTitles: {english title: {en, ko}} of a lesson's experiments, to name each run's part
  function reset(newGroup, charts, partTitles = {}) {
    group = newGroup;
    runs = group.runs.map(emptyRun);
    // runs that repeat a variation on further seeds share its colour; replica counts them (0: the first)
    // a colour per setting (the same optimizer the same colour in every part), none used twice
    const { colorOf, grids } = colorRuns(runs);
    keys = grids;
    const variations = new Map();
    for (const run of runs) {
      run.partTitles = partTitles[run.part] || run.partTitles;
      run.color = colorOf(run);
      const variation = `${run.part}\u0000${run.label}`;
      run.replica = variations.get(variation) ?? 0;
      variations.set(variation, run.replica + 1);
    }
    el.replaceChildren();
    panels = charts.map((name) => {
      const article = document.createElement("article");
      article.className = "panel" + (PANELS[name].wide ? " wide" : "");
      article.dataset.panel = name;
      const heading = document.createElement("h2");
      heading.textContent = t(`panel.${name}`);
      const body = document.createElement("div");
      article.append(heading, body);
      el.append(article);
      return { name, heading, panel: PANELS[name].mount(body) };
    });
    describe();
    redraw();
  }

  function describe() {
    for (const run of runs) {
      run.label = pick(run.labels);
      run.partName = pick(run.partTitles);
    }
    // each colour once, with its setting, or a grid's key: its first setting's hues, its second's shades
    const gridParts = new Set(keys.map((key) => key.part));
    const shown = new Map(runs.filter((r) => !gridParts.has(r.part)).map((r) => [r.color, r.label]));
    const swatches = [...[...shown].map(([color, label]) => swatch(color, label)), ...keys.map(gridKey)].join(" &nbsp; ");
    differsEl.innerHTML = group.differs.length ? `${t("compare.differs")}: <code>${escape(group.differs.map(fieldName).join(", "))}</code> · ${swatches}` : swatches;
  }

  function draw() {
    for (const { name, panel } of panels) panel.draw(runsFor(name, runs));
  }
  const redraw = scheduler(draw);

  return {
    reset,
    append(index, events) {
      if (!runs[index]) return;
      absorb(runs[index], events);
      redraw();
    },
    update(group) {
      group.runs.forEach((run, i) => {
        if (!runs[i] || !run.job) return;
        runs[i].summary = run.job.summary;
        if (runs[i].status !== "diverged") runs[i].status = run.job.status;
      });
      redraw();
    },
    relabel() {
      for (const { name, heading } of panels) heading.textContent = t(`panel.${name}`);
      if (group) describe();
      redraw();
    },
  };
}

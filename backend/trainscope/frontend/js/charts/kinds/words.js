// word2vec's questions, answered from the run's stored word vectors: a word's nearest words ("man"), or
// an analogy ("king - man + woman"), at the newest snapshot or any earlier one; asked again as each new
// snapshot arrives, so the answer changes as the run learns. Words reach the page as text only.
import { neighbours } from "../../api.js";
import { say, t } from "../../i18n.js";

// the panel's title, in each language the page speaks
export const words = { en: "word2vec: nearest words and analogies", ko: "word2vec: 가까운 단어와 유추" };

// "king - man + woman" -> { of: [king, woman], minus: [man] }; a word is a run of letters, as the corpus's
export function parseQuery(text) {
  const of = [];
  const minus = [];
  let sign = 1;
  for (const token of text.toLowerCase().match(/[+\-−]|[\p{L}\p{M}]+/gu) || []) {
    if (token === "+") sign = 1;
    else if (token === "-" || token === "−") sign = -1;
    else {
      (sign > 0 ? of : minus).push(token);
      sign = 1;
    }
  }
  return { of, minus };
}

// the question a run starts with: the classic analogy where its words are there, else a word's neighbours
const ANALOGIES = [["king", "man", "woman"], ["왕", "남자", "여자"]];
function firstQuery(names) {
  const analogy = ANALOGIES.find((words) => words.every((word) => names.includes(word)));
  return analogy ? `${analogy[0]} - ${analogy[1]} + ${analogy[2]}` : names[0] || "";
}

export function mount(el) {
  el.dataset.testid = "words-view";
  const bar = document.createElement("form");
  bar.className = "chart-bar";
  const input = Object.assign(document.createElement("input"), { type: "search", name: "query", autocomplete: "off" });
  input.setAttribute("aria-label", t("words.query"));
  input.style.flex = "1";
  const step = Object.assign(document.createElement("select"), { name: "step" });
  const ask = Object.assign(document.createElement("button"), { type: "submit", textContent: t("words.ask") });
  ask.dataset.i18n = "words.ask";
  bar.append(input, step, ask);
  const note = document.createElement("p");
  const table = Object.assign(document.createElement("table"), { className: "figures" });
  el.replaceChildren(bar, note, table);
  let job = null;
  let steps = [];
  let asking = false;
  let again = false;
  let asked = false; // the user has asked their own question: a new run keeps it
  let shown = null; // the answer on screen, written again in another language

  function reset(context = {}) {
    job = context.job || null;
    steps = [];
    step.replaceChildren(new Option(t("words.newest"), ""));
    step.options[0].dataset.i18n = "words.newest";
    note.textContent = "";
    table.replaceChildren();
    shown = null;
  }

  function show(answer) {
    shown = answer;
    note.textContent = say("words.answer", { step: answer.step });
    table.replaceChildren();
    const head = table.createTHead().insertRow();
    for (const key of ["words.word", "words.group", "words.cosine"]) head.append(Object.assign(document.createElement("th"), { textContent: t(key) }));
    const body = table.createTBody();
    for (const n of answer.neighbours) {
      const row = body.insertRow();
      for (const text of [n.name, n.label, n.cosine.toFixed(3)]) row.insertCell().textContent = text;
    }
  }

  // one question at a time; a snapshot that arrives meanwhile asks once more when it is answered
  async function answer() {
    const query = parseQuery(input.value);
    if (!job || !query.of.length) return;
    if (asking) {
      again = true;
      return;
    }
    asking = true;
    try {
      const question = input.value;
      show({ ...(await neighbours(job, { ...query, step: step.value === "" ? null : Number(step.value), top: 8 })), query: question });
    } catch (error) {
      table.replaceChildren();
      note.textContent = error.status === 404 ? t("words.noneYet") : error.message;
    } finally {
      asking = false;
      if (again) {
        again = false;
        answer();
      }
    }
  }

  bar.addEventListener("submit", (event) => {
    event.preventDefault();
    asked = true;
    answer();
  });
  step.addEventListener("change", answer);

  function append(events) {
    let added = false;
    for (const event of events) {
      if (event.type !== "embedding" || !event.vectors || steps.includes(event.step)) continue;
      if (!steps.length && !asked) input.value = firstQuery(event.names || []);
      steps.push(event.step);
      step.add(new Option(say("words.atStep", { step: event.step }), event.step));
      added = true;
    }
    if (added && step.value === "") answer(); // following the newest: the answer moves with the run
  }

  reset();
  // the page's language changed: the snapshots' names and the answer on screen, written again
  function relayout() {
    for (const option of step.options) if (option.value) option.textContent = say("words.atStep", { step: option.value });
    if (shown) show(shown);
  }

  return { reset, append, relayout, answer: () => shown };
}

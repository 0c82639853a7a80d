// Your own tables in the dataset choice: each uploaded CSV is one choice ("upload:ID"), with an upload
// button beside the choice and a delete button while a table is chosen. A table's name is the user's
// text: it reaches the page as text, never as markup.
import { deleteDataset, listDatasets, uploadDataset } from "../api.js";
import { language, onLanguageChange, say, t } from "../i18n.js";
import { UPLOADED } from "../state.js";

function button(key, english, name) {
  const element = Object.assign(document.createElement("button"), { type: "button", className: "quiet", name, textContent: english });
  element.dataset.i18n = key;
  return element;
}

// A 422's reasons in the reader's language (in English the server's own words, which quote the value)
function reasons(error) {
  if (!Array.isArray(error.detail)) return error.message;
  return error.detail.map((d) => (language() === "en" ? d.msg : say(`error.${d.type}`, d.ctx || {}, d.msg))).join("; ");
}

const describe = (table) => say("upload.stored", {
  name: table.name,
  rows: table.n_rows,
  features: table.columns.length,
  target: table.target === "class" ? say("upload.classes", { n: table.classes.length }) : t("upload.values"),
});

// A dataset value naming a table this page has not listed (a link from another server, a table deleted
// since) stays chosen, named by its id: Start then answers that it is missing.
export function chooseTable(select, value) {
  const known = [...select.options].some((option) => option.value === value);
  if (!known) (select.querySelector("optgroup") || select).append(new Option(say("upload.missing", { id: value.slice(UPLOADED.length) }), value));
  select.value = value;
}

// `show(text, isError)` writes to the page's status line.
export function mountUploads(select, show) {
  const tables = new Map();
  const group = document.createElement("optgroup");
  const nameGroup = () => { group.label = t("upload.group"); };
  nameGroup();
  onLanguageChange(nameGroup);
  select.append(group);

  const file = Object.assign(document.createElement("input"), { type: "file", accept: ".csv,.tsv,.txt,text/csv", name: "upload-file", hidden: true });
  const upload = button("upload.button", "Upload CSV…", "upload");
  upload.dataset.i18nTitle = "upload.hint";
  upload.title = t("upload.hint");
  const remove = button("upload.delete", "delete table", "delete-table");
  const tools = Object.assign(document.createElement("span"), { className: "upload-tools" });
  tools.append(file, upload, remove);
  select.after(tools);

  const chosenId = () => (select.value.startsWith(UPLOADED) ? select.value.slice(UPLOADED.length) : null);
  const sync = () => { remove.hidden = !tables.has(chosenId()); };

  async function refresh() {
    const chosen = select.value;
    const { datasets } = await listDatasets();
    tables.clear();
    group.replaceChildren(...datasets.map((table) => {
      tables.set(table.id, table);
      return new Option(`${table.name} (${table.n_rows}×${table.columns.length})`, UPLOADED + table.id);
    }));
    if (chosen.startsWith(UPLOADED)) chooseTable(select, chosen);
    sync();
  }

  function choose(value) {
    select.value = value;
    select.dispatchEvent(new Event("change", { bubbles: true })); // as if picked: the form and address follow
  }

  upload.addEventListener("click", () => file.click());
  file.addEventListener("change", async (event) => {
    event.stopPropagation(); // not a setting of the run
    const [picked] = file.files;
    if (!picked) return;
    show(say("upload.sending", { name: picked.name }));
    try {
      const table = await uploadDataset(picked, picked.name.slice(0, 100));
      await refresh();
      choose(UPLOADED + table.id);
      show(describe(table));
    } catch (error) {
      show(reasons(error), true);
    } finally {
      file.value = ""; // the same file again is a new upload
    }
  });
  remove.addEventListener("click", async () => {
    const table = tables.get(chosenId());
    if (!table || !window.confirm(say("upload.confirmDelete", { name: table.name }))) return;
    try {
      await deleteDataset(table.id);
      await refresh();
      choose(select.options[0].value);
    } catch (error) {
      show(error.message, true);
    }
  });
  select.addEventListener("change", sync);

  return { refresh, table: (id) => tables.get(id) };
}

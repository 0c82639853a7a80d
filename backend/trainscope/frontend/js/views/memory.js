// What a training step of the form's settings will hold in memory, estimated by the server from the
// spec before Start (training/memory.py): parameters, gradients, the optimizer's state and what autograd
// saves for backward at the batch size.
import { estimateMemory } from "../api.js";
import { language, say, t } from "../i18n.js";

const UNITS = [["GB", 1e9], ["MB", 1e6], ["kB", 1e3]];

export function size(bytes) {
  const [unit, scale] = UNITS.find(([, s]) => bytes >= s) || ["B", 1];
  return `${(bytes / scale).toLocaleString(language(), { maximumFractionDigits: scale > 1 ? 1 : 0 })} ${unit}`;
}

// onInvalid(detail): the server refused the settings (a 422's errors, to show at their fields)
export function mount(el, { onInvalid = () => {} } = {}) {
  el.dataset.testid = "memory-estimate";
  let shown = "";
  let ticket = 0;
  let timer = null;
  let drawn = null; // the estimate on screen, redrawn at once in another language

  function render(estimate) {
    drawn = estimate;
    // a kind that steps itself (k-means) holds no gradient and no optimizer: nothing to list for them
    const learns = estimate.gradients > 0;
    const parts = [
      say("memory.parameters", { size: size(estimate.parameters) }),
      ...(learns ? [say("memory.gradients", { size: size(estimate.gradients) }), say("memory.state", { size: size(estimate.optimizer_state) })] : []),
      estimate.activations === null ? t("memory.noActivations") : say("memory.activations", { size: size(estimate.activations), batch: estimate.batch }),
    ];
    el.textContent = `${say("memory.total", { size: size(estimate.total) })}: ${parts.join(", ")}`;
  }

  // the form's settings changed: ask again a moment later (typing a width asks once, not per key)
  function update(spec) {
    const key = JSON.stringify(spec);
    if (key === shown) return;
    shown = key;
    clearTimeout(timer);
    timer = setTimeout(async () => {
      const mine = (ticket += 1);
      try {
        const estimate = await estimateMemory(spec);
        if (mine === ticket) render(estimate);
      } catch (error) {
        if (mine !== ticket) return;
        drawn = null;
        el.textContent = "";
        if (error.status === 422 && Array.isArray(error.detail)) onInvalid(error.detail);
      }
    }, 250);
  }
  // settings the form refuses: no estimate (an answer still on its way is dropped)
  function clear() {
    clearTimeout(timer);
    ticket += 1;
    shown = "";
    drawn = null;
    el.textContent = "";
  }

  function redraw() {
    if (drawn) render(drawn);
  }
  return { update, clear, redraw };
}

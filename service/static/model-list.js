/* The list of trained models, newest first: each one reopens that model on the page. */

import { api } from "./api.js";
import { describeModel } from "./model-view.js";

/**
 * The list over the page's elements; `onChoose(modelId, title)` runs when a model is picked.
 * Returns `refresh()`, which lists the models again, and `markCurrent(modelId)`.
 */
export function createModelList(el, { onChoose }) {
  let currentId = null;

  function markCurrent(modelId) {
    currentId = modelId;
    for (const button of el.modelList.querySelectorAll("button")) {
      if (button.dataset.modelId === currentId) button.setAttribute("aria-current", "true");
      else button.removeAttribute("aria-current");
    }
  }

  function modelItem(model) {
    const item = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    button.dataset.modelId = model.id;
    const name = document.createElement("span");
    name.className = "model-name";
    name.textContent = model.name || `Model ${model.id.slice(0, 8)}`;
    const facts = document.createElement("span");
    facts.className = "model-facts";
    facts.textContent = `${describeModel(model)} · ${new Date(model.created_at).toLocaleString()}`;
    button.append(name, facts);
    button.addEventListener("click", () => onChoose(model.id, name.textContent));
    item.append(button);
    return item;
  }

  async function refresh() {
    try {
      const page = await api("GET", "/models?limit=20");
      const items = page.items || [];
      el.modelsNote.textContent = items.length
        ? `${page.total} model${page.total === 1 ? "" : "s"}, newest first.`
        : "No models yet: train one.";
      el.modelList.replaceChildren(...items.map(modelItem));
      markCurrent(currentId);
    } catch (error) {
      el.modelsNote.textContent = `The models could not be listed: ${error.message}`;
    }
  }

  el.refreshModels.addEventListener("click", refresh);
  return { refresh, markCurrent };
}

/* The list of trained models: registered names with their versions and aliases, then the
   models addressed by id only. Each version reopens that model on the page. */

import { api } from "./api.js";
import { describeModel } from "./model-view.js";

const LISTED_MODELS = 100;

/** How the page names a model: `name@vN` for a registered version, else its id. */
export function referenceOf(model) {
  return model.version != null ? `${model.name}@v${model.version}` : model.id;
}

/**
 * The list over the page's elements; `onChoose(reference, title)` runs when a model is picked.
 * Returns `refresh()`, which lists the models again, and `markCurrent(reference or id)`.
 */
export function createModelList(el, { onChoose }) {
  let current = null;

  function markCurrent(reference) {
    current = reference;
    for (const button of el.modelList.querySelectorAll("button")) {
      const chosen = button.dataset.modelRef === current || button.dataset.modelId === current;
      if (chosen) button.setAttribute("aria-current", "true");
      else button.removeAttribute("aria-current");
    }
  }

  function modelButton(model, label) {
    const button = document.createElement("button");
    button.type = "button";
    button.dataset.modelId = model.id;
    button.dataset.modelRef = referenceOf(model);
    const name = document.createElement("span");
    name.className = "model-name";
    name.textContent = label;
    const facts = document.createElement("span");
    facts.className = "model-facts";
    facts.textContent = `${describeModel(model)} · ${new Date(model.created_at).toLocaleString()}`;
    button.append(name, facts);
    button.addEventListener("click", () => onChoose(referenceOf(model), label));
    return button;
  }

  function registeredItem(name, versions) {
    const item = document.createElement("li");
    item.className = "registered-model";
    const heading = document.createElement("span");
    heading.className = "model-name";
    heading.textContent = name;
    const aliases = versions.flatMap((model) => model.aliases.map((alias) => `${alias} → v${model.version}`));
    const aliasNote = document.createElement("span");
    aliasNote.className = "model-aliases";
    aliasNote.textContent = aliases.length ? aliases.join(", ") : "no aliases";
    const list = document.createElement("ul");
    list.className = "model-versions";
    for (const model of versions) {
      const entry = document.createElement("li");
      const aliasText = model.aliases.length ? ` (${model.aliases.join(", ")})` : "";
      entry.append(modelButton(model, `${name} v${model.version}${aliasText}`));
      list.append(entry);
    }
    item.append(heading, aliasNote, list);
    return item;
  }

  function otherItem(model) {
    const item = document.createElement("li");
    item.append(modelButton(model, model.name || `Model ${model.id.slice(0, 8)}`));
    return item;
  }

  async function refresh() {
    try {
      const page = await api("GET", `/models?limit=${LISTED_MODELS}`);
      const items = page.items || [];
      const byName = new Map();
      const others = [];
      for (const model of items) {
        if (model.version == null) others.push(model);
        else byName.set(model.name, [...(byName.get(model.name) || []), model]);
      }
      for (const versions of byName.values()) versions.sort((a, b) => b.version - a.version);
      const count = `${page.total} model${page.total === 1 ? "" : "s"}`;
      const names = byName.size ? `, ${byName.size} of them named (with their versions)` : "";
      el.modelsNote.textContent = items.length ? `${count}${names}, newest first.` : "No models yet: train one.";
      el.modelList.replaceChildren(
        ...[...byName].map(([name, versions]) => registeredItem(name, versions)),
        ...others.map(otherItem),
      );
      markCurrent(current);
    } catch (error) {
      el.modelsNote.textContent = `The models could not be listed: ${error.message}`;
    }
  }

  el.refreshModels.addEventListener("click", refresh);
  return { refresh, markCurrent };
}

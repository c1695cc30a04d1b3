/* The list of trained models: registered names with their versions and aliases, then the
   models addressed by id only. Each version reopens that model on the page. The newest models
   are listed first, a page at a time: "Show older models" adds the next page. */

import { api } from "./api.js";
import { describeModel } from "./model-view.js";

const PAGE_SIZE = 100;

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
  let listed = []; // the models loaded so far, newest first
  let total = 0; // how many the server has

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

  function render() {
    const byName = new Map();
    const others = [];
    for (const model of listed) {
      if (model.version == null) others.push(model);
      else byName.set(model.name, [...(byName.get(model.name) || []), model]);
    }
    for (const versions of byName.values()) versions.sort((a, b) => b.version - a.version);
    const count = `${total} model${total === 1 ? "" : "s"}`;
    const names = byName.size ? `, ${byName.size} of them named (with their versions)` : "";
    const shown = listed.length < total ? `The newest ${listed.length} of ${count}` : count;
    el.modelsNote.textContent = listed.length ? `${shown}${names}, newest first.` : "No models yet: train one.";
    el.modelList.replaceChildren(
      ...[...byName].map(([name, versions]) => registeredItem(name, versions)),
      ...others.map(otherItem),
    );
    el.moreModels.hidden = listed.length >= total;
    markCurrent(current);
  }

  function listPage(offset) {
    return api("GET", `/models?limit=${PAGE_SIZE}&offset=${offset}`);
  }

  async function refresh() {
    try {
      const page = await listPage(0);
      listed = page.items || [];
      total = page.total;
      render();
    } catch (error) {
      el.modelsNote.textContent = `The models could not be listed: ${error.message}`;
    }
  }

  async function showOlder() {
    el.moreModels.disabled = true;
    try {
      const page = await listPage(listed.length);
      // Models trained meanwhile shift the pages: one already listed may come again.
      const known = new Set(listed.map((model) => model.id));
      listed = [...listed, ...(page.items || []).filter((model) => !known.has(model.id))];
      total = page.total;
      render();
    } catch (error) {
      el.modelsNote.textContent = `The older models could not be listed: ${error.message}`;
    } finally {
      el.moreModels.disabled = false;
    }
  }

  el.refreshModels.addEventListener("click", refresh);
  el.moreModels.addEventListener("click", showOlder);
  return { refresh, markCurrent };
}

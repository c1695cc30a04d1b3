/* The training form: read it into a POST /jobs body, and show problems beside their fields. */

import { ApiError } from "./api.js";

const $ = (id) => document.getElementById(id);

/** Values the page refuses before asking the API; ``errors`` as in a problem. */
export class FormError extends Error {
  constructor(errors) {
    super("the form has invalid values");
    this.errors = errors;
  }
}

function readNumber(id, field, errors, { integer = false, optional = false } = {}) {
  const raw = $(id).value.trim();
  if (raw === "") {
    if (!optional) errors.push({ field, message: "enter a number" });
    return null;
  }
  const value = Number(raw);
  if (!Number.isFinite(value) || (integer && !Number.isInteger(value))) {
    errors.push({ field, message: integer ? "enter a whole number" : "enter a number" });
    return null;
  }
  return value;
}

function readHiddenLayers(errors) {
  const units = $("hidden-layers").value.split(/[\s,;]+/).filter(Boolean).map(Number);
  if (units.some((value) => !Number.isInteger(value))) {
    errors.push({ field: "hidden_layers", message: "write whole numbers of units, e.g. 8, 8" });
  }
  return units;
}

function readPoints(errors) {
  const points = [];
  const labels = [];
  $("points").value.split(/\r?\n/).forEach((line, index) => {
    if (!line.trim()) return;
    const numbers = line.trim().split(/[\s,;]+/).map(Number);
    if (numbers.length !== 3 || numbers.some((value) => !Number.isFinite(value))) {
      errors.push({ field: "data.points", message: `line ${index + 1}: expected x, y, label` });
      return;
    }
    points.push([numbers[0], numbers[1]]);
    labels.push(numbers[2]);
  });
  if (!points.length && !errors.length) errors.push({ field: "data.points", message: "give at least one point" });
  return { points, labels };
}

const dataSource = () => document.querySelector('#training-form input[name="source"]:checked').value;

/** Show the fields of the chosen data source (generated or typed points). */
export function showSource() {
  $("generator-fields").hidden = dataSource() !== "generator";
  $("points-fields").hidden = dataSource() !== "points";
}

/** The training body from the form; throws FormError naming the fields it cannot read. */
export function readTrainingForm() {
  const errors = [];
  const data = dataSource() === "points"
    ? readPoints(errors)
    : {
      generator: $("generator").value,
      n_samples: readNumber("n-samples", "data.n_samples", errors, { integer: true }),
      noise: readNumber("noise", "data.noise", errors),
      seed: readNumber("data-seed", "data.seed", errors, { integer: true, optional: true }),
    };
  const body = {
    data,
    hidden_layers: readHiddenLayers(errors),
    activation: $("activation").value,
    epochs: readNumber("epochs", "epochs", errors, { integer: true }),
    learning_rate: readNumber("learning-rate", "learning_rate", errors),
    optimizer: $("optimizer").value,
    batch_size: readNumber("batch-size", "batch_size", errors, { integer: true, optional: true }),
    seed: readNumber("seed", "seed", errors, { integer: true, optional: true }),
    validation_fraction: readNumber("validation-fraction", "validation_fraction", errors, { optional: true }) ?? 0,
    l2: readNumber("l2", "l2", errors, { optional: true }) ?? 0,
    l1: readNumber("l1", "l1", errors, { optional: true }) ?? 0,
  };
  const featureBoxes = [...document.querySelectorAll("#features input")];
  if (featureBoxes.length) {
    body.features = featureBoxes.filter((box) => box.checked).map((box) => box.value);
    if (!body.features.length) errors.push({ field: "features", message: "choose at least one input feature" });
  }
  const name = $("name").value.trim();
  if (name) body.name = name;
  if (errors.length) throw new FormError(errors);
  return body;
}

/** The form control a problem's field names, e.g. "body.data.noise" -> the noise input. */
function controlFor(field) {
  let path = String(field).replace(/^body\.?/, "").replace(/\[\d+\].*$/, "");
  while (path) {
    const control = document.querySelector(`[data-field="${CSS.escape(path)}"]`);
    if (control) return control;
    path = path.includes(".") ? path.slice(0, path.lastIndexOf(".")) : "";
  }
  return null;
}

export function clearErrors() {
  const box = $("errors");
  box.hidden = true;
  box.replaceChildren();
  for (const input of document.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
}

/** Show a problem plainly: its title, its detail, and each offending field (marked invalid). */
export function showProblem(problem) {
  const box = $("errors");
  const heading = document.createElement("h3");
  heading.textContent = problem.title || "Something went wrong";
  box.replaceChildren(heading);
  if (problem.detail) {
    const detail = document.createElement("p");
    detail.textContent = problem.detail;
    box.append(detail);
  }
  if (Array.isArray(problem.errors) && problem.errors.length) {
    const list = document.createElement("ul");
    for (const item of problem.errors) {
      const entry = document.createElement("li");
      entry.textContent = `${item.field}: ${item.message}`;
      list.append(entry);
      const control = controlFor(item.field);
      if (control) control.setAttribute("aria-invalid", "true");
    }
    box.append(list);
  }
  box.hidden = false;
}

export function showError(error, title) {
  if (error instanceof ApiError) showProblem(error.problem);
  else if (error instanceof FormError) showProblem({ title: "Please check the form", errors: error.errors });
  else showProblem({ title: title || "Something went wrong", detail: String(error.message || error) });
}

/* The training form's defaults and bounds, read from the API's own OpenAPI document, so the
   page and the server never disagree on what a job does when a field is left alone. */

const TRAINING_PATH = "/jobs";

/** The JSON schema of POST /jobs's body (the page's server documents it inline). */
async function trainingSchema() {
  const response = await fetch("/openapi.json", { headers: { Accept: "application/json" } });
  if (!response.ok) throw new Error(`the API reference answered ${response.status}`);
  const document = await response.json();
  return document.paths[TRAINING_PATH].post.requestBody.content["application/json"].schema;
}

/** The schema of the property at ``path`` ("data.noise"), looking into unions' branches. */
function propertyAt(schema, path) {
  let node = schema;
  for (const name of path.split(".")) {
    const branches = [node, ...(node.anyOf || []), ...(node.oneOf || [])];
    const owner = branches.find((branch) => branch.properties && name in branch.properties);
    if (!owner) return null;
    node = owner.properties[name];
  }
  return node;
}

/** The default of a property, from it or from the union branch that declares one. */
function defaultOf(property) {
  if ("default" in property) return property.default;
  for (const branch of [...(property.anyOf || []), ...(property.oneOf || [])]) {
    if ("default" in branch) return branch.default;
  }
  return undefined;
}

/** The numeric bounds of a property (its own, or its number branch's when it may be null). */
function boundsOf(property) {
  const numeric = [property, ...(property.anyOf || [])].find((branch) => "minimum" in branch
    || "exclusiveMinimum" in branch || "maximum" in branch);
  return numeric || {};
}

function show(control, value) {
  if (value === undefined) return;
  if (control.tagName === "SELECT") {
    control.value = String(value);
  } else if (Array.isArray(value)) {
    control.value = value.join(", ");
  } else {
    control.value = value === null ? "" : String(value);
  }
}

/** A checkbox per choice the schema's array items allow, the default ones checked. */
function showChoices(group, property) {
  const chosen = new Set(defaultOf(property) || []);
  for (const old of group.querySelectorAll("label")) old.remove();
  for (const choice of (property.items && property.items.enum) || []) {
    const label = document.createElement("label");
    const box = document.createElement("input");
    box.type = "checkbox";
    box.value = choice;
    box.checked = chosen.has(choice);
    label.append(box, ` ${choice}`);
    group.append(label);
  }
}

/** Fill every control marked ``data-field`` with the API's default and bounds for it. */
export async function applyTrainingDefaults(form) {
  const schema = await trainingSchema();
  for (const control of form.querySelectorAll("[data-field]")) {
    const property = propertyAt(schema, control.dataset.field);
    if (!property) continue;
    if (control.dataset.kind === "choices") {
      showChoices(control, property);
      continue;
    }
    show(control, defaultOf(property));
    if ("maxLength" in property) control.maxLength = property.maxLength;
    if (control.type === "number") {
      const bounds = boundsOf(property);
      if ("minimum" in bounds) control.min = bounds.minimum;
      else if ("exclusiveMinimum" in bounds) control.min = bounds.exclusiveMinimum;
      if ("maximum" in bounds) control.max = bounds.maximum;
    }
  }
}

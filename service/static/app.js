/* PlaneNet's page: start a training job, watch it live, then show and query the model.
   Plain modules over the public HTTP API: no build step, nothing loaded from elsewhere. */

import { api, isMissingRoute, useKeyFrom } from "./api.js";
import { clearErrors, readTrainingForm, showError, showProblem, showSource } from "./form.js";
import {
  MAX_PLOTTED_POINTS,
  draw,
  drawLossCurve,
  fitted,
  plotNote,
  plotlyReady,
  predictionTrace,
} from "./plots.js";
import { watchByPolling, watchWithEventSource, watchWithFetch } from "./stream.js";

const REDRAW_MS = 150;
const NO_PLOTLY = "The plots need plotly.js, which did not load.";

const $ = (id) => document.getElementById(id);
const el = {
  form: $("training-form"),
  apiKey: $("api-key"),
  startButton: $("start-button"),
  cancelButton: $("cancel-button"),
  status: $("status"),
  progress: $("progress"),
  lossPlot: $("loss-plot"),
  modelSummary: $("model-summary"),
  boundaryMode: $("boundary-mode"),
  boundaryPlot: $("boundary-plot"),
  predictForm: $("predict-form"),
  predictX: $("predict-x"),
  predictY: $("predict-y"),
  predictButton: $("predict-button"),
  prediction: $("prediction"),
  modelList: $("model-list"),
  modelsNote: $("models-note"),
  refreshModels: $("refresh-models"),
};

const state = {
  job: null,
  watch: null,
  losses: [],
  validationLosses: [],
  redrawTimer: null,
  modelId: null,
  boundary: null,
  predicted: null,
  clickBound: false,
};

useKeyFrom(() => el.apiKey.value);

/* ---- the live loss curve ---- */

function drawLoss() {
  state.redrawTimer = null;
  drawLossCurve(el.lossPlot, state.losses, state.validationLosses);
}

function scheduleLossRedraw() {
  if (state.redrawTimer === null) state.redrawTimer = setTimeout(drawLoss, REDRAW_MS);
}

/** Append the loss values of an event at their offset, skipping any already held. */
function appendLosses(target, offset, values) {
  if (!Array.isArray(values) || offset > target.length) return;
  for (let index = target.length - offset; index < values.length; index += 1) target.push(values[index]);
}

/* ---- the job: start, watch, cancel ---- */

function setRunning(running) {
  el.startButton.disabled = running;
  el.cancelButton.hidden = !running;
  el.cancelButton.disabled = false;
}

function setStatus(text, stateName) {
  el.status.textContent = text;
  el.status.dataset.state = stateName;
}

const formatLoss = (value) => (value === null || value === undefined ? "–" : Number(value).toPrecision(4));

function showProgress(data) {
  const fraction = Number(data.fraction) || 0;
  el.progress.value = fraction;
  if (data.status === "queued") {
    setStatus("Queued: waiting for a free training worker…", "queued");
    return;
  }
  let text = `Running: epoch ${data.epoch} of ${data.epochs} (${Math.round(fraction * 100)} %), loss ${formatLoss(data.loss)}`;
  if (data.validation_loss !== null && data.validation_loss !== undefined) {
    text += `, validation loss ${formatLoss(data.validation_loss)}`;
  }
  setStatus(text, "running");
}

function jobEnded() {
  stopWatching();
  setRunning(false);
  if (state.losses.length) drawLoss();
}

const handlers = {
  progress(data) {
    if (typeof data.offset === "number") {
      appendLosses(state.losses, data.offset, data.losses);
      appendLosses(state.validationLosses, data.offset, data.validation_losses);
      scheduleLossRedraw();
    }
    showProgress(data);
  },
  succeeded(data) {
    jobEnded();
    el.progress.value = 1;
    setStatus(`Done: ${data.epoch} epochs, final loss ${formatLoss(data.loss)}.`, "succeeded");
    openModel(data.model_id, { withLoss: false });
    refreshModels();
  },
  failed(data) {
    jobEnded();
    setStatus(`Failed at epoch ${data.epoch}.`, "failed");
    showProblem({ title: "Training failed", detail: data.error });
  },
  cancelled(data) {
    jobEnded();
    setStatus(`Cancelled at epoch ${data.epoch}.`, "cancelled");
  },
};

function stopWatching() {
  if (state.watch) state.watch.close();
  state.watch = null;
}

function watchJob(job) {
  stopWatching();
  state.job = job;
  state.losses = [];
  state.validationLosses = [];
  setRunning(true);
  showProgress({ status: job.status, ...job.progress });
  drawLoss();
  history.replaceState(null, "", `#job=${job.id}`);
  const url = `/jobs/${encodeURIComponent(job.id)}/events`;
  const poll = () => {
    stopWatching();
    state.watch = watchByPolling(job.id, handlers, {
      onLossFigure: (figure) => draw(el.lossPlot, figure.data, fitted(figure)),
      onError: (error) => {
        setRunning(false);
        showError(error);
      },
    });
  };
  // EventSource cannot send headers: with a key (needed when reads are protected), use fetch.
  const withKey = el.apiKey.value.trim() !== "";
  state.watch = withKey ? watchWithFetch(url, handlers, poll) : watchWithEventSource(url, handlers, poll);
}

async function startTraining(event) {
  event.preventDefault();
  clearErrors();
  el.startButton.disabled = true;
  try {
    watchJob(await api("POST", "/jobs", readTrainingForm()));
  } catch (error) {
    el.startButton.disabled = false;
    showError(error);
  }
}

async function cancelTraining() {
  if (!state.job) return;
  el.cancelButton.disabled = true;
  try {
    await api("POST", `/jobs/${encodeURIComponent(state.job.id)}/cancel`);
  } catch (error) {
    el.cancelButton.disabled = false;
    showError(error);
  }
}

/* ---- a model: its boundary, its summary, predictions ---- */

function describeModel(model) {
  const config = model.config || {};
  const data = config.data || {};
  const source = data.generator ? `${data.generator}, ${data.n_samples} points` : `${data.n_points ?? "?"} given points`;
  const layers = Array.isArray(config.hidden_layers) ? `[${config.hidden_layers.join(", ")}]` : "?";
  const metrics = model.metrics || {};
  const accuracy = typeof metrics.train_accuracy === "number"
    ? `${(metrics.train_accuracy * 100).toFixed(1)} % training accuracy`
    : "";
  return [source, `${layers} ${config.activation || ""}`.trim(), accuracy, `${metrics.epochs_run ?? "?"} epochs`]
    .filter(Boolean)
    .join(" · ");
}

async function drawBoundary() {
  if (!state.boundary) return;
  const layout = fitted(state.boundary, { hovermode: "closest", clickmode: "event" });
  await draw(el.boundaryPlot, [...state.boundary.data, predictionTrace(state.predicted)], layout);
  if (!state.clickBound && plotlyReady()) {
    el.boundaryPlot.on("plotly_click", onBoundaryClick);
    state.clickBound = true;
  }
}

async function loadBoundary() {
  const modelId = state.modelId;
  if (!modelId) return;
  try {
    const mode = encodeURIComponent(el.boundaryMode.value);
    const figure = await api("GET", `/models/${encodeURIComponent(modelId)}/figures/boundary?mode=${mode}`);
    if (modelId !== state.modelId) return;
    state.boundary = figure;
    if (plotlyReady()) await drawBoundary();
    else plotNote(el.boundaryPlot, NO_PLOTLY);
  } catch (error) {
    if (isMissingRoute(error)) plotNote(el.boundaryPlot, "This server does not draw decision boundaries yet.");
    else showError(error);
  }
}

async function loadSummary(modelId) {
  try {
    const model = await api("GET", `/models/${encodeURIComponent(modelId)}`);
    const title = model.name ? `“${model.name}”` : `Model ${model.id.slice(0, 8)}`;
    el.modelSummary.textContent = `${title}: ${describeModel(model)}.`;
  } catch (error) {
    if (isMissingRoute(error)) el.modelSummary.textContent = `Model ${modelId.slice(0, 8)}.`;
    else showError(error);
  }
}

async function loadLossFigure(modelId) {
  try {
    const path = `/models/${encodeURIComponent(modelId)}/figures/loss?max_points=${MAX_PLOTTED_POINTS}`;
    const figure = await api("GET", path);
    await draw(el.lossPlot, figure.data, fitted(figure));
  } catch (error) {
    if (!isMissingRoute(error)) showError(error);
  }
}

function markCurrentModel() {
  for (const button of el.modelList.querySelectorAll("button")) {
    if (button.dataset.modelId === state.modelId) button.setAttribute("aria-current", "true");
    else button.removeAttribute("aria-current");
  }
}

async function openModel(modelId, { withLoss }) {
  state.modelId = modelId;
  state.predicted = null;
  el.prediction.textContent = "";
  el.predictButton.disabled = false;
  history.replaceState(null, "", `#model=${modelId}`);
  markCurrentModel();
  await Promise.all([loadBoundary(), loadSummary(modelId), withLoss ? loadLossFigure(modelId) : null]);
}

/** "= 0.1234" to four decimals, or "< 0.0001": never a certainty the model does not claim. */
function formatProbability(probability) {
  if (probability > 0 && probability < 0.0001) return "< 0.0001";
  if (probability < 1 && probability > 0.9999) return "> 0.9999";
  return `= ${probability.toFixed(4)}`;
}

async function predict(x, y) {
  if (!state.modelId) return;
  clearErrors();
  try {
    const result = await api("POST", `/models/${encodeURIComponent(state.modelId)}/predict`, { points: [[x, y]] });
    const probability = result.probabilities[0];
    const label = result.labels[0];
    state.predicted = { x, y, label };
    const answer = document.createElement("span");
    answer.className = `label-${label}`;
    answer.textContent = `class ${label}`;
    el.prediction.replaceChildren(
      `(${x.toFixed(3)}, ${y.toFixed(3)}) is `,
      answer,
      `: P(class 1) ${formatProbability(probability)}`,
    );
    Object.assign(el.prediction.dataset, { x: String(x), y: String(y), probability: String(probability) });
    await drawBoundary();
  } catch (error) {
    if (isMissingRoute(error)) el.prediction.textContent = "This server does not answer predictions yet.";
    else showError(error);
  }
}

function onBoundaryClick(event) {
  const point = event && event.points && event.points[0];
  if (!point || typeof point.x !== "number" || typeof point.y !== "number") return;
  el.predictX.value = point.x.toFixed(3);
  el.predictY.value = point.y.toFixed(3);
  predict(point.x, point.y);
}

function onPredictSubmit(event) {
  event.preventDefault();
  const [x, y] = [el.predictX.value, el.predictY.value].map((value) => (value.trim() === "" ? NaN : Number(value)));
  if (!Number.isFinite(x) || !Number.isFinite(y)) {
    showProblem({ title: "Please check the point", detail: "x and y must be numbers." });
    return;
  }
  predict(x, y);
}

/* ---- the list of models ---- */

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
  button.addEventListener("click", () => {
    clearErrors();
    stopWatching();
    setRunning(false);
    setStatus(`Showing ${name.textContent}.`, "model");
    openModel(model.id, { withLoss: true });
  });
  item.append(button);
  return item;
}

async function refreshModels() {
  try {
    const page = await api("GET", "/models?limit=20");
    const items = page.items || [];
    el.modelsNote.textContent = items.length
      ? `${page.total} model${page.total === 1 ? "" : "s"}, newest first.`
      : "No models yet: train one.";
    el.modelList.replaceChildren(...items.map(modelItem));
    markCurrentModel();
  } catch (error) {
    el.modelsNote.textContent = isMissingRoute(error)
      ? "This server does not list models yet."
      : `The models could not be listed: ${error.message}`;
  }
}

/* ---- start-up ---- */

/** After a reload, follow the job or show the model named in the address (#job=… / #model=…). */
async function resumeFromAddress() {
  const match = /^#(job|model)=([0-9a-f]{1,64})$/.exec(location.hash);
  if (!match) return;
  const [, kind, id] = match;
  try {
    if (kind === "model") await openModel(id, { withLoss: true });
    else watchJob(await api("GET", `/jobs/${id}`));
  } catch (error) {
    showError(error);
  }
}

el.form.addEventListener("submit", startTraining);
el.cancelButton.addEventListener("click", cancelTraining);
for (const radio of el.form.querySelectorAll('input[name="source"]')) radio.addEventListener("change", showSource);
el.boundaryMode.addEventListener("change", loadBoundary);
el.predictForm.addEventListener("submit", onPredictSubmit);
el.refreshModels.addEventListener("click", refreshModels);
showSource();
if (plotlyReady()) {
  drawLoss();
  plotNote(el.boundaryPlot, "No model yet: the decision boundary appears when a training ends.");
} else {
  plotNote(el.lossPlot, NO_PLOTLY);
  plotNote(el.boundaryPlot, NO_PLOTLY);
}
refreshModels();
resumeFromAddress();

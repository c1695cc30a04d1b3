/* PlaneNet's page: start a training job and watch it live; the model it makes, or one picked
   from the list, is shown by model-view.js and model-list.js. Plain modules over the public
   HTTP API: no build step, nothing loaded from elsewhere. */

import { api, useKeyFrom } from "./api.js";
import { applyTrainingDefaults } from "./defaults.js";
import { clearErrors, readTrainingForm, showError, showProblem, showSource } from "./form.js";
import { createModelList } from "./model-list.js";
import { NO_PLOTLY, createModelView } from "./model-view.js";
import { draw, drawLossCurve, fitted, plotNote, plotlyReady } from "./plots.js";
import { watchByPolling, watchWithEventSource, watchWithFetch } from "./stream.js";
import { createTrainingView } from "./training-view.js";

const REDRAW_MS = 150;

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
  threshold: $("threshold"),
  evaluateForm: $("evaluate-form"),
  evaluatePoints: $("evaluate-points"),
  evaluateButton: $("evaluate-button"),
  evaluation: $("evaluation"),
  evaluationPlots: $("evaluation-plots"),
  rocPlot: $("roc-plot"),
  confusionPlot: $("confusion-plot"),
  modelList: $("model-list"),
  modelsNote: $("models-note"),
  refreshModels: $("refresh-models"),
  moreModels: $("more-models"),
  replayButton: $("replay-button"),
  replayPlot: $("replay-plot"),
  neuronPlot: $("neuron-plot"),
};

const state = {
  job: null,
  watch: null,
  losses: [],
  validationLosses: [],
  redrawTimer: null,
};

useKeyFrom(() => el.apiKey.value);

const models = createModelList(el, { onChoose: showChosenModel });
const trainingView = createTrainingView(el);
const modelView = createModelView(el, {
  onOpened: (modelId) => {
    models.markCurrent(modelId);
    trainingView.showModel(modelId);
  },
});

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
  trainingView.stopLive();
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
  snapshot(data) {
    if (state.job) trainingView.snapshot(state.job.id, data);
  },
  succeeded(data) {
    jobEnded();
    el.progress.value = 1;
    setStatus(`Done: ${data.epoch} epochs, final loss ${formatLoss(data.loss)}.`, "succeeded");
    modelView.open(data.model_id, { withLoss: false });
    models.refresh();
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
  trainingView.stopLive();
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

/** A model picked from the list (by reference): stop following the job, show the model. */
function showChosenModel(modelId, title) {
  clearErrors();
  stopWatching();
  setRunning(false);
  setStatus(`Showing ${title}.`, "model");
  modelView.open(modelId, { withLoss: true });
}

/* ---- start-up ---- */

/** After a reload, follow the job or show the model named in the address (#job=… / #model=…). */
async function resumeFromAddress() {
  const match = /^#(job|model)=([A-Za-z0-9._@-]{1,165})$/.exec(location.hash);
  if (!match) return;
  const [, kind, id] = match;
  try {
    if (kind === "model") await modelView.open(id, { withLoss: true });
    else watchJob(await api("GET", `/jobs/${id}`));
  } catch (error) {
    showError(error);
  }
}

el.form.addEventListener("submit", startTraining);
el.cancelButton.addEventListener("click", cancelTraining);
for (const radio of el.form.querySelectorAll('input[name="source"]')) radio.addEventListener("change", showSource);
showSource();
if (plotlyReady()) {
  drawLoss();
  plotNote(el.boundaryPlot, "No model yet: the decision boundary appears when a training ends.");
} else {
  plotNote(el.lossPlot, NO_PLOTLY);
  plotNote(el.boundaryPlot, NO_PLOTLY);
}
/** Fill the form with the API's defaults, then let the user edit it and start. */
async function prepareForm() {
  try {
    await applyTrainingDefaults(el.form);
  } catch (error) {
    showProblem({ title: "The form's defaults could not be read", detail: String(error.message || error) });
  }
  $("training-fields").disabled = false;
  if (!state.job || !state.watch) el.startButton.disabled = false;
}

prepareForm();
models.refresh();
resumeFromAddress();

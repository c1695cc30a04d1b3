/* One trained model on the page: its summary, its decision boundary (click it to predict a
   point), the prediction form, and its loss figure when reopened from the list. */

import { api } from "./api.js";
import { clearErrors, showError, showProblem } from "./form.js";
import { MAX_PLOTTED_POINTS, draw, fitted, plotNote, plotlyReady, predictionTrace } from "./plots.js";

export const NO_PLOTLY = "The plots need plotly.js, which did not load.";

/** A model in one line: its data, its network, its training accuracy and its epochs. */
export function describeModel(model) {
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

/** "= 0.1234" to four decimals, or "< 0.0001": never a certainty the model does not claim. */
function formatProbability(probability) {
  if (probability > 0 && probability < 0.0001) return "< 0.0001";
  if (probability < 1 && probability > 0.9999) return "> 0.9999";
  return `= ${probability.toFixed(4)}`;
}

/**
 * The model view over the page's elements; `onOpened(modelId)` runs whenever a model is shown.
 * Returns `open(modelId, { withLoss })`, which shows a model (and its loss figure if asked).
 */
export function createModelView(el, { onOpened }) {
  const state = { modelId: null, boundary: null, predicted: null, clickBound: false };

  async function drawBoundary() {
    if (!state.boundary) return;
    const layout = fitted(state.boundary, { hovermode: "closest", clickmode: "event" });
    await draw(el.boundaryPlot, [...state.boundary.data, predictionTrace(state.predicted)], layout);
    Object.assign(el.boundaryPlot.dataset, { source: "model", epoch: "" });
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
      showError(error);
    }
  }

  async function loadSummary(modelId) {
    try {
      const model = await api("GET", `/models/${encodeURIComponent(modelId)}`);
      const name = model.name ? `“${model.name}”` : `Model ${model.id.slice(0, 8)}`;
      const version = model.version != null ? ` version ${model.version}` : "";
      const aliases = model.aliases && model.aliases.length ? ` (${model.aliases.join(", ")})` : "";
      el.modelSummary.textContent = `${name}${version}${aliases}: ${describeModel(model)}.`;
      el.modelSummary.dataset.modelId = model.id;
    } catch (error) {
      showError(error);
    }
  }

  async function loadLossFigure(modelId) {
    try {
      const path = `/models/${encodeURIComponent(modelId)}/figures/loss?max_points=${MAX_PLOTTED_POINTS}`;
      const figure = await api("GET", path);
      await draw(el.lossPlot, figure.data, fitted(figure));
    } catch (error) {
      showError(error);
    }
  }

  async function open(modelId, { withLoss }) {
    state.modelId = modelId;
    state.predicted = null;
    el.prediction.textContent = "";
    el.evaluation.replaceChildren();
    el.evaluationPlots.hidden = true;
    el.predictButton.disabled = false;
    el.evaluateButton.disabled = false;
    history.replaceState(null, "", `#model=${modelId}`);
    onOpened(modelId);
    await Promise.all([loadBoundary(), loadSummary(modelId), withLoss ? loadLossFigure(modelId) : null]);
  }

  async function predict(x, y) {
    if (!state.modelId) return;
    clearErrors();
    try {
      const body = { points: [[x, y]], threshold: readThreshold() };
      const result = await api("POST", `/models/${encodeURIComponent(state.modelId)}/predict`, body);
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
      showError(error);
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

  /** The threshold field as a number (the API refuses one outside (0, 1) with a clear 422). */
  function readThreshold() {
    const value = Number(el.threshold.value);
    return el.threshold.value.trim() === "" || Number.isNaN(value) ? 0.5 : value;
  }

  async function evaluate(event) {
    event.preventDefault();
    if (!state.modelId) return;
    clearErrors();
    const rows = el.evaluatePoints.value.split("\n").map((line) => line.trim()).filter(Boolean);
    const parsed = rows.map((line) => line.split(/[\s,;]+/).map(Number));
    if (!parsed.length || parsed.some((row) => row.length !== 3 || row.some((value) => !Number.isFinite(value)))) {
      showProblem({ title: "Please check the labelled points", detail: "Give one point a line: x, y, label (0 or 1)." });
      return;
    }
    const body = {
      points: parsed.map(([x, y]) => [x, y]),
      labels: parsed.map(([, , label]) => label),
      threshold: readThreshold(),
    };
    try {
      const path = `/models/${encodeURIComponent(state.modelId)}/evaluate?figures=true`;
      const result = await api("POST", path, body);
      const percent = (value) => (value == null ? "undefined" : `${(value * 100).toFixed(1)} %`);
      const matrix = result.confusion_matrix;
      const facts = [
        ["Accuracy", percent(result.accuracy)],
        ["Log loss", result.log_loss.toFixed(4)],
        ["Precision", percent(result.precision)],
        ["Recall", percent(result.recall)],
        ["F1", percent(result.f1)],
        ["ROC-AUC", result.roc_auc == null ? result.roc_auc_undefined_reason : result.roc_auc.toFixed(4)],
        ["Confusion (tn, fp, fn, tp)", `${matrix.tn}, ${matrix.fp}, ${matrix.fn}, ${matrix.tp}`],
      ];
      el.evaluation.replaceChildren(
        ...facts.flatMap(([term, value]) => {
          const dt = document.createElement("dt");
          dt.textContent = term;
          const dd = document.createElement("dd");
          dd.textContent = value;
          return [dt, dd];
        }),
      );
      el.evaluation.dataset.accuracy = String(result.accuracy);
      if (plotlyReady()) {
        el.evaluationPlots.hidden = false;
        await draw(el.rocPlot, result.figures.roc.data, fitted(result.figures.roc));
        await draw(el.confusionPlot, result.figures.confusion_matrix.data, fitted(result.figures.confusion_matrix));
      }
    } catch (error) {
      showError(error);
    }
  }

  el.boundaryMode.addEventListener("change", loadBoundary);
  el.predictForm.addEventListener("submit", onPredictSubmit);
  el.evaluateForm.addEventListener("submit", evaluate);
  return { open };
}

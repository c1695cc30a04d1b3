/* PlaneNet's page: start a training job, watch it live over Server-Sent Events, then show and
   query the model. It uses only the public HTTP API and needs no build step. */
"use strict";

(() => {
  const COLORS = {
    class0: "#fa5252",
    class1: "#4c6ef5",
    loss: "#7048e8",
    validation: "#f08c00",
    ground: "#e9ecef",
  };
  const MAX_PLOTTED_POINTS = 10000;
  const REDRAW_MS = 150;
  const POLL_MS = 500;
  const RECONNECT_MS = 1000;
  const PLOT_CONFIG = {
    responsive: true,
    displaylogo: false,
    modeBarButtonsToRemove: ["lasso2d", "select2d"],
  };
  const PLOT_MARGIN = { l: 60, r: 20, t: 50, b: 50 };

  const $ = (id) => document.getElementById(id);
  const el = {
    form: $("training-form"),
    generatorFields: $("generator-fields"),
    pointsFields: $("points-fields"),
    generator: $("generator"),
    nSamples: $("n-samples"),
    noise: $("noise"),
    dataSeed: $("data-seed"),
    points: $("points"),
    hiddenLayers: $("hidden-layers"),
    activation: $("activation"),
    epochs: $("epochs"),
    learningRate: $("learning-rate"),
    optimizer: $("optimizer"),
    batchSize: $("batch-size"),
    seed: $("seed"),
    validationFraction: $("validation-fraction"),
    name: $("name"),
    apiKey: $("api-key"),
    startButton: $("start-button"),
    cancelButton: $("cancel-button"),
    errors: $("errors"),
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

  /* ---- talking to the API ---- */

  class ApiError extends Error {
    constructor(status, problem) {
      super(problem.detail || problem.title || `HTTP ${status}`);
      this.status = status;
      this.problem = problem;
    }
  }

  /** Whether an error says the route itself is missing (an older server), not an unknown id. */
  const isMissingRoute = (error) =>
    error instanceof ApiError && error.status === 404 && /no route/.test(error.problem.detail || "");

  function authHeaders() {
    const key = el.apiKey.value.trim();
    return key ? { "X-API-Key": key } : {};
  }

  async function api(method, path, body) {
    const headers = { Accept: "application/json, application/problem+json", ...authHeaders() };
    const init = { method, headers };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(path, init);
    } catch (error) {
      throw new ApiError(0, { title: "The server cannot be reached", detail: String(error.message || error) });
    }
    const text = await response.text();
    let data = null;
    try {
      data = text ? JSON.parse(text) : null;
    } catch {
      data = null;
    }
    if (!response.ok) {
      const problem = data && typeof data === "object"
        ? data
        : { title: `HTTP ${response.status}`, detail: text.slice(0, 300) };
      throw new ApiError(response.status, problem);
    }
    return data;
  }

  /* ---- errors, shown plainly ---- */

  function clearErrors() {
    el.errors.hidden = true;
    el.errors.replaceChildren();
    for (const input of document.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
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

  function showProblem(problem) {
    const heading = document.createElement("h3");
    heading.textContent = problem.title || "Something went wrong";
    el.errors.replaceChildren(heading);
    if (problem.detail) {
      const detail = document.createElement("p");
      detail.textContent = problem.detail;
      el.errors.append(detail);
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
      el.errors.append(list);
    }
    el.errors.hidden = false;
  }

  function showError(error, title) {
    if (error instanceof ApiError) showProblem(error.problem);
    else showProblem({ title: title || "Something went wrong", detail: String(error.message || error) });
  }

  /* ---- reading the form ---- */

  class FormError extends Error {
    constructor(errors) {
      super("the form has invalid values");
      this.errors = errors;
    }
  }

  function readNumber(input, field, errors, { integer = false, optional = false } = {}) {
    const raw = input.value.trim();
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
    const parts = el.hiddenLayers.value.split(/[\s,;]+/).filter(Boolean);
    const units = parts.map(Number);
    if (units.some((value) => !Number.isInteger(value))) {
      errors.push({ field: "hidden_layers", message: "write whole numbers of units, e.g. 8, 8" });
    }
    return units;
  }

  function readPoints(errors) {
    const points = [];
    const labels = [];
    el.points.value.split(/\r?\n/).forEach((line, index) => {
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

  /** The training body (POST /jobs) from the form; throws FormError naming bad fields. */
  function readForm() {
    const errors = [];
    const source = el.form.querySelector('input[name="source"]:checked').value;
    const data = source === "points"
      ? readPoints(errors)
      : {
        generator: el.generator.value,
        n_samples: readNumber(el.nSamples, "data.n_samples", errors, { integer: true }),
        noise: readNumber(el.noise, "data.noise", errors),
        seed: readNumber(el.dataSeed, "data.seed", errors, { integer: true, optional: true }),
      };
    const body = {
      data,
      hidden_layers: readHiddenLayers(errors),
      activation: el.activation.value,
      epochs: readNumber(el.epochs, "epochs", errors, { integer: true }),
      learning_rate: readNumber(el.learningRate, "learning_rate", errors),
      optimizer: el.optimizer.value,
      batch_size: readNumber(el.batchSize, "batch_size", errors, { integer: true, optional: true }),
      seed: readNumber(el.seed, "seed", errors, { integer: true, optional: true }),
      validation_fraction: readNumber(el.validationFraction, "validation_fraction", errors, { optional: true }) ?? 0,
    };
    const name = el.name.value.trim();
    if (name) body.name = name;
    if (errors.length) throw new FormError(errors);
    return body;
  }

  function showSource() {
    const source = el.form.querySelector('input[name="source"]:checked').value;
    el.generatorFields.hidden = source !== "generator";
    el.pointsFields.hidden = source !== "points";
  }

  /* ---- plots ---- */

  const plotlyReady = () => typeof window.Plotly === "object" && window.Plotly !== null;

  function plotNote(container, text) {
    const note = document.createElement("p");
    note.className = "plot-note";
    note.textContent = text;
    container.replaceChildren(note);
  }

  /** A curve thinned to at most MAX_PLOTTED_POINTS points; x is the epoch index, as in the API. */
  function curveTrace(name, values, color) {
    const stride = Math.max(1, Math.ceil(values.length / MAX_PLOTTED_POINTS));
    const x = [];
    const y = [];
    for (let index = 0; index < values.length; index += stride) {
      x.push(index);
      y.push(values[index]);
    }
    if (values.length && (values.length - 1) % stride) {
      x.push(values.length - 1);
      y.push(values[values.length - 1]);
    }
    return {
      type: "scatter",
      mode: "lines",
      name,
      x,
      y,
      line: { color, width: 2 },
      hovertemplate: "epoch %{x}<br>loss %{y:.4f}<extra></extra>",
    };
  }

  function drawLoss() {
    state.redrawTimer = null;
    if (!plotlyReady()) return;
    const traces = [curveTrace("Training loss", state.losses, COLORS.loss)];
    if (state.validationLosses.length) traces.push(curveTrace("Validation loss", state.validationLosses, COLORS.validation));
    const layout = {
      title: { text: "Training loss over epochs" },
      xaxis: { title: { text: "Epoch" } },
      yaxis: { title: { text: "Binary cross-entropy loss" }, rangemode: "tozero" },
      margin: PLOT_MARGIN,
      showlegend: traces.length > 1,
      autosize: true,
    };
    window.Plotly.react(el.lossPlot, traces, layout, PLOT_CONFIG);
  }

  function scheduleLossRedraw() {
    if (state.redrawTimer === null) state.redrawTimer = setTimeout(drawLoss, REDRAW_MS);
  }

  /** A figure from the API, sized by the page instead of its fixed width and height. */
  function fitted(figure, extra = {}) {
    const layout = { ...figure.layout, autosize: true, margin: PLOT_MARGIN, ...extra };
    delete layout.width;
    delete layout.height;
    return layout;
  }

  function predictionTrace() {
    const point = state.predicted;
    return {
      type: "scatter",
      mode: "markers",
      name: "Your point",
      x: point ? [point.x] : [],
      y: point ? [point.y] : [],
      marker: {
        symbol: "star",
        size: 18,
        color: point && point.label === 1 ? COLORS.class1 : COLORS.class0,
        line: { color: "#212529", width: 2 },
      },
      hovertemplate: "your point (%{x:.3f}, %{y:.3f})<extra></extra>",
    };
  }

  async function drawBoundary() {
    if (!state.boundary || !plotlyReady()) return;
    const layout = fitted(state.boundary, { hovermode: "closest", clickmode: "event" });
    if (!el.boundaryPlot.classList.contains("js-plotly-plot")) el.boundaryPlot.replaceChildren();
    await window.Plotly.react(el.boundaryPlot, [...state.boundary.data, predictionTrace()], layout, PLOT_CONFIG);
    if (!state.clickBound) {
      el.boundaryPlot.on("plotly_click", onBoundaryClick);
      state.clickBound = true;
    }
  }

  async function loadBoundary() {
    if (!state.modelId) return;
    const modelId = state.modelId;
    try {
      const mode = encodeURIComponent(el.boundaryMode.value);
      const figure = await api("GET", `/models/${encodeURIComponent(modelId)}/figures/boundary?mode=${mode}`);
      if (modelId !== state.modelId) return;
      state.boundary = figure;
      if (!plotlyReady()) {
        plotNote(el.boundaryPlot, "The plots need plotly.js, which did not load.");
        return;
      }
      await drawBoundary();
    } catch (error) {
      if (isMissingRoute(error)) plotNote(el.boundaryPlot, "This server does not draw decision boundaries yet.");
      else showError(error);
    }
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

  /** Append the loss values of an event at their offset, skipping any already held. */
  function appendLosses(target, offset, values) {
    if (!Array.isArray(values) || offset > target.length) return;
    for (let index = target.length - offset; index < values.length; index += 1) target.push(values[index]);
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
      stopWatching();
      setRunning(false);
      el.progress.value = 1;
      if (state.losses.length) drawLoss();
      setStatus(`Done: ${data.epoch} epochs, final loss ${formatLoss(data.loss)}.`, "succeeded");
      openModel(data.model_id, { withLoss: false });
      refreshModels();
    },
    failed(data) {
      stopWatching();
      setRunning(false);
      if (state.losses.length) drawLoss();
      setStatus(`Failed at epoch ${data.epoch}.`, "failed");
      showProblem({ title: "Training failed", detail: data.error });
    },
    cancelled(data) {
      stopWatching();
      setRunning(false);
      if (state.losses.length) drawLoss();
      setStatus(`Cancelled at epoch ${data.epoch}.`, "cancelled");
    },
  };

  function dispatch(name, text) {
    const handle = handlers[name];
    if (handle) handle(JSON.parse(text));
  }

  /** Watch with EventSource (which resumes by itself with Last-Event-ID). */
  function watchWithEventSource(url, onUnavailable) {
    const source = new EventSource(url);
    let opened = false;
    source.onopen = () => {
      opened = true;
    };
    for (const name of Object.keys(handlers)) {
      source.addEventListener(name, (event) => dispatch(name, event.data));
    }
    source.onerror = () => {
      if (!opened && source.readyState === EventSource.CLOSED) onUnavailable();
    };
    return { close: () => source.close() };
  }

  /** Watch with fetch, which can send the API key; resumes with Last-Event-ID like EventSource. */
  function watchWithFetch(url, onUnavailable) {
    const controller = new AbortController();
    let lastEventId = null;
    const pause = () => new Promise((resolve) => setTimeout(resolve, RECONNECT_MS));
    const read = async (response) => {
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = "";
      let fields = {};
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buffer += value;
        const lines = buffer.split("\n");
        buffer = lines.pop();
        for (const rawLine of lines) {
          const line = rawLine.replace(/\r$/, "");
          if (line === "") {
            if (fields.id !== undefined) lastEventId = fields.id;
            if (fields.data !== undefined) dispatch(fields.event || "message", fields.data);
            fields = {};
          } else if (!line.startsWith(":")) {
            const colon = line.indexOf(":");
            const key = colon < 0 ? line : line.slice(0, colon);
            fields[key] = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
          }
        }
      }
    };
    (async () => {
      while (!controller.signal.aborted) {
        const headers = { Accept: "text/event-stream", ...authHeaders() };
        if (lastEventId !== null) headers["Last-Event-ID"] = lastEventId;
        try {
          const response = await fetch(url, { headers, signal: controller.signal });
          if (!response.ok || !(response.headers.get("content-type") || "").startsWith("text/event-stream")) {
            onUnavailable();
            return;
          }
          await read(response);
        } catch {
          if (controller.signal.aborted) return;
        }
        await pause();
      }
    })();
    return { close: () => controller.abort() };
  }

  /** Without the event stream (an older server), poll the job and its loss figure instead. */
  function watchByPolling(jobId) {
    let stopped = false;
    let timer = null;
    const path = `/jobs/${encodeURIComponent(jobId)}`;
    const tick = async () => {
      try {
        const job = await api("GET", path);
        if (stopped) return;
        const progress = { status: job.status, ...job.progress };
        try {
          const figure = await api("GET", `${path}/figures/loss`);
          if (plotlyReady()) window.Plotly.react(el.lossPlot, figure.data, fitted(figure), PLOT_CONFIG);
        } catch {
          /* the curve is optional here */
        }
        if (job.status === "succeeded") handlers.succeeded({ ...progress, model_id: job.model_id });
        else if (job.status === "failed") handlers.failed({ ...progress, error: job.error });
        else if (job.status === "cancelled") handlers.cancelled(progress);
        else {
          showProgress(progress);
          timer = setTimeout(tick, POLL_MS);
        }
      } catch (error) {
        if (stopped) return;
        setRunning(false);
        showError(error);
      }
    };
    tick();
    return { close: () => { stopped = true; clearTimeout(timer); } };
  }

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
    const fallback = () => {
      stopWatching();
      state.watch = watchByPolling(job.id);
    };
    const hasKey = Object.keys(authHeaders()).length > 0;
    state.watch = hasKey ? watchWithFetch(url, fallback) : watchWithEventSource(url, fallback);
  }

  async function startTraining(event) {
    event.preventDefault();
    clearErrors();
    let body;
    try {
      body = readForm();
    } catch (error) {
      if (error instanceof FormError) showProblem({ title: "Please check the form", errors: error.errors });
      else showError(error);
      return;
    }
    el.startButton.disabled = true;
    try {
      const job = await api("POST", "/jobs", body);
      watchJob(job);
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

  /* ---- models: open, predict, list ---- */

  function describeModel(model) {
    const config = model.config || {};
    const data = config.data || {};
    const source = data.generator ? `${data.generator}, ${data.n_samples} points` : `${data.n_points ?? "?"} given points`;
    const layers = Array.isArray(config.hidden_layers) ? `[${config.hidden_layers.join(", ")}]` : "?";
    const metrics = model.metrics || {};
    const accuracy = typeof metrics.train_accuracy === "number" ? `${(metrics.train_accuracy * 100).toFixed(1)} % training accuracy` : "";
    return [source, `${layers} ${config.activation || ""}`.trim(), accuracy, `${metrics.epochs_run ?? "?"} epochs`]
      .filter(Boolean)
      .join(" · ");
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
    const jobs = [loadBoundary()];
    jobs.push(api("GET", `/models/${encodeURIComponent(modelId)}`).then(
      (model) => {
        const title = model.name ? `“${model.name}”` : `Model ${model.id.slice(0, 8)}`;
        el.modelSummary.textContent = `${title}: ${describeModel(model)}.`;
      },
      (error) => {
        if (isMissingRoute(error)) el.modelSummary.textContent = `Model ${modelId.slice(0, 8)}.`;
        else showError(error);
      },
    ));
    if (withLoss) {
      jobs.push(api("GET", `/models/${encodeURIComponent(modelId)}/figures/loss?max_points=${MAX_PLOTTED_POINTS}`).then(
        (figure) => {
          if (!plotlyReady()) return;
          window.Plotly.react(el.lossPlot, figure.data, fitted(figure), PLOT_CONFIG);
        },
        (error) => {
          if (!isMissingRoute(error)) showError(error);
        },
      ));
    }
    await Promise.all(jobs);
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
    const x = Number(el.predictX.value);
    const y = Number(el.predictY.value);
    if (el.predictX.value.trim() === "" || el.predictY.value.trim() === "" || !Number.isFinite(x) || !Number.isFinite(y)) {
      showProblem({ title: "Please check the point", detail: "x and y must be numbers." });
      return;
    }
    predict(x, y);
  }

  async function refreshModels() {
    try {
      const page = await api("GET", "/models?limit=20");
      const items = page.items || [];
      el.modelsNote.textContent = items.length
        ? `${page.total} model${page.total === 1 ? "" : "s"}, newest first.`
        : "No models yet: train one.";
      el.modelList.replaceChildren(...items.map((model) => {
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
      }));
      markCurrentModel();
    } catch (error) {
      el.modelsNote.textContent = isMissingRoute(error)
        ? "This server does not list models yet."
        : `The models could not be listed: ${error.message}`;
    }
  }

  /* ---- start-up ---- */

  async function resumeFromAddress() {
    const match = /^#(job|model)=([0-9a-f]{1,64})$/.exec(location.hash);
    if (!match) return;
    const [, kind, id] = match;
    if (kind === "model") {
      openModel(id, { withLoss: true });
      return;
    }
    try {
      watchJob(await api("GET", `/jobs/${id}`));
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
    plotNote(el.lossPlot, "The plots need plotly.js, which did not load.");
    plotNote(el.boundaryPlot, "The plots need plotly.js, which did not load.");
  }
  refreshModels();
  resumeFromAddress();
})();

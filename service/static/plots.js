/* Drawing with plotly.js: the live loss curve, the API's figures sized to the page, and notes. */

import { COLORS } from "./palette.js";

export { COLORS };
export const MAX_PLOTTED_POINTS = 10000;

const PLOT_CONFIG = {
  responsive: true,
  displaylogo: false,
  modeBarButtonsToRemove: ["lasso2d", "select2d"],
};
const PLOT_MARGIN = { l: 60, r: 20, t: 50, b: 50 };

export const plotlyReady = () => typeof window.Plotly === "object" && window.Plotly !== null;

/** Replace a plot by a line of text (no model yet, or plotly.js missing). */
export function plotNote(container, text) {
  if (plotlyReady() && container.classList.contains("js-plotly-plot")) window.Plotly.purge(container);
  const note = document.createElement("p");
  note.className = "plot-note";
  note.textContent = text;
  container.replaceChildren(note);
}

/** Draw (or update) a plot; a note standing in the container is removed first. */
export function draw(container, data, layout) {
  if (!plotlyReady()) return Promise.resolve();
  if (!container.classList.contains("js-plotly-plot")) container.replaceChildren();
  return window.Plotly.react(container, data, layout, PLOT_CONFIG);
}

/** A figure's layout from the API, sized by the page instead of its fixed width and height. */
export function fitted(figure, extra = {}) {
  const layout = { ...figure.layout, autosize: true, margin: PLOT_MARGIN, ...extra };
  delete layout.width;
  delete layout.height;
  return layout;
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

/** The loss per epoch so far (and the validation loss, when the job keeps a split). */
export function drawLossCurve(container, losses, validationLosses) {
  const traces = [curveTrace("Training loss", losses, COLORS.loss)];
  if (validationLosses.length) traces.push(curveTrace("Validation loss", validationLosses, COLORS.validation));
  return draw(container, traces, {
    title: { text: "Training loss over epochs" },
    xaxis: { title: { text: "Epoch" } },
    yaxis: { title: { text: "Binary cross-entropy loss" }, rangemode: "tozero" },
    margin: PLOT_MARGIN,
    showlegend: traces.length > 1,
    autosize: true,
  });
}

/** The point last predicted, as a star in the colour of its class. */
export function predictionTrace(point) {
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

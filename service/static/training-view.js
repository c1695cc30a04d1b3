/* The figures of training: the boundary redrawn while a job trains (on its snapshot events),
   and a model's replay and neuron maps. */

import { api } from "./api.js";
import { draw, fitted, plotNote, plotlyReady } from "./plots.js";

const LIVE_RESOLUTION = 60;
const PLOT_CONFIG = { responsive: true, displaylogo: false };

/**
 * Over the page's elements: `snapshot(jobId, data)` redraws the live boundary from a job's
 * snapshot event, `stopLive()` ignores any later one, `showModel(modelId)` readies the replay
 * and draws the neuron maps of a model.
 */
export function createTrainingView(el) {
  const live = { generation: 0, busy: false, pending: null };
  let modelId = null;

  /** Draw the newest snapshot; while a figure is on its way, only the latest event waits. */
  async function drawLive(generation, jobId, epoch) {
    if (live.busy) {
      live.pending = { jobId, epoch };
      return;
    }
    live.busy = true;
    try {
      const mode = encodeURIComponent(el.boundaryMode.value);
      const path = `/jobs/${encodeURIComponent(jobId)}/figures/boundary?mode=${mode}&resolution=${LIVE_RESOLUTION}`;
      const figure = await api("GET", path);
      if (generation === live.generation && plotlyReady()) {
        await draw(el.boundaryPlot, figure.data, fitted(figure, { hovermode: "closest" }));
        Object.assign(el.boundaryPlot.dataset, { source: "job", epoch: String(figure.layout.meta.epoch) });
        el.modelSummary.textContent = `Live: the boundary at epoch ${figure.layout.meta.epoch}.`;
      }
    } catch {
      /* a missed frame is redrawn by the next snapshot */
    } finally {
      live.busy = false;
    }
    const next = live.pending;
    live.pending = null;
    if (next && generation === live.generation) drawLive(generation, next.jobId, next.epoch);
  }

  function snapshot(jobId, data) {
    if (typeof data.epoch === "number") drawLive(live.generation, jobId, data.epoch);
  }

  function stopLive() {
    live.generation += 1;
    live.pending = null;
  }

  async function loadReplay() {
    if (!modelId || !plotlyReady()) return;
    const shown = modelId;
    el.replayButton.disabled = true;
    plotNote(el.replayPlot, "Loading the replay…");
    try {
      const figure = await api("GET", `/models/${encodeURIComponent(shown)}/figures/training`);
      if (shown !== modelId) return;
      el.replayPlot.replaceChildren();
      await window.Plotly.react(el.replayPlot, { ...figure, config: PLOT_CONFIG });
      el.replayPlot.dataset.model = shown;
    } catch (error) {
      if (shown === modelId) plotNote(el.replayPlot, error.message || String(error));
    } finally {
      el.replayButton.disabled = false;
    }
  }

  async function loadNeurons(shown) {
    try {
      const figure = await api("GET", `/models/${encodeURIComponent(shown)}/figures/neurons`);
      if (shown !== modelId || !plotlyReady()) return;
      el.neuronPlot.replaceChildren();
      await window.Plotly.react(el.neuronPlot, figure.data, figure.layout, PLOT_CONFIG);
      el.neuronPlot.dataset.model = shown;
    } catch (error) {
      if (shown === modelId) plotNote(el.neuronPlot, error.message || String(error));
    }
  }

  function showModel(id) {
    stopLive();
    modelId = id;
    el.replayButton.disabled = false;
    delete el.replayPlot.dataset.model;
    plotNote(el.replayPlot, "Press “Load replay” to watch this model learn.");
    loadNeurons(id);
  }

  el.replayButton.addEventListener("click", loadReplay);
  plotNote(el.replayPlot, "The replay of a model's training appears here once a model is shown.");
  plotNote(el.neuronPlot, "Each neuron's map appears here once a model is shown.");
  return { snapshot, stopLive, showModel };
}

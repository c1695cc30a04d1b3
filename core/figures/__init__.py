"""Plotly figure JSON (plain dicts): data, learning curves, boundaries, replays, neuron maps.

Each figure uses the palette of :mod:`core.figures.style`, has a title and axis labels, and
holds only plain JSON values, so ``json.dumps`` and ``plotly.graph_objects.Figure`` take it.
"""

from core.figures.boundary import BOUNDARY_MODES, BoundaryMode, Figure, boundary_figure
from core.figures.evaluation import confusion_figure, roc_figure
from core.figures.grid import MAX_RESOLUTION, MIN_RESOLUTION, PlaneGrid, PredictProba, plane_grid
from core.figures.level_set import LEVEL_TOLERANCE, level_curves
from core.figures.loss import METRICS, Metric, loss_figure
from core.figures.neurons import NEURON_RESOLUTION, LayerActivations, neuron_figure
from core.figures.points import data_figure
from core.figures.replay import REPLAY_RESOLUTION, ReplaySnapshot, replay_figure

__all__ = [
    "BOUNDARY_MODES",
    "LEVEL_TOLERANCE",
    "MAX_RESOLUTION",
    "METRICS",
    "MIN_RESOLUTION",
    "NEURON_RESOLUTION",
    "REPLAY_RESOLUTION",
    "BoundaryMode",
    "Figure",
    "LayerActivations",
    "Metric",
    "PlaneGrid",
    "PredictProba",
    "ReplaySnapshot",
    "boundary_figure",
    "confusion_figure",
    "data_figure",
    "level_curves",
    "loss_figure",
    "neuron_figure",
    "plane_grid",
    "replay_figure",
    "roc_figure",
]

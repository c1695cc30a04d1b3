"""The training replay: one animated figure, the boundary and the loss so far at each snapshot."""

import itertools
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import ArrayLike

from core.arrays import FloatArray
from core.dataset import Dataset
from core.errors import DataError
from core.figures.boundary import Figure, boundary_curve_trace
from core.figures.grid import PlaneGrid, PredictProba, grid_probabilities, plane_grid
from core.figures.level_set import level_curves
from core.figures.loss import loss_history_array
from core.figures.points import plane_points, point_traces
from core.figures.style import (
    REGION_COLORSCALE,
    REGION_OPACITY,
    TRAINING_LOSS_COLOR,
    VALIDATION_LOSS_COLOR,
    axes_layout,
    round_axis,
    round_to_span,
)
from core.network import DEFAULT_THRESHOLD
from core.thinning import thin_indices

REPLAY_RESOLUTION = 40
"""Grid points per axis of each frame's regions: 200 frames stay well under 2 MB."""
REPLAY_LOSS_POINTS = 200
"""The loss curve is thinned to about this many points before it is cut at each frame."""
FRAME_MILLISECONDS = 120
REPLAY_TITLE = "Training replay"


class ReplaySnapshot(NamedTuple):
    """The model after ``epoch`` updates, as its class-1 probabilities of points (m, 2)."""

    epoch: int
    predict_proba: PredictProba


def replay_figure(
    snapshots: Sequence[ReplaySnapshot | tuple[int, PredictProba]],
    loss_history: ArrayLike,
    dataset: Dataset,
    *,
    validation: Dataset | None = None,
    validation_loss_history: ArrayLike | None = None,
    resolution: int = REPLAY_RESOLUTION,
) -> Figure:
    """One Plotly figure with a frame per snapshot: its regions and exact boundary (left)
    and the loss curve up to its epoch (right), with a slider and play/pause buttons.

    ``snapshots`` come in strictly increasing epochs; epoch ``e`` means the parameters after
    ``e`` updates, whose loss is ``loss_history[e]`` (shape (epochs,)), so frame ``e`` shows
    the losses of epochs 0 to ``e``. The grid spans the points of ``dataset`` (and
    ``validation``, drawn hollow), as in :func:`boundary_figure`; the first frame's traces are
    the figure's own, so the figure shows the first snapshot before it plays. Frames replace
    only the traces that change (``frames[i].traces``): the points are sent once.
    """
    checked = _checked_snapshots(snapshots)
    grid = plane_grid(plane_points(dataset, validation), resolution)
    training = loss_history_array(loss_history, "loss_history")
    loss_curves = [_LossCurve("Training loss", training, TRAINING_LOSS_COLOR)]
    if validation_loss_history is not None:
        validation_losses = loss_history_array(validation_loss_history, "validation_loss_history")
        loss_curves.append(_LossCurve("Validation loss", validation_losses, VALIDATION_LOSS_COLOR))

    points = point_traces(dataset, validation)
    first_loss_trace = 2 + len(points)
    changing = [0, 1, *range(first_loss_trace, first_loss_trace + len(loss_curves))]
    frames: list[dict[str, Any]] = []
    for epoch, predict_proba in checked:
        changes = [
            *_boundary_changes(predict_proba, grid),
            *(curve.so_far(epoch) for curve in loss_curves),
        ]
        frames.append(
            {
                "name": str(epoch),
                "data": changes,
                "traces": changing,
                "layout": {"title": {"text": _title(epoch)}},
            }
        )
    regions, curve, *losses_so_far = frames[0]["data"]
    styled = [
        regions | _regions_style(grid),
        boundary_curve_trace([]) | curve,
        *(style.style() | trace for style, trace in zip(loss_curves, losses_so_far, strict=True)),
    ]
    return {
        "data": [*styled[:2], *points, *styled[2:]],
        "layout": _layout(grid, checked, loss_curves),
        "frames": frames,
    }


def _checked_snapshots(
    snapshots: Sequence[ReplaySnapshot | tuple[int, PredictProba]],
) -> list[ReplaySnapshot]:
    """``snapshots`` as :class:`ReplaySnapshot`, refused unless epochs strictly increase."""
    if len(snapshots) == 0:
        raise DataError("snapshots: a replay needs at least one snapshot")
    checked = [ReplaySnapshot(int(epoch), predict_proba) for epoch, predict_proba in snapshots]
    epochs = [snapshot.epoch for snapshot in checked]
    if epochs[0] < 0 or any(later <= earlier for earlier, later in itertools.pairwise(epochs)):
        raise DataError(
            f"snapshots: epochs must be at least 0 and strictly increasing, got {epochs}"
        )
    return checked


def _boundary_changes(predict_proba: PredictProba, grid: PlaneGrid) -> list[dict[str, Any]]:
    """What changes from snapshot to snapshot: the regions (ny, nx) and the exact boundary
    (rounded like the points); the rest of both traces is set once, in the figure's data."""
    probabilities = grid_probabilities(predict_proba, grid)
    spans = (float(grid.xs[-1] - grid.xs[0]), float(grid.ys[-1] - grid.ys[0]))
    curves = [
        np.column_stack(
            [round_to_span(curve[:, 0], spans[0]), round_to_span(curve[:, 1], spans[1])]
        )
        for curve in level_curves(predict_proba, grid, probabilities)
    ]
    line = boundary_curve_trace(curves)
    return [
        {"type": "heatmap", "z": (probabilities > DEFAULT_THRESHOLD).astype(np.int64).tolist()},
        {"type": "scatter", "x": line["x"], "y": line["y"]},
    ]


def _regions_style(grid: PlaneGrid) -> dict[str, Any]:
    """The regions heat map's grid and colours, which no frame changes."""
    return {
        "x": round_axis(grid.xs).tolist(),
        "y": round_axis(grid.ys).tolist(),
        "zmin": 0,
        "zmax": 1,
        "colorscale": REGION_COLORSCALE,
        "opacity": REGION_OPACITY,
        "showscale": False,
        "hoverinfo": "skip",
        "name": "Decision regions",
    }


class _LossCurve:
    """One loss history (epochs,), thinned once, cut at each frame's epoch."""

    def __init__(self, name: str, values: FloatArray, color: str) -> None:
        self.name = name
        self.color = color
        self.values = round_to_span(values, float(values.max()) if values.size else None)
        self.kept = thin_indices(values, REPLAY_LOSS_POINTS)

    def so_far(self, epoch: int) -> dict[str, Any]:
        """The loss of epochs 0 to ``epoch`` (the last recorded one, past the history's end)."""
        epochs = self.kept[self.kept <= epoch]
        last = min(epoch, self.values.shape[0] - 1)
        if last >= 0 and (epochs.size == 0 or epochs[-1] != last):
            epochs = np.append(epochs, last)
        return {"type": "scatter", "x": epochs.tolist(), "y": self.values[epochs].tolist()}

    def style(self) -> dict[str, Any]:
        """The curve's name, colour and axes, which no frame changes."""
        return {
            "mode": "lines",
            "name": self.name,
            "line": {"color": self.color},
            "xaxis": "x2",
            "yaxis": "y2",
        }


def _title(epoch: int) -> str:
    return f"{REPLAY_TITLE}: epoch {epoch}"


def _layout(
    grid: PlaneGrid, snapshots: list[ReplaySnapshot], loss_curves: list[_LossCurve]
) -> dict[str, Any]:
    """Two panels side by side (the plane, the loss), fixed ranges, the slider and buttons."""
    plane = axes_layout(_title(snapshots[0].epoch))
    plane["xaxis"] |= {"domain": [0.0, 0.55], "range": [float(grid.xs[0]), float(grid.xs[-1])]}
    plane["yaxis"] |= {"domain": [0.0, 1.0], "range": [float(grid.ys[0]), float(grid.ys[-1])]}
    highest = max(
        (float(curve.values.max()) for curve in loss_curves if curve.values.size), default=0.0
    )
    last_epoch = max(snapshots[-1].epoch, *(curve.values.shape[0] - 1 for curve in loss_curves))
    return {
        **plane,
        "xaxis2": {
            "title": {"text": "Epoch"},
            "domain": [0.65, 1.0],
            "anchor": "y2",
            "range": [0, max(last_epoch, 1)],
        },
        "yaxis2": {
            "title": {"text": "Binary cross-entropy loss"},
            "anchor": "x2",
            "range": [0.0, highest * 1.1 if highest > 0 else 1.0],
        },
        "width": 1000,
        "height": 520,
        "margin": {"t": 110, "b": 150},
        "showlegend": True,
        "legend": {"orientation": "h", "x": 0.0, "y": 1.02, "yanchor": "bottom"},
        "sliders": [_slider(snapshots)],
        "updatemenus": [_play_buttons()],
    }


def _animate(frame_names: list[str] | list[None] | None, duration: int, redraw: bool) -> list[Any]:
    """The arguments of Plotly's ``animate`` method for ``frame_names`` (None: all, onwards)."""
    return [
        frame_names,
        {
            "mode": "immediate",
            "fromcurrent": True,
            "frame": {"duration": duration, "redraw": redraw},
            "transition": {"duration": 0},
        },
    ]


def _slider(snapshots: list[ReplaySnapshot]) -> dict[str, Any]:
    """One step per snapshot, labelled by its epoch."""
    return {
        "active": 0,
        "currentvalue": {"prefix": "Epoch "},
        "x": 0.15,
        "len": 0.85,
        "y": -0.18,
        "yanchor": "top",
        "steps": [
            {
                "label": str(snapshot.epoch),
                "method": "animate",
                "args": _animate([str(snapshot.epoch)], 0, redraw=True),
            }
            for snapshot in snapshots
        ],
    }


def _play_buttons() -> dict[str, Any]:
    """Play (from the current frame on) and pause."""
    return {
        "type": "buttons",
        "direction": "left",
        "showactive": False,
        "x": 0.0,
        "xanchor": "left",
        "y": -0.18,
        "yanchor": "top",
        "pad": {"t": 35},
        "buttons": [
            {
                "label": "Play",
                "method": "animate",
                "args": _animate(None, FRAME_MILLISECONDS, redraw=True),
            },
            {"label": "Pause", "method": "animate", "args": _animate([None], 0, redraw=False)},
        ],
    }

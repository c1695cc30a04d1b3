"""The learning-curve figure: loss (or accuracy) per epoch, training and validation."""

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike

from core.arrays import FloatArray
from core.errors import ConfigError, DataError
from core.figures.style import TRAINING_LOSS_COLOR, VALIDATION_LOSS_COLOR
from core.thinning import thin_indices

Metric = Literal["loss", "accuracy"]


@dataclass(frozen=True)
class _MetricStyle:
    """How one metric's curves are named and scaled."""

    noun: str
    axis_title: str
    log_toggle: bool


_METRICS: dict[str, _MetricStyle] = {
    "loss": _MetricStyle("loss", "Binary cross-entropy loss", log_toggle=True),
    "accuracy": _MetricStyle("accuracy", "Accuracy", log_toggle=False),
}
METRICS: tuple[Metric, ...] = ("loss", "accuracy")


def loss_figure(
    loss_history: ArrayLike | None,
    validation_loss_history: ArrayLike | None = None,
    max_points: int = 1000,
    *,
    metric: Metric = "loss",
) -> dict[str, Any]:
    """The training curve per epoch (shape (epochs,)), and the validation curve when given.

    ``metric`` says what the histories hold: ``"loss"`` (the default) or ``"accuracy"``
    (fractions in [0, 1]). Each curve is thinned to at most ``max_points`` points by
    :func:`thin_indices`; the x values are the epoch indices of the points kept, so thinning
    never shifts the curve. The y axis starts at 0 and ends 10 % above the highest value, as
    in the tutorial; a loss figure also has buttons switching its y axis to a log scale.
    ``loss_history`` may be None when only the validation curve was recorded.
    """
    if metric not in _METRICS:
        raise ConfigError(f"metric: unknown metric {metric!r}; known metrics: loss, accuracy")
    style = _METRICS[metric]
    curves = []
    if loss_history is not None:
        training = loss_history_array(loss_history, f"{metric}_history")
        curves.append((f"Training {style.noun}", training, TRAINING_LOSS_COLOR))
    if validation_loss_history is not None:
        validation = loss_history_array(validation_loss_history, f"validation_{metric}_history")
        curves.append((f"Validation {style.noun}", validation, VALIDATION_LOSS_COLOR))
    traces = []
    for name, values, color in curves:
        kept = thin_indices(values, max_points)
        traces.append(
            {
                "type": "scatter",
                "mode": "lines",
                "x": kept.tolist(),
                "y": values[kept].tolist(),
                "name": name,
                "line": {"color": color},
            }
        )
    highest = max((float(values.max()) for _, values, _ in curves if values.size), default=0.0)
    linear_range = [0.0, highest * 1.1 if highest > 0 else 1.0]
    layout: dict[str, Any] = {
        "title": {"text": f"Training {style.noun} over epochs"},
        "xaxis": {"title": {"text": "Epoch"}},
        "yaxis": {"title": {"text": style.axis_title}, "range": linear_range},
        "width": 600,
        "height": 400,
        "showlegend": len(curves) > 1,
    }
    if style.log_toggle:
        layout["updatemenus"] = [_scale_buttons(linear_range)]
    return {"data": traces, "layout": layout}


def _scale_buttons(linear_range: list[float]) -> dict[str, Any]:
    """Buttons switching the y axis between the linear ``linear_range`` and a log scale."""
    return {
        "type": "buttons",
        "direction": "right",
        "showactive": True,
        "active": 0,
        "x": 1.02,
        "xanchor": "left",
        "y": 0.0,
        "yanchor": "bottom",
        "buttons": [
            {
                "label": "Linear",
                "method": "relayout",
                "args": [{"yaxis.type": "linear", "yaxis.range": linear_range}],
            },
            {
                "label": "Log",
                "method": "relayout",
                "args": [{"yaxis.type": "log", "yaxis.autorange": True}],
            },
        ],
    }


def loss_history_array(values: ArrayLike, name: str) -> FloatArray:
    """``values`` as a flat float64 array of finite numbers, shape (epochs,)."""
    try:
        history = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise DataError(f"{name}: not a sequence of numbers ({error})") from None
    if history.ndim != 1:
        raise DataError(f"{name}: expected a flat sequence of values, got shape {history.shape}")
    if not np.all(np.isfinite(history)):
        raise DataError(f"{name}: every value must be a finite number")
    return history

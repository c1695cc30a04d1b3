"""Figures of an evaluation: the ROC curve and the confusion matrix."""

from typing import Any

from core.evaluation import ROC_AUC_UNDEFINED, ConfusionMatrix, RocCurve
from core.figures.style import BACKGROUND_COLOR, BOUNDARY_LINE_COLOR, CLASS_COLORS

FIGURE_SIZE = 450


def roc_figure(curve: RocCurve | None, auc: float | None) -> dict[str, Any]:
    """The ROC curve (false- against true-positive rate) with the chance diagonal.

    ``curve`` is None when the labels hold one class: the figure then has only the diagonal
    and says in its title why there is no curve.
    """
    chance = {
        "type": "scatter",
        "mode": "lines",
        "x": [0.0, 1.0],
        "y": [0.0, 1.0],
        "name": "Chance",
        "line": {"color": BOUNDARY_LINE_COLOR, "dash": "dash"},
    }
    traces: list[dict[str, Any]] = [chance]
    if curve is not None:
        traces.insert(
            0,
            {
                "type": "scatter",
                "mode": "lines",
                "x": curve.false_positive_rate.tolist(),
                "y": curve.true_positive_rate.tolist(),
                "name": "ROC curve",
                "line": {"color": CLASS_COLORS[1], "shape": "linear"},
            },
        )
    title = ROC_AUC_UNDEFINED if auc is None else f"ROC curve (AUC = {auc:.3f})"
    return {
        "data": traces,
        "layout": {
            "title": {"text": title},
            "xaxis": {"title": {"text": "False positive rate"}, "range": [0.0, 1.0]},
            "yaxis": {"title": {"text": "True positive rate"}, "range": [0.0, 1.0]},
            "plot_bgcolor": BACKGROUND_COLOR,
            "width": FIGURE_SIZE,
            "height": FIGURE_SIZE,
        },
    }


def confusion_figure(matrix: ConfusionMatrix) -> dict[str, Any]:
    """The confusion matrix as a 2 x 2 heatmap: true class down, predicted class across."""
    counts = [[matrix.tn, matrix.fp], [matrix.fn, matrix.tp]]
    classes = ["Class 0", "Class 1"]
    return {
        "data": [
            {
                "type": "heatmap",
                "z": counts,
                "x": classes,
                "y": classes,
                "text": [[str(count) for count in row] for row in counts],
                "texttemplate": "%{text}",
                "colorscale": [[0, BACKGROUND_COLOR], [1, CLASS_COLORS[1]]],
                "showscale": False,
                "hovertemplate": "true %{y}, predicted %{x}: %{z}<extra></extra>",
            }
        ],
        "layout": {
            "title": {"text": "Confusion matrix"},
            "xaxis": {"title": {"text": "Predicted class"}},
            "yaxis": {"title": {"text": "True class"}, "autorange": "reversed"},
            "width": FIGURE_SIZE,
            "height": FIGURE_SIZE,
        },
    }

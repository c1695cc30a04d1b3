"""Schemas of evaluation: a model's metrics on labelled points, with optional figures."""

from typing import Any

from pydantic import Field

from service.domain.records import EvaluationSummary


class EvaluationOut(EvaluationSummary):
    """The metrics of a model on the points given; ``figures`` only with ``?figures=true``."""

    model_id: str = Field(description="the model that was measured")
    figures: dict[str, dict[str, Any]] | None = Field(
        default=None, description="Plotly figure JSON: `roc` and `confusion_matrix`"
    )

"""Evaluating a network on labelled points: core.evaluation's metrics as the API's record."""

import numpy as np

from core.dataset import Dataset
from core.evaluation import Evaluation, evaluate_probabilities
from core.network import DEFAULT_THRESHOLD, Network
from service.domain.records import ConfusionCounts, EvaluationSummary


def summary_of(evaluation: Evaluation) -> EvaluationSummary:
    """The record of a core evaluation."""
    matrix = evaluation.confusion_matrix
    return EvaluationSummary(
        threshold=evaluation.threshold,
        accuracy=evaluation.accuracy,
        log_loss=evaluation.log_loss,
        precision=evaluation.precision,
        recall=evaluation.recall,
        f1=evaluation.f1,
        roc_auc=evaluation.roc_auc,
        roc_auc_undefined_reason=evaluation.roc_auc_undefined_reason,
        confusion_matrix=ConfusionCounts(tn=matrix.tn, fp=matrix.fp, fn=matrix.fn, tp=matrix.tp),
        support=evaluation.support,
    )


def evaluate_network(
    network: Network, dataset: Dataset, threshold: float = DEFAULT_THRESHOLD
) -> EvaluationSummary:
    """Every metric of ``network`` on ``dataset`` at ``threshold``."""
    with np.errstate(over="ignore", invalid="ignore"):
        probabilities = network.predict_proba(dataset.points)
    return summary_of(evaluate_probabilities(dataset.labels, probabilities, threshold))

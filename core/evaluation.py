"""Binary classification metrics of class-1 probabilities against labels (NumPy only).

Each metric is the one ``sklearn.metrics`` computes for a binary problem with class 1 as the
positive class. Where sklearn warns and answers 0 (precision with no positive prediction,
recall with no positive label, F1 when both are 0), so do these. ROC-AUC is undefined when
the labels hold one class only: sklearn then warns and answers NaN; here it is None, with
the reason in :data:`ROC_AUC_UNDEFINED`.
"""

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from core.arrays import FloatArray
from core.errors import DataError
from core.network import DEFAULT_THRESHOLD

ROC_AUC_UNDEFINED = "ROC-AUC is undefined: the labels hold only one class"


@dataclass(frozen=True)
class ConfusionMatrix:
    """Counts of true negatives, false positives, false negatives and true positives."""

    tn: int
    fp: int
    fn: int
    tp: int


@dataclass(frozen=True)
class Evaluation:
    """How well class-1 probabilities at a threshold match the labels.

    ``support`` is the number of points of class 0 and of class 1, as sklearn's
    ``precision_recall_fscore_support`` gives it. ``roc_auc`` is None when undefined, and
    ``roc_auc_undefined_reason`` then says why.
    """

    threshold: float
    accuracy: float
    log_loss: float
    precision: float
    recall: float
    f1: float
    roc_auc: float | None
    roc_auc_undefined_reason: str | None
    confusion_matrix: ConfusionMatrix
    support: tuple[int, int]


@dataclass(frozen=True)
class RocCurve:
    """False- and true-positive rates (k,) at decreasing thresholds (k,), the first being inf."""

    false_positive_rate: FloatArray
    true_positive_rate: FloatArray
    thresholds: FloatArray


def evaluate_probabilities(
    labels: ArrayLike, probabilities: ArrayLike, threshold: float = DEFAULT_THRESHOLD
) -> Evaluation:
    """Every metric of ``probabilities`` (n,) of class 1 against ``labels`` (n,) in {0, 1}.

    A point is predicted class 1 when its probability exceeds ``threshold``. The log loss
    clips probabilities to [eps, 1 - eps] (float64's eps), as sklearn does, so a confident
    mistake costs a large but finite amount.
    """
    truth, scores = _checked(labels, probabilities)
    if not 0.0 < threshold < 1.0:
        raise DataError(f"threshold: must be between 0 and 1 (exclusive), got {threshold}")
    predicted = scores > threshold
    matrix = confusion_matrix(truth, predicted)
    n = truth.size
    precision = _ratio(matrix.tp, matrix.tp + matrix.fp)
    recall = _ratio(matrix.tp, matrix.tp + matrix.fn)
    auc = roc_auc(truth, scores)
    positives = int(truth.sum())
    return Evaluation(
        threshold=threshold,
        accuracy=(matrix.tp + matrix.tn) / n,
        log_loss=log_loss(truth, scores),
        precision=precision,
        recall=recall,
        f1=_ratio(2 * matrix.tp, 2 * matrix.tp + matrix.fp + matrix.fn),
        roc_auc=auc,
        roc_auc_undefined_reason=ROC_AUC_UNDEFINED if auc is None else None,
        confusion_matrix=matrix,
        support=(n - positives, positives),
    )


def confusion_matrix(truth: NDArray[np.bool_], predicted: NDArray[np.bool_]) -> ConfusionMatrix:
    """The four counts of predictions (n,) against the truth (n,), both booleans."""
    tp = int(np.count_nonzero(truth & predicted))
    fp = int(np.count_nonzero(~truth & predicted))
    fn = int(np.count_nonzero(truth & ~predicted))
    return ConfusionMatrix(tn=truth.size - tp - fp - fn, fp=fp, fn=fn, tp=tp)


def log_loss(truth: NDArray[np.bool_], scores: FloatArray) -> float:
    """Mean binary cross-entropy of probabilities (n,) clipped to [eps, 1 - eps]."""
    eps = np.finfo(np.float64).eps
    clipped = np.clip(scores, eps, 1.0 - eps)
    return float(-np.mean(np.where(truth, np.log(clipped), np.log1p(-clipped))))


def roc_auc(truth: NDArray[np.bool_], scores: FloatArray) -> float | None:
    """Area under the ROC curve (ties count half), or None when only one class is present.

    The Mann-Whitney statistic over average ranks: the probability that a random class-1
    point scores above a random class-0 point, which is the trapezoidal area sklearn computes.
    """
    positives = int(truth.sum())
    negatives = truth.size - positives
    if positives == 0 or negatives == 0:
        return None
    ranks = _average_ranks(scores)
    rank_sum = float(ranks[truth].sum())
    return (rank_sum - positives * (positives + 1) / 2.0) / (positives * negatives)


def roc_curve(labels: ArrayLike, probabilities: ArrayLike) -> RocCurve | None:
    """The ROC curve at every distinct score (sklearn's ``drop_intermediate=False``).

    None when the labels hold one class only (one of the two rates has no denominator).
    """
    truth, scores = _checked(labels, probabilities)
    positives = int(truth.sum())
    negatives = truth.size - positives
    if positives == 0 or negatives == 0:
        return None
    order = np.argsort(-scores, kind="mergesort")
    sorted_scores, sorted_truth = scores[order], truth[order]
    last_of_each = np.r_[np.flatnonzero(np.diff(sorted_scores)), sorted_scores.size - 1]
    true_positives = np.cumsum(sorted_truth)[last_of_each]
    false_positives = last_of_each + 1 - true_positives
    return RocCurve(
        false_positive_rate=np.r_[0.0, false_positives / negatives],
        true_positive_rate=np.r_[0.0, true_positives / positives],
        thresholds=np.r_[np.inf, sorted_scores[last_of_each]],
    )


def _average_ranks(scores: FloatArray) -> FloatArray:
    """Ranks 1..n of scores (n,), tied scores sharing the mean of their ranks."""
    order = np.argsort(scores, kind="mergesort")
    sorted_scores = scores[order]
    starts = np.r_[0, np.flatnonzero(np.diff(sorted_scores)) + 1]
    ends = np.r_[starts[1:], sorted_scores.size]
    group_ranks = (starts + ends + 1) / 2.0
    ranks = np.empty(scores.size)
    ranks[order] = np.repeat(group_ranks, ends - starts)
    return ranks


def _ratio(numerator: int, denominator: int) -> float:
    """numerator / denominator, or 0 when the denominator is 0 (sklearn's zero_division)."""
    return numerator / denominator if denominator else 0.0


def _checked(labels: ArrayLike, probabilities: ArrayLike) -> tuple[NDArray[np.bool_], FloatArray]:
    """Labels (n,) as booleans and probabilities (n,) as float64, checked."""
    label_array = np.asarray(labels)
    scores = np.asarray(probabilities, dtype=np.float64)
    if label_array.ndim != 1 or scores.shape != label_array.shape:
        raise DataError(
            f"labels: must be one label per probability, got shapes {label_array.shape} "
            f"and {scores.shape}"
        )
    if label_array.size == 0:
        raise DataError("labels: must hold at least one label")
    if not np.isin(label_array, (0, 1)).all():
        raise DataError("labels: must be 0 or 1")
    if not (np.isfinite(scores).all() and (scores >= 0).all() and (scores <= 1).all()):
        raise DataError("probabilities: must be numbers in [0, 1]")
    return label_array.astype(bool), scores

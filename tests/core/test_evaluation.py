"""Evaluation metrics equal scikit-learn's, on random data, tied scores and one-class labels."""

import warnings

import numpy as np
import pytest
from sklearn import metrics

from core.errors import DataError
from core.evaluation import ROC_AUC_UNDEFINED, evaluate_probabilities, roc_curve
from core.figures import confusion_figure, roc_figure
from tests.core.plotly_checks import check_figure

TOLERANCE = 1e-12


def sklearn_metrics(labels: np.ndarray, scores: np.ndarray, threshold: float) -> dict[str, float]:
    predicted = (scores > threshold).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return {
            "accuracy": metrics.accuracy_score(labels, predicted),
            "log_loss": metrics.log_loss(labels, scores, labels=[0, 1]),
            "precision": metrics.precision_score(labels, predicted, zero_division=0),
            "recall": metrics.recall_score(labels, predicted, zero_division=0),
            "f1": metrics.f1_score(labels, predicted, zero_division=0),
        }


def assert_matches_sklearn(labels: np.ndarray, scores: np.ndarray, threshold: float) -> None:
    ours = evaluate_probabilities(labels, scores, threshold)
    for name, expected in sklearn_metrics(labels, scores, threshold).items():
        assert abs(getattr(ours, name) - expected) <= TOLERANCE, name
    tn, fp, fn, tp = metrics.confusion_matrix(
        labels, (scores > threshold).astype(int), labels=[0, 1]
    ).ravel()
    matrix = ours.confusion_matrix
    assert (matrix.tn, matrix.fp, matrix.fn, matrix.tp) == (tn, fp, fn, tp)
    *_, support = metrics.precision_recall_fscore_support(
        labels, (scores > threshold).astype(int), labels=[0, 1], zero_division=0
    )
    assert ours.support == tuple(support)
    assert ours.roc_auc is not None
    assert abs(ours.roc_auc - metrics.roc_auc_score(labels, scores)) <= TOLERANCE


@pytest.mark.parametrize("seed", range(20))
def test_random_data_matches_sklearn(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 500))
    labels = rng.integers(0, 2, n)
    labels[:2] = [0, 1]
    scores = rng.random(n)
    assert_matches_sklearn(labels, scores, float(rng.uniform(0.05, 0.95)))


@pytest.mark.parametrize("seed", range(10))
def test_tied_scores_match_sklearn(seed: int) -> None:
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, 300)
    labels[:2] = [0, 1]
    scores = rng.integers(0, 5, 300) / 4.0  # five distinct values, 0 and 1 among them
    assert_matches_sklearn(labels, scores, 0.5)
    ours = roc_curve(labels, scores)
    fpr, tpr, thresholds = metrics.roc_curve(labels, scores, drop_intermediate=False)
    assert ours is not None
    np.testing.assert_allclose(ours.false_positive_rate, fpr, rtol=0, atol=TOLERANCE)
    np.testing.assert_allclose(ours.true_positive_rate, tpr, rtol=0, atol=TOLERANCE)
    np.testing.assert_array_equal(ours.thresholds[1:], thresholds[1:])


def test_every_point_predicted_negative_gives_zero_precision_as_sklearn() -> None:
    labels = np.array([0, 1, 1, 0])
    scores = np.array([0.1, 0.2, 0.3, 0.4])
    assert_matches_sklearn(labels, scores, 0.5)
    assert evaluate_probabilities(labels, scores).precision == 0.0


@pytest.mark.parametrize("only", [0, 1])
def test_one_class_labels_leave_roc_auc_undefined(only: int) -> None:
    rng = np.random.default_rng(only)
    labels = np.full(50, only)
    scores = rng.random(50)
    ours = evaluate_probabilities(labels, scores, 0.5)
    for name, expected in sklearn_metrics(labels, scores, 0.5).items():
        assert abs(getattr(ours, name) - expected) <= TOLERANCE, name
    # sklearn has no value either: it raises (older releases) or warns and answers NaN.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            undefined = np.isnan(metrics.roc_auc_score(labels, scores))
        except ValueError:
            undefined = True
    assert undefined
    assert (ours.roc_auc, ours.roc_auc_undefined_reason) == (None, ROC_AUC_UNDEFINED)
    assert roc_curve(labels, scores) is None


def test_probabilities_of_exactly_zero_and_one_are_clipped_as_sklearn_does() -> None:
    labels = np.array([1, 0, 1, 0])
    scores = np.array([0.0, 1.0, 1.0, 0.0])
    expected = metrics.log_loss(labels, scores)
    assert abs(evaluate_probabilities(labels, scores).log_loss - expected) <= 1e-9


@pytest.mark.parametrize(
    ("labels", "scores", "threshold"),
    [
        ([0, 1], [0.5], 0.5),
        ([], [], 0.5),
        ([0, 2], [0.1, 0.2], 0.5),
        ([0, 1], [0.1, 1.5], 0.5),
        ([0, 1], [0.1, float("nan")], 0.5),
        ([0, 1], [0.1, 0.2], 1.0),
        ([0, 1], [0.1, 0.2], 0.0),
    ],
)
def test_bad_input_is_refused(labels: list[int], scores: list[float], threshold: float) -> None:
    with pytest.raises(DataError):
        evaluate_probabilities(labels, scores, threshold)


def test_figures_are_valid_plotly_in_the_palette() -> None:
    labels = np.array([0, 0, 1, 1, 1])
    scores = np.array([0.1, 0.6, 0.4, 0.8, 0.9])
    evaluation = evaluate_probabilities(labels, scores)
    roc = check_figure(roc_figure(roc_curve(labels, scores), evaluation.roc_auc))
    assert roc.data[0].name == "ROC curve"
    assert list(roc.data[0].x) == [0.0, 0.0, 0.0, 0.5, 0.5, 1.0]
    undefined = check_figure(roc_figure(None, None))
    assert undefined.layout.title.text == ROC_AUC_UNDEFINED
    confusion = check_figure(confusion_figure(evaluation.confusion_matrix))
    assert [list(row) for row in confusion.data[0].z] == [[1, 1], [1, 2]]

"""Tests of the Plotly figure builders and of curve thinning."""

import json
from typing import Any

import numpy as np
import plotly.graph_objects as go
import pytest
from numpy.typing import NDArray

from core.dataset import Dataset, make_dataset
from core.errors import ConfigError, DataError
from core.figures import boundary_figure, data_figure, loss_figure
from core.thinning import thin_indices

RED, BLUE = "#fa5252", "#4c6ef5"


def _dataset(n: int = 60, seed: int = 0) -> Dataset:
    rng = np.random.default_rng(seed)
    points = rng.normal(size=(n, 2)) * [1.5, 0.7] + [0.3, -2.0]
    labels = (points[:, 0] - points[:, 1] > 2.0).astype(np.int64)
    labels[:2] = [0, 1]
    return make_dataset(points, labels)


def _linear_proba(points: NDArray[np.float64]) -> NDArray[np.float64]:
    """A known classifier: class 1 where 2x - y + 0.3 > 0, softly."""
    return 1.0 / (1.0 + np.exp(-np.clip(4.0 * (2.0 * points[:, 0] - points[:, 1] + 0.3), -50, 50)))


def _assert_plain_json(value: Any, where: str = "figure") -> None:
    """Every leaf is a plain Python scalar (no NumPy types) and every float is finite."""
    if isinstance(value, dict):
        for key, item in value.items():
            assert type(key) is str, where
            _assert_plain_json(item, f"{where}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _assert_plain_json(item, f"{where}[{index}]")
    else:
        assert type(value) in (str, int, float, bool), f"{where}: {type(value)}"
        if type(value) is float:
            assert np.isfinite(value), where


def _assert_class_points(trace: dict[str, Any], dataset: Dataset, label: int) -> None:
    """The trace holds the points of class ``label``, in order, each axis rounded to at most
    a ten-thousandth of its range (half of that either way)."""
    expected = dataset.points[dataset.labels == label]
    drawn = np.column_stack([trace["x"], trace["y"]])
    assert drawn.shape == expected.shape
    tolerance = np.ptp(dataset.points, axis=0) * 0.5e-4
    assert np.all(np.abs(drawn - expected) <= tolerance)


def _check_valid(figure: dict[str, Any]) -> go.Figure:
    assert set(figure) == {"data", "layout"}
    _assert_plain_json(figure)
    json.dumps(figure, allow_nan=False)
    return go.Figure(figure)


# --- thinning ---------------------------------------------------------------------------


@pytest.mark.parametrize("n", [0, 1, 2, 3, 5, 10, 11, 999, 1000, 1001, 1002, 5000, 20_001])
@pytest.mark.parametrize("max_points", [2, 3, 4, 5, 10, 11, 1000])
def test_thinning_keeps_ends_in_order_within_budget(n: int, max_points: int) -> None:
    values = np.random.default_rng(n).normal(size=n)
    kept = thin_indices(values, max_points)
    assert kept.shape[0] <= min(n, max_points)
    if n > max_points:
        assert kept.shape[0] >= max_points // 2
    assert np.all(np.diff(kept) > 0)
    if n:
        assert kept[0] == 0
        assert kept[-1] == n - 1
        assert kept.min() >= 0
        assert kept.max() <= n - 1
    if n <= max_points:
        np.testing.assert_array_equal(kept, np.arange(n))


def test_thinning_keeps_extremes_and_spikes() -> None:
    n = 20_000
    values = 0.7 * np.exp(-np.linspace(0.0, 6.0, n)) + 0.01
    values[4321] = 2.5  # a spike
    values[12_345] = -0.2  # a dip
    kept = thin_indices(values, 200)
    assert 4321 in kept
    assert 12_345 in kept
    assert values[kept].max() == values.max()
    assert values[kept].min() == values.min()


def test_thinning_of_a_monotone_curve_spreads_over_the_whole_range() -> None:
    values = np.linspace(1.0, 0.0, 10_000)
    kept = thin_indices(values, 100)
    assert 90 <= kept.shape[0] <= 100
    # No long stretch of the curve is skipped.
    assert np.diff(kept).max() <= 2 * 10_000 / 49


def test_thinning_keeps_a_flat_curve_consistent() -> None:
    kept = thin_indices(np.full(5000, 0.25), 50)
    assert kept[0] == 0
    assert kept[-1] == 4999
    assert np.all(np.diff(kept) > 0)
    assert kept.shape[0] <= 50


@pytest.mark.parametrize("max_points", [1, 0, -3, 2.5, True, "10"])
def test_thinning_refuses_a_bad_budget(max_points: Any) -> None:
    with pytest.raises(ConfigError, match="max_points"):
        thin_indices(np.arange(10.0), max_points)


# --- data figure --------------------------------------------------------------------------


def test_data_figure_splits_points_by_class_with_the_tutorial_style() -> None:
    dataset = _dataset()
    figure = data_figure(dataset)
    _check_valid(figure)
    traces = figure["data"]
    assert len(traces) == 2
    for label, (trace, color) in enumerate(zip(traces, (RED, BLUE), strict=True)):
        assert trace["type"] == "scatter"
        assert trace["mode"] == "markers"
        assert trace["name"] == f"Class {label}"
        assert trace["marker"] == {"color": color, "size": 8}
        _assert_class_points(trace, dataset, label)
    assert len(traces[0]["x"]) + len(traces[1]["x"]) == len(dataset)
    layout = figure["layout"]
    assert layout["title"]["text"] == "Synthetic classification data"
    assert layout["xaxis"]["title"]["text"] == "Feature 1"
    assert layout["yaxis"]["title"]["text"] == "Feature 2"
    assert layout["plot_bgcolor"] == "#e9ecef"
    assert (layout["width"], layout["height"]) == (600, 400)


def test_a_data_figure_of_100_000_points_stays_small() -> None:
    rng = np.random.default_rng(3)
    points = rng.normal(scale=2.0, size=(100_000, 2))
    dataset = make_dataset(points, (points[:, 0] > 0).astype(np.int64))
    figure = data_figure(dataset)
    # Rounded, a coordinate takes about 7 characters ("-12.345") and 2 more to separate it:
    # under 2 MB for 200,000 numbers. Unrounded, it takes about 20 (over 4 MB).
    assert len(json.dumps(figure)) < 2_100_000
    for trace, label in zip(figure["data"], (0, 1), strict=True):
        _assert_class_points(trace, dataset, label)


@pytest.mark.parametrize(
    "points",
    [
        [[1e6, -1e6], [-1e6, 1e6], [0.5, 0.25]],
        [[1e-9, 3e-9], [2e-9, 1e-9], [1.5e-9, 2e-9]],
        [[1.0, 5.0], [1.0 + 1e-14, 5.0], [1.0, 5.0 + 3e-14]],
        [[0.0, 7.0], [0.0, 7.0], [0.0, 7.0]],
    ],
)
def test_rounded_points_keep_their_place_at_any_scale(points: list[list[float]]) -> None:
    dataset = make_dataset(points, [0, 1, 0])
    figure = data_figure(dataset)
    _check_valid(figure)
    for trace, label in zip(figure["data"], (0, 1), strict=True):
        _assert_class_points(trace, dataset, label)


# --- loss figure --------------------------------------------------------------------------


def test_loss_figure_of_a_short_history_keeps_every_epoch() -> None:
    history = [0.69, 0.5, 0.31, 0.2, 0.15]
    figure = loss_figure(history)
    _check_valid(figure)
    (trace,) = figure["data"]
    assert trace["x"] == [0, 1, 2, 3, 4]
    assert trace["y"] == history
    assert trace["line"]["color"] == "#7048e8"
    assert trace["name"] == "Training loss"
    layout = figure["layout"]
    assert layout["title"]["text"] == "Training loss over epochs"
    assert layout["xaxis"]["title"]["text"] == "Epoch"
    assert layout["yaxis"]["title"]["text"] == "Binary cross-entropy loss"
    assert layout["yaxis"]["range"] == pytest.approx([0.0, 0.69 * 1.1])
    assert "yaxis_range" not in layout


def test_loss_figure_thins_long_histories_to_real_epochs() -> None:
    epochs = 20_000
    history = 0.69 * np.exp(-np.linspace(0.0, 8.0, epochs)) + 0.001
    validation = history * 1.2 + 0.02
    figure = loss_figure(history, validation, max_points=500)
    _check_valid(figure)
    assert len(figure["data"]) == 2
    for trace, values in zip(figure["data"], (history, validation), strict=True):
        x = np.array(trace["x"])
        assert len(x) <= 500
        assert x[0] == 0
        assert x[-1] == epochs - 1
        assert np.all(np.diff(x) > 0)
        np.testing.assert_array_equal(trace["y"], values[x])
    training, validation_trace = figure["data"]
    assert validation_trace["name"] == "Validation loss"
    assert validation_trace["line"]["color"] not in {training["line"]["color"], RED, BLUE}
    assert figure["layout"]["showlegend"] is True
    assert figure["layout"]["yaxis"]["range"] == pytest.approx([0.0, validation.max() * 1.1])


def test_loss_figure_of_an_empty_history_is_empty_but_valid() -> None:
    for figure in (loss_figure([]), loss_figure(np.array([]), np.array([]))):
        _check_valid(figure)
        assert all(trace["x"] == [] and trace["y"] == [] for trace in figure["data"])
        low, high = figure["layout"]["yaxis"]["range"]
        assert low == 0.0
        assert high > 0.0


@pytest.mark.parametrize("history", [[0.5, float("nan")], [[0.5, 0.4]], [0.3, float("inf")]])
def test_loss_figure_refuses_a_malformed_history(history: Any) -> None:
    with pytest.raises(DataError, match="loss_history"):
        loss_figure(history)


# --- boundary figure ----------------------------------------------------------------------


class _RecordingProba:
    """``_linear_proba`` that remembers every grid it was asked about."""

    def __init__(self) -> None:
        self.calls: list[NDArray[np.float64]] = []

    def __call__(self, points: NDArray[np.float64]) -> NDArray[np.float64]:
        self.calls.append(points.copy())
        return _linear_proba(points)


@pytest.mark.parametrize("resolution", [2, 7, 50])
def test_boundary_grid_spans_the_data_with_the_margin(resolution: int) -> None:
    dataset = _dataset()
    proba = _RecordingProba()
    figure = boundary_figure(proba, dataset, resolution=resolution)
    _check_valid(figure)
    grid = proba.calls[0]  # then the points where the exact boundary is refined
    assert grid.shape == (resolution**2, 2)
    surface = figure["data"][0]
    x, y = np.array(surface["x"]), np.array(surface["y"])
    assert x.shape == y.shape == (resolution,)
    assert np.all(np.diff(x) > 0)
    assert np.all(np.diff(y) > 0)
    low, high = dataset.points.min(axis=0) - 0.5, dataset.points.max(axis=0) + 0.5
    assert grid.min(axis=0) == pytest.approx(low)
    assert grid.max(axis=0) == pytest.approx(high)
    step = (high - low) / (resolution - 1)
    tolerance = step * 1e-2
    np.testing.assert_allclose(x, np.linspace(low[0], high[0], resolution), atol=tolerance[0])
    np.testing.assert_allclose(y, np.linspace(low[1], high[1], resolution), atol=tolerance[1])
    # Row j of z is y[j], column i is x[i]: the grid is x-fastest.
    np.testing.assert_allclose(grid[:, 0].reshape(resolution, resolution)[0], x, atol=tolerance[0])
    np.testing.assert_allclose(
        grid[:, 1].reshape(resolution, resolution)[:, 0], y, atol=tolerance[1]
    )


def test_boundary_regions_agree_with_the_classifier() -> None:
    dataset = _dataset()
    proba = _RecordingProba()
    figure = boundary_figure(proba, dataset, resolution=40)
    _check_valid(figure)
    grid = proba.calls[0]
    expected = (2.0 * grid[:, 0] - grid[:, 1] + 0.3 > 0).astype(int).reshape(40, 40)
    surface = figure["data"][0]
    assert all(type(value) is int for row in surface["z"] for value in row)
    np.testing.assert_array_equal(surface["z"], expected)
    assert 0 < expected.sum() < expected.size  # the boundary crosses the grid
    assert surface["type"] == "contour"
    assert surface["colorscale"] == [[0, "#ffc9c9"], [1, "#a5d8ff"]]
    assert surface["opacity"] == 0.4
    assert surface["showscale"] is False


@pytest.mark.parametrize(("mode", "surfaces"), [("regions", 2), ("probability", 1), ("contour", 1)])
def test_boundary_figure_has_training_points_and_tutorial_layout(mode: Any, surfaces: int) -> None:
    dataset = _dataset()
    figure = boundary_figure(_linear_proba, dataset, resolution=20, mode=mode)
    _check_valid(figure)
    # The surface (regions: the filled regions and the exact curve), then the points.
    assert len(figure["data"]) == surfaces + 2
    points = figure["data"][surfaces:]
    for label, (trace, color) in enumerate(zip(points, (RED, BLUE), strict=True)):
        assert trace["name"] == f"Class {label}"
        assert trace["marker"]["color"] == color
        _assert_class_points(trace, dataset, label)
    layout = figure["layout"]
    assert layout["title"]["text"] == "Decision boundary"
    assert layout["plot_bgcolor"] == "#e9ecef"
    assert (layout["width"], layout["height"]) == (600, 450)


def test_boundary_probability_map_draws_the_half_contour() -> None:
    dataset = _dataset()
    proba = _RecordingProba()
    figure = boundary_figure(proba, dataset, resolution=30, mode="probability")
    _check_valid(figure)
    (grid,) = proba.calls
    surface = figure["data"][0]
    z = np.array(surface["z"])
    np.testing.assert_allclose(z, _linear_proba(grid).reshape(30, 30), atol=5e-5)
    assert z.min() >= 0.0
    assert z.max() <= 1.0
    assert surface["colorscale"][0][1] == "#ffc9c9"
    assert surface["colorscale"][-1][1] == "#a5d8ff"
    assert (surface["zmin"], surface["zmax"]) == (0.0, 1.0)
    contours = surface["contours"]
    assert contours["start"] == contours["end"] == 0.5
    assert contours["showlines"] is True
    assert surface["autocontour"] is False


@pytest.mark.parametrize("mode", ["regions", "probability"])
def test_a_200_by_200_boundary_stays_well_under_a_megabyte(mode: Any) -> None:
    dataset = _dataset(n=400)

    def wavy_proba(points: NDArray[np.float64]) -> NDArray[np.float64]:
        # Probabilities spread over (0, 1) everywhere: the largest JSON a grid can give.
        return 0.5 + 0.45 * np.sin(3.1 * points[:, 0]) * np.cos(2.3 * points[:, 1])

    figure = boundary_figure(wavy_proba, dataset, resolution=200, mode=mode)
    size = len(json.dumps(figure))
    assert size < 500_000
    surface = figure["data"][0]
    assert len(surface["z"]) == 200
    assert all(len(row) == 200 for row in surface["z"])


def test_boundary_figure_handles_points_on_a_line() -> None:
    dataset = make_dataset([[1.0, 3.0], [1.0, 3.0], [1.0, 3.0]], [0, 1, 0])
    figure = boundary_figure(_linear_proba, dataset, resolution=5)
    _check_valid(figure)
    assert figure["data"][0]["x"] == pytest.approx([0.5, 0.75, 1.0, 1.25, 1.5])
    assert figure["data"][0]["y"] == pytest.approx([2.5, 2.75, 3.0, 3.25, 3.5])


def test_boundary_figure_refuses_an_unknown_mode() -> None:
    with pytest.raises(ConfigError, match="regions") as raised:
        boundary_figure(_linear_proba, _dataset(), mode="heatmap")  # type: ignore[arg-type]
    assert "probability" in str(raised.value)
    assert "heatmap" in str(raised.value)


@pytest.mark.parametrize("resolution", [1, 0, -5, 1001, 10**6, 20.0, True, "200", None])
def test_boundary_figure_refuses_a_bad_resolution(resolution: Any) -> None:
    def never_called(points: NDArray[np.float64]) -> NDArray[np.float64]:
        raise AssertionError("the grid must not be evaluated")

    with pytest.raises(ConfigError, match="resolution"):
        boundary_figure(never_called, _dataset(), resolution=resolution)


def test_boundary_figure_refuses_a_classifier_of_the_wrong_size() -> None:
    with pytest.raises(ValueError, match="predict_proba"):
        boundary_figure(lambda points: np.zeros(3), _dataset(), resolution=10)

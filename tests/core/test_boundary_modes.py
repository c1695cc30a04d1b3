"""Tests of the boundary figure's exact curve, its contour mode and validation points."""

import json
from typing import Any

import numpy as np
import pytest

from core.arrays import FloatArray
from core.dataset import Dataset, make_dataset, train_validation_split
from core.errors import ConfigError, DataError
from core.figures import LEVEL_TOLERANCE, boundary_figure, data_figure, loss_figure
from core.generators import generate
from core.network import Network
from core.training import TrainingConfig, train
from tests.core.plotly_checks import check_figure, polylines

RED, BLUE = "#fa5252", "#4c6ef5"


def _sigmoid(z: FloatArray) -> FloatArray:
    return np.asarray(1.0 / (1.0 + np.exp(-np.clip(z, -700.0, 700.0))))


def _two_discs(points: FloatArray) -> FloatArray:
    """Class 1 inside two unit discs, around (-1.5, -1) and (1.5, 1)."""
    near = [((points - centre) ** 2).sum(axis=1) for centre in ([-1.5, -1.0], [1.5, 1.0])]
    return _sigmoid(4.0 * (1.0 - np.minimum(*near)))


@pytest.fixture(scope="module")
def blobs() -> Dataset:
    return generate("blobs", n_samples=200, noise=0.2, seed=42)


@pytest.fixture(scope="module")
def tutorial_network(blobs: Dataset) -> Network:
    """The tutorial's 2-4-1 ReLU network, trained briefly on its blobs."""
    return train(TrainingConfig(epochs=2000), blobs).network


@pytest.fixture(scope="module")
def moons_split() -> tuple[Dataset, Dataset]:
    train_set, validation = train_validation_split(
        generate("moons", n_samples=200, noise=0.2, seed=1), 0.25, seed=0
    )
    assert validation is not None
    return train_set, validation


def _spread(n: int = 120) -> Dataset:
    rng = np.random.default_rng(5)
    points = rng.uniform(-3.0, 3.0, size=(n, 2))
    return make_dataset(points, (_two_discs(points) > 0.5).astype(np.int64))


def test_contour_mode_draws_only_the_curve_and_the_points(
    tutorial_network: Network, blobs: Dataset
) -> None:
    dataset = blobs
    figure = boundary_figure(tutorial_network.predict_proba, dataset, mode="contour")
    check_figure(figure)
    curve, class_0, class_1 = figure["data"]
    assert (curve["type"], curve["mode"]) == ("scatter", "lines")
    assert curve["line"]["color"] == "#343a40"
    assert (class_0["marker"]["color"], class_1["marker"]["color"]) == (RED, BLUE)
    (piece,) = polylines(curve)
    vertices = np.array(piece)
    assert np.abs(tutorial_network.predict_proba(vertices) - 0.5).max() <= LEVEL_TOLERANCE
    # The curve crosses the plot, between the clouds around (1, 1) and (-1, -1).
    low, high = dataset.points.min(axis=0) - 0.5, dataset.points.max(axis=0) + 0.5
    layout = figure["layout"]
    assert layout["xaxis"]["range"] == pytest.approx([low[0], high[0]])
    assert layout["yaxis"]["range"] == pytest.approx([low[1], high[1]])
    ends = vertices[[0, -1]]  # an open curve: both ends on the grid's border
    assert np.any(np.isclose(ends, low) | np.isclose(ends, high), axis=1).all()


def test_json_round_trip_keeps_the_vertices_on_the_boundary(
    tutorial_network: Network, blobs: Dataset
) -> None:
    figure = json.loads(
        json.dumps(boundary_figure(tutorial_network.predict_proba, blobs, mode="contour"))
    )
    for piece in polylines(figure["data"][0]):
        values = tutorial_network.predict_proba(np.array(piece))
        assert np.abs(values - 0.5).max() <= LEVEL_TOLERANCE


def test_regions_mode_draws_the_exact_curve_over_the_regions() -> None:
    dataset = _spread()
    regions = boundary_figure(_two_discs, dataset, resolution=80)
    contour = boundary_figure(_two_discs, dataset, resolution=80, mode="contour")
    check_figure(regions)
    surface, curve, *_ = regions["data"]
    assert surface["type"] == "contour"
    assert surface["contours"]["showlines"] is False  # the raster edge is not drawn
    assert (surface["zmin"], surface["zmax"]) == (0, 1)
    assert curve == contour["data"][0]
    pieces = polylines(curve)
    assert len(pieces) == 2  # two separate closed curves, one gap between them
    assert curve["x"].count(None) == 1
    for piece in pieces:
        assert piece[0] == piece[-1]
        assert np.abs(_two_discs(np.array(piece)) - 0.5).max() <= LEVEL_TOLERANCE


def test_no_boundary_leaves_an_empty_curve() -> None:
    figure = boundary_figure(lambda points: np.full(len(points), 0.2), _spread(), mode="contour")
    check_figure(figure)
    assert figure["data"][0]["x"] == figure["data"][0]["y"] == []


@pytest.mark.parametrize("use_network", [True, False])
def test_contour_json_is_at_most_a_fifth_of_the_probability_map(
    use_network: bool, tutorial_network: Network, blobs: Dataset
) -> None:
    predict, dataset = (
        (tutorial_network.predict_proba, blobs) if use_network else (_two_discs, _spread())
    )
    sizes = {
        mode: len(json.dumps(boundary_figure(predict, dataset, resolution=200, mode=mode)))
        for mode in ("contour", "probability", "regions")
    }
    assert sizes["contour"] * 5 <= sizes["probability"]
    assert sizes["contour"] < sizes["regions"]


def test_validation_points_are_drawn_apart_and_hollow(moons_split: tuple[Dataset, Dataset]) -> None:
    train_set, validation = moons_split
    for figure, first_points in (
        (data_figure(train_set, validation), 0),
        (boundary_figure(_two_discs, train_set, 30, validation=validation), 2),
        (boundary_figure(_two_discs, train_set, 30, "probability", validation=validation), 1),
    ):
        check_figure(figure)
        traces = figure["data"][first_points:]
        names = [trace["name"] for trace in traces]
        assert names == ["Class 0", "Class 1", "Class 0 (validation)", "Class 1 (validation)"]
        for trace, dataset, label in zip(
            traces,
            (train_set, train_set, validation, validation),
            (0, 1, 0, 1),
            strict=True,
        ):
            assert trace["marker"]["color"] == (RED, BLUE)[label]
            hollow = trace["marker"].get("symbol", "circle").endswith("-open")
            assert hollow == (dataset is validation)
            drawn = np.column_stack([trace["x"], trace["y"]])
            expected = dataset.points[dataset.labels == label]
            np.testing.assert_allclose(drawn, expected, atol=1e-3)


def test_the_grid_spans_the_validation_points_too() -> None:
    train_set = make_dataset([[0.0, 0.0], [1.0, 1.0]], [0, 1])
    validation = make_dataset([[-4.0, 0.5], [3.0, 6.0]], [0, 1])
    seen: list[FloatArray] = []

    def proba(points: FloatArray) -> FloatArray:
        seen.append(points)
        return _sigmoid(points[:, 0] - points[:, 1])

    figure = boundary_figure(proba, train_set, 10, "regions", validation=validation)
    check_figure(figure)
    assert seen[0].min(axis=0) == pytest.approx([-4.5, -0.5])
    assert seen[0].max(axis=0) == pytest.approx([3.5, 6.5])
    without = boundary_figure(proba, train_set, 10, "regions")
    assert without["data"][0]["x"][0] == pytest.approx(-0.5)


def test_the_loss_figure_offers_a_log_scale() -> None:
    figure = loss_figure([0.7, 0.3, 0.01], [0.72, 0.35, 0.05])
    check_figure(figure)
    (menu,) = figure["layout"]["updatemenus"]
    linear, log = menu["buttons"]
    assert (linear["label"], log["label"]) == ("Linear", "Log")
    assert log["method"] == linear["method"] == "relayout"
    assert log["args"][0]["yaxis.type"] == "log"
    assert linear["args"][0] == {"yaxis.type": "linear", "yaxis.range": [0.0, 0.72 * 1.1]}
    assert [trace["name"] for trace in figure["data"]] == ["Training loss", "Validation loss"]


def test_the_accuracy_figure_draws_both_histories() -> None:
    figure = loss_figure([0.5, 0.75, 0.9], [0.4, 0.7, 0.95], metric="accuracy")
    check_figure(figure)
    training, validation = figure["data"]
    assert (training["name"], validation["name"]) == ("Training accuracy", "Validation accuracy")
    assert training["y"] == [0.5, 0.75, 0.9]
    assert validation["y"] == [0.4, 0.7, 0.95]
    layout = figure["layout"]
    assert layout["title"]["text"] == "Training accuracy over epochs"
    assert layout["yaxis"]["title"]["text"] == "Accuracy"
    assert "updatemenus" not in layout


@pytest.mark.parametrize("metric", ["auc", "", None])
def test_an_unknown_metric_is_refused(metric: Any) -> None:
    with pytest.raises(ConfigError, match="metric"):
        loss_figure([0.5], metric=metric)


def test_a_malformed_accuracy_history_names_itself() -> None:
    with pytest.raises(DataError, match="validation_accuracy_history"):
        loss_figure([0.5], [float("nan")], metric="accuracy")


def test_a_snapshot_boundary_names_its_epoch() -> None:
    figure = boundary_figure(_two_discs, _spread(), 20, "contour", epoch=1234)
    check_figure(figure)
    assert figure["layout"]["meta"] == {"epoch": 1234}
    assert figure["layout"]["title"]["text"] == "Decision boundary at epoch 1234"
    assert "meta" not in boundary_figure(_two_discs, _spread(), 20)["layout"]

"""Tests of the neuron maps: a heat map per unit, one colour axis per layer."""

import itertools
from typing import Any

import numpy as np
import pytest

from core.arrays import FloatArray
from core.dataset import Dataset
from core.errors import ConfigError
from core.figures import neuron_figure, plane_grid
from core.generators import generate
from tests.core.plotly_checks import check_figure


class _ReferenceNetwork:
    """A plain forward pass written out here: hidden ReLU layers, a sigmoid output."""

    def __init__(self, sizes: tuple[int, ...], seed: int = 0) -> None:
        rng = np.random.default_rng(seed)
        self.layers = [
            (rng.normal(size=(fan_in, fan_out)), rng.normal(scale=0.3, size=fan_out))
            for fan_in, fan_out in itertools.pairwise(sizes)
        ]

    def __call__(self, points: FloatArray) -> list[FloatArray]:
        activations, outputs = points, []
        for index, (weights, biases) in enumerate(self.layers):
            z = activations @ weights + biases
            last = index == len(self.layers) - 1
            activations = 1.0 / (1.0 + np.exp(-z)) if last else np.maximum(z, 0.0)
            outputs.append(activations)
        return outputs


@pytest.fixture(scope="module")
def blobs() -> Dataset:
    return generate("blobs", n_samples=100, noise=0.3, seed=4)


def test_each_unit_gets_a_map_of_its_activation(blobs: Dataset) -> None:
    network = _ReferenceNetwork((2, 3, 2, 1))
    figure = neuron_figure(network, blobs, resolution=20)
    check_figure(figure)
    traces = figure["data"]
    assert len(traces) == 3 + 2 + 1
    grid = plane_grid(blobs.points, 20)
    expected = network(grid.points)
    maps = iter(traces)
    for layer, values in enumerate(expected):
        for unit in range(values.shape[1]):
            trace = next(maps)
            assert trace["type"] == "heatmap"
            z = np.array(trace["z"])
            assert z.shape == (20, 20)
            reach = np.abs(values).max()
            np.testing.assert_allclose(z.ravel(), values[:, unit], atol=reach * 0.5e-4 + 1e-15)
            assert trace["coloraxis"] == ("coloraxis" if layer == 0 else f"coloraxis{layer + 1}")
    names = [trace["name"] for trace in traces]
    assert names[0] == "Hidden layer 1, unit 1"
    assert names[-1] == "Output, unit 1"


def test_each_layer_has_one_colour_scale(blobs: Dataset) -> None:
    network = _ReferenceNetwork((2, 4, 3, 1), seed=2)
    figure = neuron_figure(network, blobs, resolution=16)
    layout = figure["layout"]
    expected = network(plane_grid(blobs.points, 16).points)
    for layer, values in enumerate(expected):
        key = "coloraxis" if layer == 0 else f"coloraxis{layer + 1}"
        axis = layout[key]
        assert axis["colorscale"][0][1] == "#fa5252"
        assert axis["colorscale"][-1][1] == "#4c6ef5"
        if layer == len(expected) - 1:
            assert (axis["cmin"], axis["cmax"]) == (0.0, 1.0)
            assert axis["colorbar"]["title"]["text"] == "P(class 1)"
        else:
            reach = np.abs(values).max()
            assert axis["cmin"] == pytest.approx(-reach, rel=1e-3)
            assert axis["cmax"] == pytest.approx(reach, rel=1e-3)
    assert "coloraxis4" not in layout
    users = {trace["coloraxis"] for trace in figure["data"]}
    assert users == {"coloraxis", "coloraxis2", "coloraxis3"}


def test_the_maps_sit_in_a_grid_of_separate_axes(blobs: Dataset) -> None:
    figure = neuron_figure(_ReferenceNetwork((2, 5, 2, 1)), blobs, resolution=10)
    layout = figure["layout"]
    boxes = []
    for trace in figure["data"]:
        x_axis = layout["xaxis" + trace["xaxis"][1:]]
        y_axis = layout["yaxis" + trace["yaxis"][1:]]
        assert x_axis["anchor"] == trace["yaxis"]
        assert y_axis["anchor"] == trace["xaxis"]
        boxes.append((*x_axis["domain"], *y_axis["domain"]))
    assert len(set(boxes)) == len(boxes)
    for index, (left, right, bottom, top) in enumerate(boxes):
        assert 0.0 <= left < right <= 1.0
        assert 0.0 <= bottom < top <= 1.0
        for other_left, other_right, other_bottom, other_top in boxes[index + 1 :]:
            apart = right <= other_left or other_right <= left
            assert apart or top <= other_bottom or other_top <= bottom
    # A row per layer, labelled on its first map; each map names its unit.
    row_labels = [layout[key]["title"]["text"] for key in layout if key.startswith("yaxis")]
    assert [label for label in row_labels if label] == [
        "Hidden layer 1",
        "Hidden layer 2",
        "Output",
    ]


def test_wide_layers_show_their_first_units(blobs: Dataset) -> None:
    figure = neuron_figure(_ReferenceNetwork((2, 20, 1)), blobs, resolution=8, max_units=6)
    check_figure(figure)
    assert len(figure["data"]) == 6 + 1
    layout = figure["layout"]
    labels = [layout[key]["title"]["text"] for key in layout if key.startswith("yaxis")]
    assert "Hidden layer 1 (1-6 of 20)" in labels


@pytest.mark.parametrize(
    ("activations", "message"),
    [
        (lambda points: [], "no layers"),
        (lambda points: [np.zeros((len(points), 2)), np.zeros(len(points))], "shape"),
        (lambda points: [np.zeros((3, 1))], "shape"),
        (lambda points: [np.full((len(points), 1), np.nan)], "finite"),
        (lambda points: [np.full((len(points), 1), 3.0)], "probabilities"),
    ],
)
def test_malformed_activations_are_refused(blobs: Dataset, activations: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        neuron_figure(activations, blobs, resolution=5)


@pytest.mark.parametrize("max_units", [0, -1, 2.5, True])
def test_a_bad_unit_budget_is_refused(blobs: Dataset, max_units: Any) -> None:
    with pytest.raises(ConfigError, match="max_units"):
        neuron_figure(_ReferenceNetwork((2, 2, 1)), blobs, max_units=max_units)

"""Tests of the training replay: one figure, a frame per snapshot, slider and play buttons."""

import dataclasses
import itertools
import json
from collections.abc import Callable

import numpy as np
import pytest

from core.arrays import FloatArray
from core.dataset import Dataset, train_validation_split
from core.errors import DataError
from core.figures import REPLAY_RESOLUTION, plane_grid, replay_figure
from core.figures.level_set import level_curves
from core.generators import generate
from core.initializers import initialize
from core.network import Network
from core.snapshots import snapshot_epochs
from core.training import TrainingConfig, train
from tests.core.plotly_checks import check_figure, polylines

Snapshots = list[tuple[int, Callable[[FloatArray], FloatArray]]]


def trained_snapshots(
    dataset: Dataset, total_epochs: int, validation: Dataset | None = None
) -> tuple[Snapshots, FloatArray, FloatArray | None]:
    """Snapshots of a real full-batch training at the epochs of the schedule, and its loss
    histories: plain gradient descent keeps no state, so training in stretches from each
    snapshot's parameters is the same as one run."""
    config = TrainingConfig(
        hidden_layers=(8, 8), activation="tanh", init="he", learning_rate=0.5, seed=3
    )
    parameters = initialize(config.layer_sizes, config.init, np.random.default_rng(3))
    snapshots: Snapshots = [(0, Network(parameters, config.activation).predict_proba)]
    losses: list[FloatArray] = []
    validation_losses: list[FloatArray] = []
    epochs = snapshot_epochs(total_epochs)
    for previous, epoch in itertools.pairwise(epochs):
        stretch = dataclasses.replace(config, epochs=int(epoch - previous))
        result = train(stretch, dataset, validation, initial_parameters=parameters)
        parameters = result.network.parameters
        losses.append(result.loss_history)
        if result.validation_loss_history is not None:
            validation_losses.append(result.validation_loss_history)
        snapshots.append((int(epoch), result.network.predict_proba))
    validation_history = np.concatenate(validation_losses) if validation_losses else None
    return snapshots, np.concatenate(losses), validation_history


@pytest.fixture(scope="module")
def moons() -> Dataset:
    return generate("moons", n_samples=200, noise=0.2, seed=1)


@pytest.fixture(scope="module")
def replay(moons: Dataset) -> tuple[dict, Snapshots, FloatArray]:  # type: ignore[type-arg]
    snapshots, losses, _ = trained_snapshots(moons, 3000)
    return replay_figure(snapshots, losses, moons), snapshots, losses


def test_the_replay_is_one_valid_figure_with_a_frame_per_snapshot(
    replay: tuple[dict, Snapshots, FloatArray],  # type: ignore[type-arg]
) -> None:
    figure, snapshots, _ = replay
    validated = check_figure(figure)
    assert len(validated.frames) == len(snapshots) == 200
    epochs = [str(epoch) for epoch, _ in snapshots]
    assert [frame["name"] for frame in figure["frames"]] == epochs
    (slider,) = figure["layout"]["sliders"]
    assert [step["label"] for step in slider["steps"]] == epochs
    assert [step["args"][0] for step in slider["steps"]] == [[epoch] for epoch in epochs]
    assert all(step["method"] == "animate" for step in slider["steps"])
    (menu,) = figure["layout"]["updatemenus"]
    play, pause = menu["buttons"]
    assert (play["label"], pause["label"]) == ("Play", "Pause")
    assert play["args"][0] is None  # every frame, from the current one on
    assert play["args"][1]["frame"]["duration"] > 0
    assert pause["args"][0] == [None]  # plotly's way to stop
    assert figure["layout"]["title"]["text"] == "Training replay: epoch 0"


def test_the_default_replay_stays_under_two_megabytes(
    replay: tuple[dict, Snapshots, FloatArray],  # type: ignore[type-arg]
) -> None:
    figure, _, _ = replay
    assert len(json.dumps(figure)) < 2_000_000


def test_each_frame_draws_its_snapshot_and_the_loss_so_far(
    replay: tuple[dict, Snapshots, FloatArray],  # type: ignore[type-arg]
    moons: Dataset,
) -> None:
    figure, snapshots, losses = replay
    grid = plane_grid(moons.points, REPLAY_RESOLUTION)
    span = np.array([grid.xs[-1] - grid.xs[0], grid.ys[-1] - grid.ys[0]])
    moving: set[int] = set()
    for index in range(0, 200, 17):
        frame, (epoch, predict_proba) = figure["frames"][index], snapshots[index]
        assert frame["layout"]["title"]["text"] == f"Training replay: epoch {epoch}"
        regions, curve, loss = frame["data"]
        traces = frame["traces"]
        moving.update(traces)
        assert [figure["data"][i]["type"] for i in traces] == [
            regions["type"],
            curve["type"],
            loss["type"],
        ]
        probabilities = predict_proba(grid.points).reshape(grid.shape)
        np.testing.assert_array_equal(regions["z"], (probabilities > 0.5).astype(int))
        exact = level_curves(predict_proba, grid, probabilities)
        drawn = [np.array(piece) for piece in polylines(curve)]
        assert len(drawn) == len(exact)
        for piece, reference in zip(drawn, exact, strict=True):
            assert np.all(np.abs(piece - reference) <= span * 0.5e-4 + 1e-12)
        # The loss of epochs 0 to this one, ending exactly at it.
        assert loss["x"][0] == 0
        assert loss["x"][-1] == min(epoch, len(losses) - 1)
        assert loss["x"] == sorted(set(loss["x"]))
        np.testing.assert_allclose(loss["y"], losses[loss["x"]], atol=losses.max() * 1e-4)
    # The points are sent once, never in a frame.
    names = [figure["data"][i]["name"] for i in sorted(moving)]
    assert names == ["Decision regions", "Boundary (P = 0.5)", "Training loss"]
    first = figure["frames"][0]["data"]
    assert figure["data"][0]["z"] == first[0]["z"]
    assert figure["data"][1]["x"] == first[1]["x"]


def test_a_replay_with_validation_draws_its_points_and_loss(moons: Dataset) -> None:
    train_set, validation = train_validation_split(moons, 0.25, seed=0)
    assert validation is not None
    snapshots, losses, validation_losses = trained_snapshots(train_set, 300, validation)
    figure = replay_figure(
        snapshots[::10],
        losses,
        train_set,
        validation=validation,
        validation_loss_history=validation_losses,
        resolution=25,
    )
    check_figure(figure)
    names = [trace["name"] for trace in figure["data"]]
    assert names == [
        "Decision regions",
        "Boundary (P = 0.5)",
        "Class 0",
        "Class 1",
        "Class 0 (validation)",
        "Class 1 (validation)",
        "Training loss",
        "Validation loss",
    ]
    assert figure["data"][4]["marker"]["symbol"] == "circle-open"
    last = figure["frames"][-1]
    assert last["traces"] == [0, 1, 6, 7]
    assert len(last["data"][0]["z"]) == 25
    assert last["data"][3]["x"][-1] == snapshots[::10][-1][0]


def test_a_replay_needs_snapshots_in_increasing_epochs(moons: Dataset) -> None:
    def half(points: FloatArray) -> FloatArray:
        return np.full(len(points), 0.5)

    with pytest.raises(DataError, match="at least one snapshot"):
        replay_figure([], [0.7], moons)
    with pytest.raises(DataError, match="strictly increasing"):
        replay_figure([(0, half), (5, half), (5, half)], [0.7] * 6, moons)
    with pytest.raises(DataError, match="loss_history"):
        replay_figure([(0, half)], [float("nan")], moons)

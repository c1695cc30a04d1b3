"""Tests of the snapshots a training run records: on schedule, with both engines, bounded."""

import dataclasses

import numpy as np
import pytest

from core.backprop import FlatParameters
from core.compiled import kernel_available
from core.config import EarlyStopping, TrainingConfig
from core.generators import generate
from core.initializers import initialize
from core.snapshots import SnapshotRecorder
from core.training import train

ENGINES = ["numpy", "compiled"] if kernel_available() else ["numpy"]


def _replayed_vector(config: TrainingConfig, epochs: int, engine: str) -> np.ndarray:
    """The parameters after ``epochs`` updates, from a fresh run of that many epochs."""
    shorter = dataclasses.replace(config, epochs=epochs)
    dataset = generate("moons", 120, 0.2, 3)
    result = train(shorter, dataset, engine=engine)
    return FlatParameters.from_parameters(result.network.parameters).vector


@pytest.mark.parametrize("engine", ENGINES)
def test_snapshots_are_the_parameters_after_their_epochs(engine: str) -> None:
    config = TrainingConfig(hidden_layers=(5,), epochs=3000, learning_rate=0.3, seed=4)
    dataset = generate("moons", 120, 0.2, 3)
    size = FlatParameters(config.layer_sizes).vector.size
    recorder = SnapshotRecorder(config.epochs, size, max_snapshots=40)
    result = train(config, dataset, engine=engine, snapshots=recorder)
    np.testing.assert_array_equal(recorder.epochs, recorder.schedule)
    initial = FlatParameters.from_parameters(
        initialize(config.layer_sizes, config.init, np.random.default_rng(config.seed))
    ).vector
    np.testing.assert_array_equal(recorder.vectors[0], initial)
    final = FlatParameters.from_parameters(result.network.parameters).vector
    np.testing.assert_array_equal(recorder.vectors[-1], final)
    for index in (7, 20, 33):  # compiled chunks must end exactly at scheduled epochs
        epoch = int(recorder.epochs[index])
        np.testing.assert_allclose(
            recorder.vectors[index], _replayed_vector(config, epoch, engine), rtol=0, atol=1e-12
        )


@pytest.mark.parametrize("engine", ENGINES)
def test_the_newest_parameters_are_noted_at_each_report(engine: str) -> None:
    config = TrainingConfig(hidden_layers=(4,), epochs=4000, seed=1)
    dataset = generate("blobs", 200, 0.2, 42)
    recorder = SnapshotRecorder(config.epochs, FlatParameters(config.layer_sizes).vector.size)
    seen: list[int] = []

    def on_progress(progress: object) -> None:
        newest = recorder.newest
        assert newest is not None
        seen.append(newest[0])

    train(
        config,
        dataset,
        engine=engine,
        snapshots=recorder,
        on_progress=on_progress,
        progress_interval=0.0,
    )
    assert seen == sorted(seen)
    assert seen[-1] == config.epochs
    assert len(recorder.epochs) <= 200


def test_an_early_stop_ends_the_snapshots_with_the_kept_network() -> None:
    config = TrainingConfig(
        hidden_layers=(4,),
        epochs=5000,
        seed=2,
        early_stopping=EarlyStopping(patience=5, min_delta=0.05, restore_best=True),
    )
    dataset = generate("blobs", 200, 0.2, 42)
    recorder = SnapshotRecorder(config.epochs, FlatParameters(config.layer_sizes).vector.size)
    result = train(config, dataset, snapshots=recorder)
    assert result.stopped_early
    assert recorder.epochs[-1] == result.epochs_run
    final = FlatParameters.from_parameters(result.network.parameters).vector
    np.testing.assert_array_equal(recorder.vectors[-1], final)


def test_layer_activations_end_with_the_probability_and_apply_features() -> None:
    from core.network import Network  # noqa: PLC0415 - local to the one test that needs it

    rng = np.random.default_rng(0)
    features = ("x1", "x2", "x1*x2")
    parameters = initialize((3, 5, 3, 1), "glorot", rng)
    network = Network(parameters, "tanh", features)
    points = rng.normal(size=(50, 2))
    layers = network.layer_activations(points)
    assert [layer.shape for layer in layers] == [(50, 5), (50, 3), (50, 1)]
    np.testing.assert_allclose(layers[-1][:, 0], network.predict_proba(points), atol=1e-15)
    inputs = np.column_stack([points[:, 0], points[:, 1], points[:, 0] * points[:, 1]])
    first = np.tanh(inputs @ parameters.weights[0] + parameters.biases[0])
    np.testing.assert_allclose(layers[0], first, atol=1e-15)

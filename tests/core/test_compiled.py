"""The compiled engine against the NumPy engine, its reference: equal results within 1e-12."""

import itertools
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from core.activations import ACTIVATIONS
from core.compiled import ENGINE_VARIABLE, MAX_KERNEL_LAYERS, default_engine, kernel_available
from core.dataset import Dataset, train_validation_split
from core.errors import ConfigError, TrainingDiverged
from core.generators import generate
from core.optimizers import OPTIMIZERS
from core.parameters import Parameters
from core.training import EarlyStopping, TrainingConfig, TrainingResult, train

PARITY = 1e-12
LEARNING_RATES = {"gd": 0.5, "sgd": 0.3, "momentum": 0.1, "adam": 0.02}
BATCH_SIZES = [None, 16, 23]  # full batch; mini-batches; mini-batches with a shorter last one
PENALTIES = [(0.0, 0.0), (0.3, 0.2)]  # (l2, l1)
DEPTHS = [(), (5,), (4, 3)]
FEATURE_SETS = [("x1", "x2"), ("x1^2", "x2^2", "x1*x2"), ("sin(x1)", "x2", "x1")]


@pytest.fixture(scope="module")
def moons() -> Dataset:
    return generate("moons", n_samples=90, noise=0.2, seed=7)


def assert_same_run(compiled: TrainingResult, reference: TrainingResult) -> None:
    """Equal parameters and loss histories within 1e-12, equal training accuracies, the same
    epochs and stopping."""
    assert (compiled.epochs_run, compiled.stopped_early, compiled.best_epoch) == (
        reference.epochs_run,
        reference.stopped_early,
        reference.best_epoch,
    )
    got, expected = compiled.network.parameters, reference.network.parameters
    assert got.layer_sizes == expected.layer_sizes
    for a, b in zip(
        (*got.weights, *got.biases), (*expected.weights, *expected.biases), strict=True
    ):
        np.testing.assert_allclose(a, b, rtol=0, atol=PARITY)
    # Losses near 0 are a difference of two sums of hundreds, which each engine adds in its own
    # order: they agree to 1e-12 absolutely, not relatively.
    np.testing.assert_allclose(compiled.loss_history, reference.loss_history, rtol=0, atol=PARITY)
    for mine, theirs in (
        (compiled.validation_loss_history, reference.validation_loss_history),
        (compiled.validation_accuracy_history, reference.validation_accuracy_history),
    ):
        assert (mine is None) == (theirs is None)
        if mine is not None and theirs is not None:
            np.testing.assert_allclose(mine, theirs, rtol=0, atol=PARITY)
    # Accuracies are counts of points over n: both engines must count the very same points.
    assert compiled.accuracy_history is not None
    assert reference.accuracy_history is not None
    np.testing.assert_array_equal(compiled.accuracy_history, reference.accuracy_history)
    # The run moved the parameters, so the match above is not a trivial one.
    assert reference.loss_history[0] - reference.loss_history[-1] > 1e-3
    assert len(np.unique(reference.accuracy_history)) > 1


def both_engines(
    config: TrainingConfig, dataset: Dataset, validation: Dataset | None = None
) -> tuple[TrainingResult, TrainingResult]:
    return (
        train(config, dataset, validation, engine="compiled"),
        train(config, dataset, validation, engine="numpy"),
    )


def test_the_kernel_is_built_and_the_default_here() -> None:
    # The package's build compiles the kernel on this machine; make run and the image use it.
    assert kernel_available()
    assert os.environ.get(ENGINE_VARIABLE) is None
    assert default_engine() == "compiled"


@pytest.mark.parametrize("penalties", PENALTIES, ids=str)
@pytest.mark.parametrize("batch_size", BATCH_SIZES, ids=str)
@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_every_activation_optimizer_batch_size_and_penalty_match(
    moons: Dataset,
    activation: str,
    optimizer: str,
    batch_size: int | None,
    penalties: tuple[float, float],
) -> None:
    # Depth and features vary across the cases too, so every one of each is met.
    l2, l1 = penalties
    case = case_number(activation, optimizer, batch_size, l2)
    config = TrainingConfig(
        hidden_layers=DEPTHS[case % len(DEPTHS)],
        features=FEATURE_SETS[(case // len(DEPTHS)) % len(FEATURE_SETS)],
        activation=activation,
        optimizer=optimizer,
        learning_rate=LEARNING_RATES[optimizer],
        batch_size=batch_size,
        l2=l2,
        l1=l1,
        init="he",
        epochs=60,
        seed=case,
    )
    assert_same_run(*both_engines(config, moons))


def case_number(*values: object) -> int:
    """A small stable number for a case, so each case draws its own seed, depth and features."""
    return sum(ord(character) for character in repr(values))


@pytest.mark.parametrize(
    ("hidden_layers", "features"), list(itertools.product(DEPTHS, FEATURE_SETS)), ids=str
)
def test_every_depth_and_feature_set_match(
    moons: Dataset, hidden_layers: tuple[int, ...], features: tuple[str, ...]
) -> None:
    config = TrainingConfig(
        hidden_layers=hidden_layers, features=features, init="glorot", epochs=150, l2=0.1
    )
    assert_same_run(*both_engines(config, moons))


def test_deep_and_wide_networks_match(moons: Dataset) -> None:
    config = TrainingConfig(
        hidden_layers=(16, 9, 12, 7, 5),
        activation="tanh",
        optimizer="adam",
        init="glorot",
        learning_rate=0.01,
        epochs=80,
        batch_size=32,
    )
    assert_same_run(*both_engines(config, moons))


def test_the_tutorial_run_matches_over_20000_epochs() -> None:
    blobs = generate("blobs", n_samples=200, noise=0.2, seed=42)
    assert_same_run(*both_engines(TrainingConfig(), blobs))


@pytest.mark.parametrize("batch_size", [None, 20], ids=str)
@pytest.mark.parametrize("restore_best", [True, False])
def test_validation_and_early_stopping_match(
    moons: Dataset, batch_size: int | None, restore_best: bool
) -> None:
    train_set, validation_set = train_validation_split(moons, 0.3, seed=1)
    config = TrainingConfig(
        hidden_layers=(6,),
        optimizer="momentum",
        learning_rate=0.3,
        batch_size=batch_size,
        epochs=3000,
        early_stopping=EarlyStopping(patience=15, restore_best=restore_best),
    )
    compiled, reference = both_engines(config, train_set, validation_set)
    assert reference.stopped_early
    assert_same_run(compiled, reference)


@pytest.mark.parametrize("batch_size", [None, 300], ids=str)
def test_batches_and_validation_sets_of_several_kernel_tiles_match(batch_size: int | None) -> None:
    # The kernel works through 256 points at a time; these span several tiles, unevenly.
    circles = generate("circles", n_samples=1500, noise=0.1, seed=4)
    train_set, validation_set = train_validation_split(circles, 0.4, seed=2)
    config = TrainingConfig(
        hidden_layers=(7, 3),
        features=("x1", "x2", "x1^2", "x2^2"),
        activation="sigmoid",
        optimizer="adam",
        learning_rate=0.02,
        batch_size=batch_size,
        l1=0.05,
        init="glorot",
        epochs=40,
    )
    assert validation_set is not None
    assert (len(train_set), len(validation_set)) == (900, 600)
    assert_same_run(*both_engines(config, train_set, validation_set))


@pytest.mark.parametrize("batch_size", [None, 30], ids=str)
def test_divergence_is_reported_at_the_same_epoch(moons: Dataset, batch_size: int | None) -> None:
    config = TrainingConfig(learning_rate=1e5, batch_size=batch_size, init="he", epochs=500)
    errors = []
    for engine in ("compiled", "numpy"):
        with pytest.raises(TrainingDiverged) as error:
            train(config, moons, engine=engine)
        errors.append(str(error.value))
    assert errors[0] == errors[1]


@pytest.mark.parametrize("batch_size", [None, 40], ids=str)
@pytest.mark.parametrize("engine", ["compiled", "numpy"])
def test_a_logit_too_small_to_move_the_probability_off_one_half_predicts_class_0(
    moons: Dataset, engine: str, batch_size: int | None
) -> None:
    # Zero weights: every point's logit is the output bias. sigmoid(1e-17) rounds to exactly
    # 0.5, which is not above the threshold; sigmoid(1e-15) is 0.5 plus two ulps.
    lopsided = moons.subset(np.argsort(moons.labels, kind="stable")[:70])  # 45 zeros, 25 ones
    ones = int(np.count_nonzero(lopsided.labels))
    assert (len(lopsided), ones) == (70, 25)
    as_zeros, as_ones = (70 - ones) / 70, ones / 70
    expected = {1e-17: as_zeros, 1e-15: as_ones, 0.0: as_zeros, -1e-15: as_zeros}
    for bias, accuracy in expected.items():
        start = Parameters(weights=(np.zeros((2, 1)),), biases=(np.array([bias]),))
        config = TrainingConfig(
            hidden_layers=(), learning_rate=1e-300, epochs=2, batch_size=batch_size
        )
        result = train(config, lopsided, initial_parameters=start, engine=engine)
        assert result.accuracy_history is not None
        np.testing.assert_array_equal(result.accuracy_history, [accuracy, accuracy])


def test_progress_and_cancellation_still_reach_the_caller_between_chunks(moons: Dataset) -> None:
    seen: list[int] = []
    result = train(
        TrainingConfig(epochs=4000),
        moons,
        on_progress=lambda p: seen.append(p.epoch),
        progress_interval=0.0,
        engine="compiled",
    )
    assert seen[-1] == result.epochs_run == 4000
    assert seen == sorted(set(seen))
    assert len(seen) > 100  # with no interval to wait for, chunks stay small


def test_an_unknown_engine_and_a_network_too_deep_for_the_kernel_are_refused(
    moons: Dataset,
) -> None:
    with pytest.raises(ConfigError, match="engine: unknown engine 'fortran'"):
        train(TrainingConfig(epochs=1), moons, engine="fortran")
    deep = TrainingConfig(hidden_layers=(2,) * MAX_KERNEL_LAYERS, epochs=2)
    with pytest.raises(ConfigError, match="engine: the kernel holds at most"):
        train(deep, moons, engine="compiled")
    # Left to choose, such a network trains on NumPy.
    assert train(deep, moons).epochs_run == 2


FALLBACK_SCRIPT = textwrap.dedent(
    """
    import json, sys
    {prelude}
    from core.compiled import default_engine, kernel_available
    from core.generators import generate
    from core.training import TrainingConfig, train

    moons = generate("moons", n_samples=90, noise=0.2, seed=7)
    result = train(TrainingConfig(epochs=300, features=("x1", "x2^2")), moons)
    print(json.dumps({{
        "available": kernel_available(),
        "default": default_engine(),
        "parameters": [w.tolist() for w in result.network.parameters.weights],
        "loss": result.loss_history.tolist(),
        "accuracy": result.accuracy_history.tolist(),
    }}))
    """
)


def run_elsewhere(prelude: str, environment: dict[str, str]) -> dict[str, object]:
    """Train in a fresh interpreter; what it reports as JSON."""
    import json  # noqa: PLC0415

    completed = subprocess.run(
        [sys.executable, "-c", FALLBACK_SCRIPT.format(prelude=prelude)],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **environment},
        timeout=60,
    )
    report: dict[str, object] = json.loads(completed.stdout)
    return report


@pytest.mark.parametrize(
    ("prelude", "environment", "available"),
    [
        ("", {ENGINE_VARIABLE: "numpy"}, True),
        # An installation where the kernel was not compiled: its import fails.
        ("sys.modules['core._kernel'] = None", {}, False),
    ],
    ids=["turned-off", "not-built"],
)
def test_the_numpy_engine_is_the_fallback(
    moons: Dataset, prelude: str, environment: dict[str, str], available: bool
) -> None:
    report = run_elsewhere(prelude, environment)
    assert report["available"] is available
    assert report["default"] == "numpy"
    compiled = train(TrainingConfig(epochs=300, features=("x1", "x2^2")), moons, engine="compiled")
    weights = report["parameters"]
    assert isinstance(weights, list)
    for got, expected in zip(weights, compiled.network.parameters.weights, strict=True):
        np.testing.assert_allclose(got, expected, rtol=0, atol=PARITY)
    losses = report["loss"]
    assert isinstance(losses, list)
    np.testing.assert_allclose(losses, compiled.loss_history, rtol=0, atol=PARITY)
    assert compiled.accuracy_history is not None
    assert report["accuracy"] == compiled.accuracy_history.tolist()

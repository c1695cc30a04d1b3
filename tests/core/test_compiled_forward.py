"""The compiled forward pass (predictions) against NumPy's, its reference: within 1e-12, and the
same probability for a point whatever batch it comes in."""

from typing import Any

import numpy as np
import pytest

from core import _kernel
from core.activations import ACTIVATIONS, LEAKY_RELU_SLOPE
from core.compiled import ENGINE_VARIABLE
from core.losses import sigmoid
from core.network import Network
from core.parameters import Parameters, make_parameters

PARITY = 1e-12
DEPTHS = [(), (5,), (4, 3), (16, 16, 8)]
FEATURE_SETS = [
    ("x1", "x2"),
    ("x1^2", "x2^2", "x1*x2"),
    ("sin(x1)", "x2", "x1"),
    ("x1", "x2", "x1^2", "x2^2", "x1*x2", "sin(x1)", "sin(x2)"),
]
# A batch of one, tiles of 256 points cut at every edge, and a batch the GIL is released for.
BATCH_SIZES = [1, 255, 256, 257, 3000]


def random_network(
    hidden_layers: tuple[int, ...], activation: str, features: tuple[str, ...], seed: int = 0
) -> Network:
    """Random parameters whose output bias puts the boundary through the middle of the test
    points, from the first seed on where both classes are well represented (a seed whose
    ReLUs all die is passed over)."""
    sizes = (len(features), *hidden_layers, 1)
    for attempt in range(seed, seed + 20):
        rng = np.random.default_rng(attempt)
        weights = [rng.normal(size=(sizes[i], sizes[i + 1])) for i in range(len(sizes) - 1)]
        biases = [rng.normal(scale=0.3, size=sizes[i + 1]) for i in range(len(sizes) - 1)]
        logits = Network(make_parameters(weights, biases), activation, features).logits(points(500))
        biases[-1] = biases[-1] - np.median(logits)
        if 0.2 < float(np.mean(logits - np.median(logits) > 0)) < 0.8:
            return Network(make_parameters(weights, biases), activation, features)
    raise AssertionError("no seed gives a network predicting both classes")


def numpy_probabilities(network: Network, points: np.ndarray) -> np.ndarray:
    """The NumPy engine's probabilities: the sigmoid of NumPy's logits."""
    with np.errstate(over="ignore", invalid="ignore"):
        return sigmoid(network.logits(points))


def points(n: int, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).normal(scale=2.0, size=(n, 2))


def test_predictions_are_compiled_here() -> None:
    assert random_network((4,), "relu", ("x1", "x2"))._compiled


@pytest.mark.parametrize("features", FEATURE_SETS, ids=str)
@pytest.mark.parametrize("hidden_layers", DEPTHS, ids=str)
@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_every_activation_depth_and_feature_set_match_numpy(
    activation: str, hidden_layers: tuple[int, ...], features: tuple[str, ...]
) -> None:
    network = random_network(hidden_layers, activation, features)
    batch = points(500)
    compiled = network.predict_proba(batch)
    reference = numpy_probabilities(network, batch)
    np.testing.assert_allclose(compiled, reference, rtol=0, atol=PARITY)
    assert 0.05 < float(np.mean(compiled > 0.5)) < 0.95  # both classes: a real comparison
    # classify gives the very same numbers, as lists, and labels above the threshold.
    for threshold in (0.5, 0.3):
        labels, probabilities, first_undefined = network.classify(
            [tuple(point) for point in batch.tolist()], threshold
        )
        assert probabilities == compiled.tolist()
        assert labels == (compiled > threshold).astype(np.int64).tolist()
        assert first_undefined == -1


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_a_point_gets_the_same_probability_in_any_batch(activation: str) -> None:
    network = random_network((16, 8), activation, ("x1", "x2", "sin(x1)"))
    largest = points(max(BATCH_SIZES))
    alone = np.array([network.predict_proba(largest[i : i + 1])[0] for i in range(300)])
    for size in BATCH_SIZES:
        batch = network.predict_proba(largest[:size])
        common = min(size, alone.size)
        np.testing.assert_array_equal(batch[:common], alone[:common])
        _, listed, _ = network.classify([tuple(point) for point in largest[:size].tolist()])
        assert listed == batch.tolist()


def overflowing_network() -> Network:
    """Hidden units that overflow to infinity for x1 > 1, which the output then subtracts:
    inf - inf, no probability at all."""
    parameters = make_parameters(
        [[[1e308, 1e308], [0.0, 0.0]], [[1.0], [-1.0]]], [[0.0, 0.0], [0.0]]
    )
    return Network(parameters, "relu")


def test_points_the_network_cannot_evaluate_are_named() -> None:
    network = overflowing_network()
    batch = np.array([[0.5, 0.0], [-3.0, 1.0], [5.0, 0.0], [7.0, 1.0]])
    compiled = network.predict_proba(batch)
    reference = numpy_probabilities(network, batch)
    np.testing.assert_array_equal(np.isnan(compiled), [False, False, True, True])
    np.testing.assert_array_equal(np.isnan(reference), np.isnan(compiled))
    np.testing.assert_allclose(compiled[:2], reference[:2], rtol=0, atol=PARITY)
    labels, probabilities, first_undefined = network.classify([tuple(p) for p in batch.tolist()])
    assert first_undefined == 2
    assert labels[2:] == [0, 0]  # NaN is not above any threshold
    assert np.isnan(probabilities[2])


def test_logits_beyond_the_floats_range_give_probabilities_of_0_and_1() -> None:
    parameters = make_parameters([[[1e300], [0.0]], [[1e300]]], [[0.0], [0.0]])
    network = Network(parameters, "identity")
    batch = np.array([[1e5, 0.0], [-1e5, 0.0]])
    np.testing.assert_array_equal(network.predict_proba(batch), [1.0, 0.0])
    np.testing.assert_array_equal(numpy_probabilities(network, batch), [1.0, 0.0])


def test_the_numpy_engine_predicts_when_the_kernel_is_turned_off(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    compiled = random_network((4, 3), "tanh", ("x1", "x2^2"))
    monkeypatch.setenv(ENGINE_VARIABLE, "numpy")
    fallback = Network(compiled.parameters, "tanh", ("x1", "x2^2"))
    assert not fallback._compiled
    batch = points(50)
    np.testing.assert_allclose(
        fallback.predict_proba(batch), compiled.predict_proba(batch), rtol=0, atol=PARITY
    )
    _, probabilities, first_undefined = fallback.classify([tuple(p) for p in batch.tolist()])
    np.testing.assert_allclose(probabilities, compiled.predict_proba(batch), rtol=0, atol=PARITY)
    assert first_undefined == -1
    nan_labels, _, nan_first = Network(overflowing_network().parameters).classify(
        [(0.0, 0.0), (5.0, 0.0)]
    )
    assert (nan_labels, nan_first) == ([0, 0], 1)


def test_parameters_the_kernel_cannot_read_in_place_are_predicted_by_numpy() -> None:
    network = random_network((5,), "relu", ("x1", "x2"))
    weights = tuple(np.asfortranarray(w) for w in network.parameters.weights)
    transposed = Network(Parameters(weights, network.parameters.biases), "relu")
    assert not transposed._compiled
    batch = points(40)
    np.testing.assert_allclose(
        transposed.predict_proba(batch), network.predict_proba(batch), rtol=0, atol=PARITY
    )


def kernel_arguments(network: Network) -> list[Any]:
    """The network arguments the kernel's functions start with."""
    parameters = network.parameters
    return [parameters.weights, parameters.biases, "relu", LEAKY_RELU_SLOPE, network.features]


def kernel_probabilities(network_arguments: list[Any], points: Any, out: Any) -> None:
    _kernel.probabilities(*[*network_arguments, points, out])


def kernel_classify(network_arguments: list[Any], points: Any) -> Any:
    return _kernel.classify(*[*network_arguments, points, 0.5])


@pytest.mark.parametrize(
    ("change", "error", "message"),
    [
        ({2: "swish"}, ValueError, "unknown activation 'swish'"),
        ({4: ("x1", "x3")}, ValueError, "unknown feature 'x3'"),
        ({4: ("x1",)}, ValueError, "layer 0: weights must be"),
        ({0: ()}, ValueError, "expected 1 to 65 layers"),
        ({0: [np.zeros((2, 4))]}, TypeError, "expected tuples"),
        ({1: (np.zeros(4), np.zeros(2))}, ValueError, "layer 1: weights must be"),
        ({0: (np.zeros((2, 4), dtype=np.float32), np.zeros((4, 1)))}, TypeError, "float64"),
        ({1: (np.zeros((1, 4)), np.zeros(1))}, ValueError, "layer 0: weights must be"),
    ],
)
def test_the_kernel_refuses_a_network_it_cannot_read(
    change: dict[int, object], error: type[Exception], message: str
) -> None:
    arguments = kernel_arguments(random_network((4,), "relu", ("x1", "x2")))
    for index, value in change.items():
        arguments[index] = value
    out = np.empty(3)
    with pytest.raises(error, match=message):
        kernel_probabilities(arguments, points(3), out)
    with pytest.raises(error, match=message):
        kernel_classify(arguments, [(0.0, 1.0)])


def test_the_kernel_refuses_points_it_cannot_read() -> None:
    arguments = kernel_arguments(random_network((4,), "relu", ("x1", "x2")))
    for wrong_points, wrong_out in [
        (points(3), np.empty(4)),
        (points(3).T.copy(), np.empty(3)),  # feature-major (2, n), as training keeps them
        (points(3).reshape(-1), np.empty(3)),
        (points(3), np.empty((3, 1))),
    ]:
        with pytest.raises(ValueError, match=r"points must be \(n, 2\) and out \(n,\)"):
            kernel_probabilities(arguments, wrong_points, wrong_out)
    with pytest.raises((TypeError, ValueError), match="contiguous"):
        kernel_probabilities(arguments, points(6)[::2], np.empty(3))
    with pytest.raises(TypeError, match=r"points\[1\]: expected a tuple"):
        kernel_classify(arguments, [(0.0, 1.0), [0.0, 1.0]])
    with pytest.raises(TypeError, match="must be real number"):
        kernel_classify(arguments, [(0.0, "1")])
    assert kernel_classify(arguments, []) == ([], [], -1)


def unaligned(array: np.ndarray) -> np.ndarray:
    """A copy of ``array`` one byte off the alignment of float64."""
    raw = np.frombuffer(bytearray(b"\0" + array.tobytes()), dtype=np.float64, offset=1)
    copy = raw.reshape(array.shape)
    assert not copy.flags.aligned
    return copy


def test_unaligned_parameters_and_points_are_predicted_all_the_same() -> None:
    network = random_network((5,), "relu", ("x1", "x2"))
    weights = tuple(unaligned(w) for w in network.parameters.weights)
    shifted = Network(Parameters(weights, network.parameters.biases), "relu")
    assert not shifted._compiled  # NumPy reads what the kernel cannot
    batch = points(40)
    expected = network.predict_proba(batch)
    np.testing.assert_allclose(shifted.predict_proba(batch), expected, rtol=0, atol=PARITY)
    np.testing.assert_array_equal(network.predict_proba_of_valid(unaligned(batch)), expected)


def test_numbers_whose_conversion_changes_the_callers_list_cannot_break_the_kernel() -> None:
    network = random_network((4,), "relu", ("x1", "x2"))
    pairs: list[tuple[object, float]] = []

    class Meddling:
        def __float__(self) -> float:
            pairs.clear()  # frees the caller's pairs while the kernel reads them
            return 1.0

    pairs += [(Meddling(), 2.0)] + [(1.0, 1.0)] * 1000
    labels, probabilities, _ = network.classify(pairs)  # type: ignore[arg-type]
    assert len(labels) == len(probabilities) == 1001
    assert probabilities[1:] == [network.predict_proba([[1.0, 1.0]])[0]] * 1000

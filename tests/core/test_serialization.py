"""Tests of parameter and array (de)serialization: JSON dicts and npz bytes, never pickle."""

import io
import itertools
import json
import pickle
import zipfile
from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray

from core.errors import ParameterError
from core.parameters import Parameters, make_parameters
from core.serialization import (
    arrays_from_bytes,
    arrays_to_bytes,
    parameters_from_bytes,
    parameters_from_dict,
    parameters_to_bytes,
    parameters_to_dict,
)

ARCHITECTURES = [(), (4,), (16, 8), (3, 3, 3), (64,)]


def _parameters(hidden_layers: tuple[int, ...], seed: int = 0) -> Parameters:
    """Random parameters with awkward floats: tiny, huge, subnormal, negative zero."""
    rng = np.random.default_rng(seed)
    sizes = (2, *hidden_layers, 1)
    weights = [
        rng.normal(size=(a, b)) * 10.0 ** rng.integers(-8, 8) for a, b in itertools.pairwise(sizes)
    ]
    biases = [rng.normal(size=b) / 3.0 for b in sizes[1:]]
    weights[0][0, 0] = 5e-324
    weights[0][1, 0] = -0.0
    biases[-1][0] = 1.7976931348623157e308
    return make_parameters(weights, biases)


def _bits(parameters: Parameters) -> list[NDArray[np.uint64]]:
    return [array.view(np.uint64) for array in (*parameters.weights, *parameters.biases)]


def _assert_bit_identical(actual: Parameters, expected: Parameters) -> None:
    assert actual.equals(expected)
    for a, b in zip(_bits(actual), _bits(expected), strict=True):
        np.testing.assert_array_equal(a, b)
    assert all(array.dtype == np.float64 for array in (*actual.weights, *actual.biases))


def _npz(**arrays: Any) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


# --- dicts --------------------------------------------------------------------------------


@pytest.mark.parametrize("hidden_layers", ARCHITECTURES)
def test_dict_round_trip_through_json_is_bit_identical(hidden_layers: tuple[int, ...]) -> None:
    parameters = _parameters(hidden_layers)
    text = json.dumps(parameters_to_dict(parameters), allow_nan=False)
    _assert_bit_identical(parameters_from_dict(json.loads(text)), parameters)


def test_dict_has_the_shape_initial_parameters_takes() -> None:
    parameters = _parameters((4, 3))
    as_dict = parameters_to_dict(parameters)
    assert set(as_dict) == {"weights", "biases"}
    sizes = (2, 4, 3, 1)
    for i, (weight, bias) in enumerate(zip(as_dict["weights"], as_dict["biases"], strict=True)):
        assert len(weight) == sizes[i]
        assert all(len(row) == sizes[i + 1] for row in weight)
        assert all(type(value) is float for row in weight for value in row)
        assert len(bias) == sizes[i + 1]
        assert all(type(value) is float for value in bias)
        assert weight == parameters.weights[i].tolist()


def test_dict_accepts_integers_and_tuples() -> None:
    parameters = parameters_from_dict(
        {"weights": ([[1, 2], [3, 4]], [[5], [6.5]]), "biases": [(0, 0), [1]]}
    )
    np.testing.assert_array_equal(parameters.weights[0], [[1.0, 2.0], [3.0, 4.0]])
    assert parameters.layer_sizes == (2, 2, 1)


TUTORIAL_SHAPED = {
    "weights": [[[0.1, 0.2, 0.3, 0.4], [0.5, 0.6, 0.7, 0.8]], [[1.0], [2.0], [3.0], [4.0]]],
    "biases": [[0.0, 0.0, 0.0, 0.0], [0.0]],
}


def _with(path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    """A deep copy of TUTORIAL_SHAPED with the item at ``path`` replaced by ``value``."""
    copy: dict[str, Any] = json.loads(json.dumps(TUTORIAL_SHAPED))
    target: Any = copy
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return copy


@pytest.mark.parametrize(
    ("obj", "field"),
    [
        (None, "parameters"),
        ([], "parameters"),
        ("weights", "parameters"),
        ({"weights": TUTORIAL_SHAPED["weights"]}, "missing biases"),
        ({**TUTORIAL_SHAPED, "activation": "relu"}, "unexpected activation"),
        (_with(("weights",), "[[1]]"), "weights"),
        (_with(("biases",), {"0": [0.0]}), "biases"),
        (_with(("weights", 0), [0.1, 0.2]), r"weights\[0\]"),
        (_with(("weights", 0, 1, 2), "0.7"), r"weights\[0\]\[1\]\[2\]"),
        (_with(("weights", 1, 3, 0), True), r"weights\[1\]\[3\]\[0\]"),
        (_with(("biases", 0, 2), None), r"biases\[0\]\[2\]"),
        (_with(("biases", 1), 0.0), r"biases\[1\]"),
        (_with(("biases", 1, 0), 10**400), r"biases\[1\]\[0\]"),
        (_with(("weights", 0, 1), [0.5, 0.6, 0.7]), r"weights\[0\]"),
        (_with(("weights", 1), [[1.0], [2.0], [3.0]]), r"weights\[1\]"),
        (_with(("weights", 1, 2), [3.0, 3.5]), r"weights\[1\]"),
        (_with(("biases", 0), [0.0, 0.0, 0.0]), r"biases\[0\]"),
        (_with(("biases",), [[0.0, 0.0, 0.0, 0.0]]), "biases"),
        (_with(("weights", 0, 0, 0), float("nan")), r"weights\[0\]"),
        (_with(("biases", 1, 0), float("inf")), r"biases\[1\]"),
        (_with(("weights",), []), "weights"),
    ],
)
def test_malformed_dicts_are_refused_naming_the_field(obj: Any, field: str) -> None:
    with pytest.raises(ParameterError, match=field):
        parameters_from_dict(obj)


# --- bytes --------------------------------------------------------------------------------


@pytest.mark.parametrize("hidden_layers", ARCHITECTURES)
def test_bytes_round_trip_is_bit_identical(hidden_layers: tuple[int, ...]) -> None:
    parameters = _parameters(hidden_layers, seed=len(hidden_layers))
    data = parameters_to_bytes(parameters)
    assert isinstance(data, bytes)
    _assert_bit_identical(parameters_from_bytes(data), parameters)
    assert parameters_to_bytes(parameters) == data  # equal parameters, equal bytes


def test_bytes_are_a_standard_compact_npz() -> None:
    parameters = _parameters((4,))
    data = parameters_to_bytes(parameters)
    with np.load(io.BytesIO(data), allow_pickle=False) as archive:
        assert sorted(archive.files) == ["bias_0", "bias_1", "weight_0", "weight_1"]
        np.testing.assert_array_equal(archive["weight_1"], parameters.weights[1])
    # 17 float64 values plus headers: far below a kilobyte and a half.
    assert len(data) < 1500


def test_parameters_saved_by_numpy_itself_load() -> None:
    parameters = _parameters((5,))
    data = _npz(
        weight_0=parameters.weights[0],
        bias_0=parameters.biases[0],
        weight_1=parameters.weights[1],
        bias_1=parameters.biases[1],
    )
    _assert_bit_identical(parameters_from_bytes(data), parameters)


def _valid_bytes() -> bytes:
    return parameters_to_bytes(_parameters((4,)))


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param(pickle.dumps(_parameters((4,))), id="pickled-parameters"),
        pytest.param(pickle.dumps({"weight_0": np.zeros((2, 1))}), id="pickled-dict"),
        pytest.param(
            _npz(weight_0=np.array([[1.0], [2.0]]), bias_0=np.array([0.0, None], dtype=object)),
            id="object-array",
        ),
        pytest.param(b"", id="empty"),
        pytest.param(np.random.default_rng(1).bytes(900), id="random"),
        pytest.param(b"PK\x03\x04" + np.random.default_rng(2).bytes(400), id="random-zip"),
        pytest.param(b'{"weights": [], "biases": []}', id="json"),
    ],
)
def test_foreign_content_is_refused(payload: bytes) -> None:
    with pytest.raises(ParameterError, match="encoded"):
        parameters_from_bytes(payload)
    with pytest.raises(ParameterError, match="encoded"):
        arrays_from_bytes(payload)


def test_every_truncation_is_refused() -> None:
    data = _valid_bytes()
    for length in range(len(data)):
        with pytest.raises(ParameterError):
            parameters_from_bytes(data[:length])


def test_a_single_npy_array_is_refused() -> None:
    buffer = io.BytesIO()
    np.save(buffer, np.zeros((2, 1)))
    with pytest.raises(ParameterError, match="single array"):
        arrays_from_bytes(buffer.getvalue())


def test_damaged_compressed_data_is_refused() -> None:
    data = bytearray(arrays_to_bytes({"loss": np.linspace(1.0, 0.0, 2000)}))
    # Flip bytes inside the compressed member, past its local header.
    header_end = 30 + len("loss.npy") + 20
    for offset in range(header_end, header_end + 40):
        damaged = bytearray(data)
        damaged[offset] ^= 0xFF
        with pytest.raises(ParameterError):
            arrays_from_bytes(bytes(damaged))


def test_non_npy_members_are_refused() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("weight_0.npy", _npz_member(np.zeros((2, 1))))
        archive.writestr("notes.txt", "hello")
    with pytest.raises(ParameterError, match=r"notes\.txt"):
        arrays_from_bytes(buffer.getvalue())


def _npz_member(array: NDArray[Any]) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


@pytest.mark.parametrize(
    "arrays",
    [
        {"weight_0": np.zeros((2, 1))},
        {"weight_0": np.zeros((2, 1)), "bias_0": np.zeros(1), "bias_1": np.zeros(1)},
        {"weight_0": np.zeros((2, 1)), "bias_0": np.zeros(1), "scale": np.ones(1)},
        {"weight_1": np.zeros((2, 1)), "bias_1": np.zeros(1)},
        {"bias_0": np.zeros(1)},
        {},
    ],
)
def test_missing_or_extra_parameter_arrays_are_refused(arrays: dict[str, Any]) -> None:
    with pytest.raises(ParameterError, match="weight_i and bias_i"):
        parameters_from_bytes(_npz(**arrays))


def test_wrong_shapes_in_bytes_are_refused() -> None:
    data = _npz(weight_0=np.zeros((2, 2)), bias_0=np.zeros(2))  # two outputs, not one
    with pytest.raises(ParameterError, match=r"weights\[0\]"):
        parameters_from_bytes(data)


def test_a_first_layer_over_more_input_features_round_trips() -> None:
    rng = np.random.default_rng(3)
    parameters = make_parameters(
        [rng.normal(size=(5, 3)), rng.normal(size=(3, 1))], [rng.normal(size=3), np.zeros(1)]
    )
    _assert_bit_identical(parameters_from_bytes(parameters_to_bytes(parameters)), parameters)
    _assert_bit_identical(parameters_from_dict(parameters_to_dict(parameters)), parameters)


@pytest.mark.parametrize(
    "array",
    [np.array(["a", "b"]), np.zeros(2, dtype=[("x", "f8")]), np.array([1 + 2j])],
    ids=["text", "structured", "complex"],
)
def test_non_numeric_arrays_are_refused_both_ways(array: NDArray[Any]) -> None:
    with pytest.raises(ParameterError, match="dtype"):
        arrays_from_bytes(_npz(values=array))
    with pytest.raises(ParameterError, match="dtype"):
        arrays_to_bytes({"values": array})


def test_object_arrays_cannot_be_written() -> None:
    with pytest.raises(ParameterError, match="values"):
        arrays_to_bytes({"values": np.array([1, None], dtype=object)})


@pytest.mark.parametrize("name", ["", "a/b"])
def test_bad_array_names_are_refused(name: str) -> None:
    with pytest.raises(ParameterError, match="name"):
        arrays_to_bytes({name: np.zeros(2)})


def test_arrays_round_trip_keeps_values_dtypes_and_shapes() -> None:
    rng = np.random.default_rng(3)
    arrays: dict[str, NDArray[Any]] = {
        "loss_history": rng.random(20_000),
        "validation_loss_history": rng.random(20_000),
        "points": rng.normal(size=(300, 2)),
        "labels": rng.integers(0, 2, size=300),
        "empty": np.zeros(0),
        "flags": np.array([True, False]),
        "file": np.arange(3, dtype=np.int32),
        "allow_pickle": np.array(2.5),
    }
    loaded = arrays_from_bytes(arrays_to_bytes(arrays))
    assert set(loaded) == set(arrays)
    for name, array in arrays.items():
        assert loaded[name].dtype == array.dtype, name
        assert loaded[name].shape == array.shape, name
        np.testing.assert_array_equal(loaded[name], array)


def test_bytes_input_of_the_wrong_type_is_refused() -> None:
    with pytest.raises(ParameterError, match="bytes"):
        arrays_from_bytes("PK not bytes")  # type: ignore[arg-type]
    data = _valid_bytes()
    _assert_bit_identical(parameters_from_bytes(bytearray(data)), parameters_from_bytes(data))

"""Parameters and arrays to and from JSON-able dicts and compact npz bytes, never pickle."""

import io
import zipfile
from collections.abc import Mapping
from numbers import Real
from typing import Any, TypeGuard

import numpy as np
from numpy.typing import ArrayLike, NDArray

from core.errors import ParameterError
from core.parameters import Parameters, make_parameters

PARAMETER_KEYS = frozenset({"weights", "biases"})
NUMERIC_KINDS = frozenset("biuf")
NPY_SUFFIX = ".npy"
FIXED_TIMESTAMP = (1980, 1, 1, 0, 0, 0)


def parameters_to_dict(parameters: Parameters) -> dict[str, list[Any]]:
    """``{"weights": [...], "biases": [...]}`` as nested lists of floats, exactly as sent over HTTP.

    ``weights[i]`` is a fan_in x fan_out list of rows and ``biases[i]`` a list of fan_out
    numbers. Floats are not rounded: ``json.dumps`` writes the shortest text that reads back
    to the same float, so a JSON round trip is bit-identical.
    """
    return {
        "weights": [weight.tolist() for weight in parameters.weights],
        "biases": [bias.tolist() for bias in parameters.biases],
    }


def parameters_from_dict(obj: object) -> Parameters:
    """Validated :class:`Parameters` from a dict shaped like :func:`parameters_to_dict`'s.

    Checks the structure (a mapping with exactly the keys ``weights`` and ``biases``, lists
    of lists of numbers; booleans and strings are not numbers) and leaves the shape and value
    checks to :func:`core.parameters.make_parameters`. Raises :class:`ParameterError` naming
    the offending field.
    """
    if not isinstance(obj, Mapping):
        raise ParameterError(
            f"parameters: expected an object with keys weights and biases, got {_kind(obj)}"
        )
    keys = set(obj)
    if keys != PARAMETER_KEYS:
        missing = sorted(PARAMETER_KEYS - keys)
        extra = sorted(str(key) for key in keys - PARAMETER_KEYS)
        problems = [f"missing {', '.join(missing)}"] if missing else []
        problems += [f"unexpected {', '.join(extra)}"] if extra else []
        raise ParameterError(
            f"parameters: expected exactly the keys biases and weights ({'; '.join(problems)})"
        )
    weights, biases = obj["weights"], obj["biases"]
    for name, layers, depth in (("weights", weights, 2), ("biases", biases, 1)):
        if not _is_list(layers):
            raise ParameterError(f"{name}: expected a list with one entry per layer")
        for index, layer in enumerate(layers):
            _check_numbers(layer, depth, f"{name}[{index}]")
    return make_parameters(weights, biases)


def parameters_to_bytes(parameters: Parameters) -> bytes:
    """Compressed npz bytes holding ``weight_0``, ``bias_0``, ``weight_1``, ... as float64."""
    arrays: dict[str, ArrayLike] = {}
    for index, (weight, bias) in enumerate(zip(parameters.weights, parameters.biases, strict=True)):
        arrays[f"weight_{index}"] = weight
        arrays[f"bias_{index}"] = bias
    return arrays_to_bytes(arrays)


def parameters_from_bytes(data: bytes | bytearray | memoryview) -> Parameters:
    """The :class:`Parameters` stored by :func:`parameters_to_bytes`, bit-identical.

    Refuses anything else (malformed, truncated or pickled content, missing or extra
    arrays, wrong shapes) with :class:`ParameterError`.
    """
    arrays = arrays_from_bytes(data)
    n_layers = sum(name.startswith("weight_") for name in arrays)
    expected = {f"{kind}_{index}" for index in range(n_layers) for kind in ("weight", "bias")}
    if n_layers == 0 or set(arrays) != expected:
        missing = sorted(expected - set(arrays)) if n_layers else ["weight_0", "bias_0"]
        extra = sorted(set(arrays) - expected)
        raise ParameterError(
            "encoded parameters: expected arrays weight_i and bias_i for each layer i "
            f"(missing: {', '.join(missing) or 'none'}; unexpected: {', '.join(extra) or 'none'})"
        )
    return make_parameters(
        [arrays[f"weight_{index}"] for index in range(n_layers)],
        [arrays[f"bias_{index}"] for index in range(n_layers)],
    )


def arrays_to_bytes(arrays: Mapping[str, ArrayLike]) -> bytes:
    """Compressed npz bytes holding each named numeric array (e.g. a loss history).

    The archive is what ``np.savez_compressed`` writes (one ``name.npy`` member per array),
    built directly so that any name works and equal arrays give equal bytes (fixed member
    timestamps). Compression is lossless and was smaller at every realistic size measured,
    since npy headers are mostly padding.
    """
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, value in arrays.items():
            if not isinstance(name, str) or not name or "/" in name:
                raise ParameterError(f"array name {name!r}: must be a non-empty string without '/'")
            array = np.asarray(value)
            if not _is_plain_numeric(array):
                raise ParameterError(
                    f"{name}: only numeric arrays can be stored, got dtype {array.dtype}"
                )
            member = zipfile.ZipInfo(name + NPY_SUFFIX, date_time=FIXED_TIMESTAMP)
            member.compress_type = zipfile.ZIP_DEFLATED
            with archive.open(member, "w", force_zip64=True) as stream:
                np.lib.format.write_array(stream, array, allow_pickle=False)
    return buffer.getvalue()


def arrays_from_bytes(data: bytes | bytearray | memoryview) -> dict[str, NDArray[Any]]:
    """The named arrays stored by :func:`arrays_to_bytes`.

    Loads with ``allow_pickle=False`` and accepts only an npz archive of distinct ``.npy``
    members holding plain numeric arrays; anything else (random or truncated bytes, a
    pickle, object or structured dtypes) raises :class:`ParameterError`.
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        raise ParameterError(f"encoded arrays: expected bytes, got {_kind(data)}")
    try:
        arrays = _load_npz(bytes(data))
    except ParameterError:
        raise
    # The bytes may come from anywhere, and a damaged archive can fail in many ways
    # (zip, zlib, npy header, allocation); every one of them means "not valid content".
    except Exception as error:
        raise ParameterError(
            f"encoded arrays: not a valid npz archive ({type(error).__name__}: {error})"
        ) from None
    for name, array in arrays.items():
        if not _is_plain_numeric(array):
            raise ParameterError(f"encoded arrays: {name} has unsupported dtype {array.dtype}")
    return arrays


def _load_npz(data: bytes) -> dict[str, NDArray[Any]]:
    """Read every member of the npz archive ``data`` without ever unpickling."""
    loaded = np.load(io.BytesIO(data), allow_pickle=False)
    if not isinstance(loaded, np.lib.npyio.NpzFile):
        raise ParameterError("encoded arrays: expected an npz archive, got a single array")
    with loaded as archive:
        zip_file = archive.zip
        if zip_file is None:
            raise ParameterError("encoded arrays: the archive could not be opened")
        members = zip_file.namelist()
        if len(set(members)) != len(members):
            raise ParameterError("encoded arrays: the archive holds duplicate members")
        for member in members:
            if not member.endswith(NPY_SUFFIX):
                raise ParameterError(f"encoded arrays: unexpected member {member!r}")
        damaged = zip_file.testzip()
        if damaged is not None:
            raise ParameterError(f"encoded arrays: member {damaged!r} is damaged")
        return {name: archive[name] for name in archive.files}


def _check_numbers(value: object, depth: int, name: str) -> None:
    """Check that ``value`` is a list nested ``depth`` deep whose leaves are real numbers."""
    if not _is_list(value):
        expected = "a matrix (list of rows)" if depth == 2 else "a list of numbers"
        raise ParameterError(f"{name}: expected {expected}, got {_kind(value)}")
    for index, item in enumerate(value):
        if depth > 1:
            _check_numbers(item, depth - 1, f"{name}[{index}]")
        elif isinstance(item, bool) or not isinstance(item, Real):
            raise ParameterError(f"{name}[{index}]: expected a number, got {_kind(item)}")
        elif not isinstance(item, float):
            try:
                float(item)
            except OverflowError:
                raise ParameterError(f"{name}[{index}]: the number is too large") from None


def _is_plain_numeric(array: NDArray[Any]) -> bool:
    """True for boolean, integer and float arrays; False for object, structured, text, ..."""
    return array.dtype.kind in NUMERIC_KINDS and array.dtype.fields is None


def _is_list(value: object) -> TypeGuard[list[object] | tuple[object, ...]]:
    """True for a list or tuple (what JSON arrays decode to), not for strings or mappings."""
    return isinstance(value, list | tuple)


def _kind(value: object) -> str:
    """A short description of ``value``'s type for error messages."""
    return "null" if value is None else type(value).__name__

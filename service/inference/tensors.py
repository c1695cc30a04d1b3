"""Tensor data in and out: the input's points from JSON or binary data, the outputs' encodings.

Binary data is little-endian and row-major without padding (Triton's binary tensor data
extension); an FP64 input is read in place with ``numpy.frombuffer``, without a copy.
"""

from typing import Annotated, Any

import numpy as np
from numpy.typing import NDArray
from pydantic import Field, StrictInt, TypeAdapter, ValidationError

from core.arrays import FloatArray
from core.dataset import MAX_COORDINATE
from service.inference.errors import MalformedRequest, validation_message

INPUT_DATATYPES: dict[str, np.dtype[Any]] = {
    name: np.dtype(code)
    for name, code in (
        ("FP64", "<f8"), ("FP32", "<f4"),
        ("INT8", "i1"), ("INT16", "<i2"), ("INT32", "<i4"), ("INT64", "<i8"),
        ("UINT8", "u1"), ("UINT16", "<u2"), ("UINT32", "<u4"), ("UINT64", "<u8"),
    )
}  # fmt: skip
"""The input datatypes accepted, with their binary layout; all are converted to float64."""

OUTPUT_DTYPES: dict[str, np.dtype[Any]] = {"FP64": np.dtype("<f8"), "INT64": np.dtype("<i8")}

MAX_REPORTED_ERRORS = 3
"""How many invalid elements an error message names before it stops."""

_Number = Annotated[float, Field(strict=True, allow_inf_nan=False)]
_FLOAT_DATA: dict[bool, TypeAdapter[Any]] = {
    False: TypeAdapter(list[_Number]),
    True: TypeAdapter(list[tuple[_Number, _Number]]),
}
_INTEGER_DATA: dict[bool, TypeAdapter[Any]] = {
    False: TypeAdapter(list[StrictInt]),
    True: TypeAdapter(list[tuple[StrictInt, StrictInt]]),
}


def input_dtype(datatype: str) -> np.dtype[Any]:
    """The binary layout of an input datatype; :class:`MalformedRequest` for one not accepted."""
    dtype = INPUT_DATATYPES.get(datatype)
    if dtype is None:
        raise MalformedRequest(
            f"inputs[0].datatype: {datatype!r} is not accepted; use one of "
            f"{', '.join(INPUT_DATATYPES)} (the points are converted to FP64)"
        )
    return dtype


def point_count(shape: list[int]) -> int:
    """The number of points N of an input of shape [N, 2] (N >= 1); refuses any other shape."""
    if len(shape) != 2 or shape[1] != 2 or shape[0] < 1:
        raise MalformedRequest(
            f"inputs[0].shape: expected [N, 2] with N >= 1 (N points of 2 coordinates), got {shape}"
        )
    return shape[0]


def points_from_json(data: Any, dtype: np.dtype[Any], count: int) -> FloatArray:
    """Points (count, 2) from JSON data: flat ``[x0, y0, x1, ...]`` or ``[[x0, y0], ...]``."""
    if not isinstance(data, list):
        raise MalformedRequest(
            "inputs[0].data: expected a list of numbers (flat or as [x, y] pairs), or binary "
            "data after the JSON header (parameter binary_data_size)"
        )
    nested = bool(data) and isinstance(data[0], list)
    adapters = _INTEGER_DATA if dtype.kind in "iu" else _FLOAT_DATA
    try:
        values = adapters[nested].validate_python(data)
    except ValidationError as error:
        errors = [
            {**item, "loc": ("inputs", 0, "data", *item["loc"])}
            for item in error.errors(include_url=False)[:MAX_REPORTED_ERRORS]
        ]
        raise MalformedRequest(
            f"{validation_message(errors)} (the datatype is {_datatype_name(dtype)})"
        ) from None
    given = len(values) if nested else len(values) / 2
    if given != count:
        elements = len(values) * 2 if nested else len(values)
        raise MalformedRequest(
            f"inputs[0].data: the shape [{count}, 2] needs {count * 2} elements, got {elements}"
        )
    if dtype.kind in "iu":
        _check_integer_range(values, dtype)
    # A value outside FP32's range becomes infinite here, and is refused below.
    with np.errstate(over="ignore"):
        typed = np.asarray(values, dtype=np.float64 if dtype.kind in "iu" else dtype)
    return checked_points(typed.astype(np.float64, copy=False).reshape(count, 2))


def points_from_binary(buffer: memoryview, dtype: np.dtype[Any], count: int) -> FloatArray:
    """Points (count, 2) read from binary data of exactly ``count * 2`` elements of ``dtype``.

    FP64 data is used in place (a read-only view of the body); other types are converted.
    """
    expected = count * 2 * dtype.itemsize
    if len(buffer) != expected:
        raise MalformedRequest(
            f"inputs[0].parameters.binary_data_size: the shape [{count}, 2] of "
            f"{_datatype_name(dtype)} needs {expected} bytes, got {len(buffer)}"
        )
    values = np.frombuffer(buffer, dtype=dtype).reshape(count, 2)
    return checked_points(values.astype(np.float64, copy=False))


def checked_points(points: FloatArray) -> FloatArray:
    """``points`` (n, 2) if every coordinate is finite and within ±MAX_COORDINATE."""
    within = np.abs(points) <= MAX_COORDINATE  # False for NaN too
    if not within.all():
        index = int(np.argmin(within.all(axis=1)))
        raise MalformedRequest(
            f"inputs[0].data: point {index} is {points[index].tolist()}; coordinates must be "
            f"finite numbers within ±{MAX_COORDINATE:g}"
        )
    return points


def _check_integer_range(values: list[Any], dtype: np.dtype[Any]) -> None:
    limits = np.iinfo(dtype)
    try:
        flat = np.asarray(values, dtype=np.float64).ravel()
    except OverflowError:
        raise MalformedRequest(
            f"inputs[0].data: a value is not a {_datatype_name(dtype)} "
            f"(from {limits.min} to {limits.max})"
        ) from None
    outside = (flat < limits.min) | (flat > limits.max)
    if outside.any():
        raise MalformedRequest(
            f"inputs[0].data: {values_at(values, int(np.argmax(outside)))} is not a "
            f"{_datatype_name(dtype)} (from {limits.min} to {limits.max})"
        )


def values_at(values: list[Any], flat_index: int) -> Any:
    """The element at ``flat_index`` of flat or nested ``values``."""
    if values and isinstance(values[0], tuple | list):
        return values[flat_index // 2][flat_index % 2]
    return values[flat_index]


def _datatype_name(dtype: np.dtype[Any]) -> str:
    return next(name for name, known in INPUT_DATATYPES.items() if known == dtype)


def output_bytes(values: NDArray[Any], datatype: str) -> memoryview:
    """The binary data of an output: its elements little-endian, without a copy when native."""
    native: NDArray[Any] = np.ascontiguousarray(values, dtype=OUTPUT_DTYPES[datatype])
    return native.data.cast("B")

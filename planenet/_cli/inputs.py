"""What the client commands read: points from arguments, CSV files or standard input; bodies."""

import csv
import io
import json
import sys
from pathlib import Path
from typing import Any

STDIN = "-"
"""The file name that means standard input."""


class UsageError(Exception):
    """Input a command cannot use (a file that is not there, a point that is not two numbers)."""


def read_text(path: str) -> str:
    """The text of ``path``, or of standard input for ``-``."""
    if path == STDIN:
        return sys.stdin.read()
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise UsageError(f"cannot read {path}: {error.strerror or error}") from None


def read_json_object(path: str) -> dict[str, Any]:
    """The JSON object in ``path`` (``-``: standard input), e.g. a training body."""
    try:
        document = json.loads(read_text(path))
    except json.JSONDecodeError as error:
        raise UsageError(f"{path} is not JSON: {error}") from None
    if not isinstance(document, dict):
        raise UsageError(f"{path} must hold a JSON object, not {type(document).__name__}")
    return document


def _number(text: str, where: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise UsageError(f"{where}: {text.strip()!r} is not a number") from None


def parse_point(text: str) -> list[float]:
    """``"1,-2.5"`` as ``[1.0, -2.5]``."""
    parts = text.split(",")
    if len(parts) != 2:
        raise UsageError(f"the point {text!r} is not two numbers x,y (e.g. 1,-1)")
    return [_number(part, f"the point {text!r}") for part in parts]


def csv_rows(text: str, columns: int, source: str) -> list[list[float]]:
    """The first ``columns`` numbers of each row of a CSV text; a header row is skipped.

    Blank rows are ignored; a row with fewer columns, or a value that is not a number (other
    than in the first row), is refused with its line number.
    """
    rows: list[list[float]] = []
    for line_number, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) < columns:
            raise UsageError(f"{source}, line {line_number}: expected {columns} columns")
        cells = row[:columns]
        if not rows and line_number == 1 and not _all_numbers(cells):
            continue  # a header such as x,y
        rows.append([_number(cell, f"{source}, line {line_number}") for cell in cells])
    return rows


def _all_numbers(cells: list[str]) -> bool:
    try:
        for cell in cells:
            float(cell)
    except ValueError:
        return False
    return True


def read_points(arguments: list[str], file: str | None) -> list[list[float]]:
    """Points (n, 2): from ``x,y`` arguments, else a CSV file, else CSV on standard input."""
    if arguments and file is not None:
        raise UsageError("give points as arguments or with --file, not both")
    if arguments:
        return [parse_point(argument) for argument in arguments]
    if file is None:
        if sys.stdin.isatty():
            raise UsageError("give points as arguments (1,1 -1,-1), with --file, or on stdin")
        file = STDIN
    source = "standard input" if file == STDIN else file
    points = csv_rows(read_text(file), 2, source)
    if not points:
        raise UsageError(f"{source} holds no points")
    return points


def read_labelled_points(path: str | None) -> tuple[list[list[float]], list[int | float]]:
    """Points (n, 2) and their labels (n,) from a CSV file (None or ``-``: standard input) of
    ``x,y,label`` rows; labels that are not whole numbers are kept for the server to refuse."""
    if path is None:
        if sys.stdin.isatty():
            raise UsageError("give labelled points with --file, or as x,y,label rows on stdin")
        path = STDIN
    source = "standard input" if path == STDIN else path
    rows = csv_rows(read_text(path), 3, source)
    if not rows:
        raise UsageError(f"{source} holds no points")
    labels = [int(label) if label.is_integer() else label for *_, label in rows]
    return [row[:2] for row in rows], labels


def read_training_points(path: str) -> dict[str, Any]:
    """A training body's ``data`` from a CSV file of ``x,y,label`` rows."""
    points, labels = read_labelled_points(path)
    return {"points": points, "labels": labels}


def parse_tag(text: str) -> tuple[str, str]:
    """``"team=geometry"`` as ``("team", "geometry")``; the value may be empty or hold ``=``."""
    key, separator, value = text.partition("=")
    if not separator or not key:
        raise UsageError(f"the tag {text!r} is not KEY=VALUE (e.g. team=geometry)")
    return key, value

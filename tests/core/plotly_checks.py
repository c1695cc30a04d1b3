"""Checks every figure passes: plain JSON, plotly's own validator, title, axis labels, palette."""

import json
import re
from typing import Any

import plotly.graph_objects as go

DESIGN_PALETTE = {"#fa5252", "#4c6ef5", "#ffc9c9", "#a5d8ff", "#e9ecef"}
"""The design's colours: class 0, class 1, their regions, the background."""
LINE_COLORS = {"#7048e8", "#f08c00", "#343a40"}
"""The loss curves' and the boundary line's colours, as in the first figures."""
_COLOR = re.compile(r"^#[0-9a-fA-F]{3,8}$")


def _walk(value: Any, where: str, found: set[str]) -> None:
    """Every leaf is a plain JSON scalar (None only as a gap in a coordinate list)."""
    if isinstance(value, dict):
        for key, item in value.items():
            assert type(key) is str, where
            _walk(item, f"{where}.{key}", found)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            if item is None:
                assert where.endswith((".x", ".y")) or ".args" in where, where
                continue
            _walk(item, f"{where}[{index}]", found)
    elif value is not None:
        assert type(value) in (str, int, float, bool), f"{where}: {type(value)}"
        if type(value) is str and _COLOR.match(value):
            found.add(value.lower())


def check_figure(figure: dict[str, Any]) -> go.Figure:
    """Assert ``figure`` is plain JSON in the palette with a title and labelled axes; return
    plotly's validated figure (``go.Figure`` raises on any property plotly does not know)."""
    assert set(figure) <= {"data", "layout", "frames"}
    colors: set[str] = set()
    _walk(figure, "figure", colors)
    assert colors <= DESIGN_PALETTE | LINE_COLORS, colors - DESIGN_PALETTE - LINE_COLORS
    json.dumps(figure, allow_nan=False)
    layout = figure["layout"]
    assert layout["title"]["text"]
    axes = [key for key in layout if re.fullmatch(r"[xy]axis\d*", key)]
    assert axes, "no axes in the layout"
    assert any(layout[key].get("title", {}).get("text") for key in axes if key[0] == "x")
    assert any(layout[key].get("title", {}).get("text") for key in axes if key[0] == "y")
    return go.Figure(figure)


def polylines(trace: dict[str, Any]) -> list[list[tuple[float, float]]]:
    """The pieces of a line trace whose pieces are separated by None."""
    pieces: list[list[tuple[float, float]]] = [[]]
    for x, y in zip(trace["x"], trace["y"], strict=True):
        assert (x is None) == (y is None)
        if x is None:
            pieces.append([])
        else:
            pieces[-1].append((x, y))
    return [piece for piece in pieces if piece]

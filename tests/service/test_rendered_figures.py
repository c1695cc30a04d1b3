"""Models' figures are drawn once and kept, by model, kind and options, within a budget."""

from typing import Any

import pytest

from service.rendered_figures import RenderedFigures, render


def figure(size: int, tag: str = "") -> dict[str, Any]:
    """A figure whose JSON is a little over ``size`` bytes, whatever its tag."""
    return {"data": [], "layout": {"title": {"text": tag.ljust(16) + "x" * size}}}


class Drawer:
    """Counts how often each figure is drawn."""

    def __init__(self) -> None:
        self.drawn: list[str] = []

    def __call__(self, name: str, size: int = 100) -> Any:
        def draw() -> dict[str, Any]:
            self.drawn.append(name)
            return figure(size, name)

        return draw


def test_a_figure_is_drawn_once_per_model_and_options() -> None:
    figures, draw = RenderedFigures(), Drawer()
    first = figures.get_or_draw("m1", ("boundary", 200, "regions"), draw("a"))
    again = figures.get_or_draw("m1", ("boundary", 200, "regions"), draw("b"))
    assert again is first
    assert first.body == render(figure(100, "a")).body
    assert first.etag == render(figure(100, "a")).etag
    figures.get_or_draw("m1", ("boundary", 200, "probability"), draw("c"))
    figures.get_or_draw("m2", ("boundary", 200, "regions"), draw("d"))
    assert draw.drawn == ["a", "c", "d"]
    assert len(figures) == 3


def test_the_budget_keeps_the_most_recently_used() -> None:
    size = len(render(figure(1000, "a")).body)  # each of a, b, c, d
    figures, draw = RenderedFigures(budget_bytes=3 * size), Drawer()
    for name in ("a", "b", "c"):
        figures.get_or_draw("m", name, draw(name, 1000))
    figures.get_or_draw("m", "a", draw("a again", 1000))  # a is now the most recent
    figures.get_or_draw("m", "d", draw("d", 1000))  # evicts b, the least recent
    assert figures.kept_bytes == 3 * size
    figures.get_or_draw("m", "a", draw("a third time", 1000))
    figures.get_or_draw("m", "b", draw("b again", 1000))
    assert draw.drawn == ["a", "b", "c", "d", "b again"]
    # A figure larger than the whole budget is served, never kept.
    huge = figures.get_or_draw("m", "huge", draw("huge", 10_000))
    assert len(huge.body) > figures.budget_bytes
    figures.get_or_draw("m", "huge", draw("huge again", 10_000))
    assert draw.drawn[-2:] == ["huge", "huge again"]
    assert figures.kept_bytes == 3 * size


def test_a_deleted_models_figures_are_forgotten_and_a_failed_draw_keeps_nothing() -> None:
    figures, draw = RenderedFigures(), Drawer()
    figures.get_or_draw("gone", "loss", draw("a"))
    figures.get_or_draw("kept", "loss", draw("b"))
    figures.forget("gone")
    assert len(figures) == 1
    assert figures.kept_bytes == len(render(figure(100, "b")).body)
    figures.get_or_draw("gone", "loss", draw("c"))
    assert draw.drawn == ["a", "b", "c"]

    def fails() -> dict[str, Any]:
        raise LookupError("no snapshots")

    with pytest.raises(LookupError):
        figures.get_or_draw("kept", "training", fails)
    assert len(figures) == 2

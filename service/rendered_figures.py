"""The JSON of models' figures, kept once drawn: a model never changes, so neither do they.

A replay takes 0.1-0.25 s to draw and a neuron map tens of milliseconds; a page reopening a
model, or a second viewer, gets them at once. Figures are kept by model, kind and options,
least recently used first out, within a budget of bytes; a deleted model's are forgotten.
"""

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

from service.http.responses import FastJSONResponse

DEFAULT_BUDGET_BYTES = 32 * 1024 * 1024
"""Bytes of figure JSON kept per process: a few dozen replays, or hundreds of boundaries."""


@dataclass(frozen=True)
class RenderedFigure:
    """A figure's JSON and its strong ETag (a hash of the JSON)."""

    body: bytes
    etag: str


def render(figure: dict[str, Any]) -> RenderedFigure:
    """``figure`` as JSON (as every PlaneNet response writes it), with its ETag."""
    body = bytes(FastJSONResponse(figure).body)
    return RenderedFigure(body, '"' + hashlib.sha256(body).hexdigest()[:32] + '"')


class RenderedFigures:
    """Rendered figures by ``(model_id, key)``, within ``budget_bytes``; thread-safe."""

    def __init__(self, budget_bytes: int = DEFAULT_BUDGET_BYTES) -> None:
        self.budget_bytes = budget_bytes
        self._figures: OrderedDict[tuple[str, Hashable], RenderedFigure] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get_or_draw(
        self, model_id: str, key: Hashable, draw: Callable[[], dict[str, Any]]
    ) -> RenderedFigure:
        """The figure kept for ``model_id`` and ``key``, else ``draw()``'s, rendered and kept.

        Drawing happens outside the lock: two requests for a figure not kept yet may both
        draw it, which costs time, never a wrong answer. What ``draw`` raises is raised.
        """
        with self._lock:
            kept = self._figures.get((model_id, key))
            if kept is not None:
                self._figures.move_to_end((model_id, key))
                return kept
        rendered = render(draw())
        with self._lock:
            self._keep((model_id, key), rendered)
        return rendered

    def _keep(self, index: tuple[str, Hashable], rendered: RenderedFigure) -> None:
        if len(rendered.body) > self.budget_bytes:
            return
        previous = self._figures.pop(index, None)
        if previous is not None:
            self._bytes -= len(previous.body)
        self._figures[index] = rendered
        self._bytes += len(rendered.body)
        while self._bytes > self.budget_bytes:
            _, oldest = self._figures.popitem(last=False)
            self._bytes -= len(oldest.body)

    def forget(self, model_id: str) -> None:
        """Drop every figure of ``model_id`` (it was deleted)."""
        with self._lock:
            for index in [index for index in self._figures if index[0] == model_id]:
                self._bytes -= len(self._figures.pop(index).body)

    def __len__(self) -> int:
        with self._lock:
            return len(self._figures)

    @property
    def kept_bytes(self) -> int:
        """Bytes of JSON kept now."""
        with self._lock:
            return self._bytes

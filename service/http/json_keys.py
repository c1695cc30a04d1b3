"""Duplicate keys in a JSON body: found without a second full parse in the common case.

pydantic-core keeps the last of two equal keys silently. A regular expression lists every
object key of the raw text (a JSON string followed by a colon; value strings cannot be
followed by one), which is cheap even for a body of 100,000 points, since such bodies are
arrays of numbers with few keys. Only when some key text repeats (e.g. ``seed`` at the top
and in ``data``, which is allowed) or holds an escape is the body parsed again with a hook
that looks at each object's own keys.
"""

import json
import re

_OBJECT_KEY = re.compile(rb'"((?:[^"\\]|\\.)*)"\s*:')


class DuplicateKey(ValueError):
    """A JSON object names the same key twice."""

    def __init__(self, key: str) -> None:
        super().__init__(f"the key {key!r} appears twice in one object; give each key once")
        self.key = key


def check_unique_keys(body: bytes) -> None:
    """Raise :class:`DuplicateKey` if any object in the JSON ``body`` repeats a key."""
    keys = _OBJECT_KEY.findall(body)
    if len(set(keys)) == len(keys) and not any(b"\\" in key for key in keys):
        return
    json.loads(body, object_pairs_hook=_unique_object)


def _unique_object(pairs: list[tuple[str, object]]) -> dict[str, object]:
    result: dict[str, object] = {}
    for key, value in pairs:
        if key in result:
            raise DuplicateKey(key)
        result[key] = value
    return result

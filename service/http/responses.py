"""JSON responses written by pydantic-core, several times faster than json.dumps on big arrays."""

from typing import Any

import pydantic_core
from fastapi.responses import JSONResponse


class FastJSONResponse(JSONResponse):
    """A JSON response whose body is written by pydantic-core's serializer.

    Floats are written as the shortest text that reads back to the same float, so a client
    gets the server's numbers bit-identically. The content must not hold NaN or infinity
    (they would be written as the non-JSON tokens ``NaN`` and ``Infinity``).
    """

    def render(self, content: Any) -> bytes:
        return pydantic_core.to_json(content)

"""The body of an inference request: its JSON header, and the binary tensor data after it.

Triton's binary tensor data extension: when the header ``Inference-Header-Content-Length``
is given, the body is that many bytes of JSON followed by each binary input's bytes, in the
order of the inputs, sized by their ``binary_data_size`` parameter.
"""

from service.inference.errors import MalformedRequest

HEADER_LENGTH = "Inference-Header-Content-Length"


def split_body(body: bytes, header_length: str | None) -> tuple[bytes, memoryview]:
    """The JSON header and the binary data (a view of ``body``, not a copy) of a request."""
    if header_length is None:
        return body, memoryview(b"")
    length = header_length.strip()
    if not length.isdigit() or not length.isascii():
        raise MalformedRequest(
            f"{HEADER_LENGTH}: expected a number of bytes, got {header_length!r}"
        )
    size = int(length)
    if size > len(body):
        raise MalformedRequest(
            f"{HEADER_LENGTH} is {size}, longer than the {len(body)} bytes of the body"
        )
    return body[:size], memoryview(body)[size:]


class BinaryData:
    """Hands out the binary data after the JSON header, one tensor's bytes after another."""

    def __init__(self, data: memoryview, header_given: bool) -> None:
        self._data = data
        self._header_given = header_given
        self._offset = 0

    def take(self, size: int, what: str) -> memoryview:
        """The next ``size`` bytes, for the tensor ``what``."""
        if not self._header_given:
            raise MalformedRequest(
                f"{what} has binary_data_size but the request has no {HEADER_LENGTH} header "
                "giving the length of the JSON before the binary data"
            )
        available = len(self._data) - self._offset
        if size > available:
            raise MalformedRequest(
                f"{what}: binary_data_size is {size} but only {available} bytes of binary data "
                "follow the JSON header"
            )
        start = self._offset
        self._offset += size
        return self._data[start : self._offset]

    def finish(self) -> None:
        """Refuse bytes that no tensor claimed (binary sizes that do not add up to the body)."""
        left = len(self._data) - self._offset
        if left:
            raise MalformedRequest(
                f"{left} bytes follow the JSON header that no input's binary_data_size claims "
                f"(check {HEADER_LENGTH} and the inputs' binary_data_size)"
            )

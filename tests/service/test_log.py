"""Log lines: JSON objects, and the request log's direct line equal to the logging module's."""

import io
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from service.http.request_log import log_request, request_logger
from service.log import JsonLinesHandler, configure_logging, direct_handler

SCOPE = {"method": "POST", "path": "/models/m/predict", "client": ("10.0.0.7", 5000)}


@contextmanager
def request_lines_to_json() -> Iterator[JsonLinesHandler]:
    """The request log's lines going to one JSON handler only, as configure_logging sets it
    up, writing to a buffer. Entered in the test itself: pytest puts handlers of its own on
    the loggers while a test runs, so the handler sits on the request logger, which then
    does not propagate."""
    handler = JsonLinesHandler(io.StringIO())
    saved = (list(request_logger.handlers), request_logger.propagate, request_logger.level)
    request_logger.handlers[:] = [handler]
    request_logger.propagate = False
    request_logger.setLevel(logging.INFO)
    try:
        yield handler
    finally:
        request_logger.handlers[:], request_logger.propagate = saved[0], saved[1]
        request_logger.setLevel(saved[2])


def test_configure_logging_installs_the_json_handler() -> None:
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    try:
        configure_logging("info")
        assert [type(handler) for handler in root.handlers] == [JsonLinesHandler]
        assert direct_handler(request_logger, logging.INFO) is root.handlers[0]
        assert direct_handler(request_logger, logging.DEBUG) is None  # below the level
    finally:
        root.handlers[:], root.level = saved


def lines(handler: JsonLinesHandler) -> list[dict[str, object]]:
    stream = handler.stream
    assert isinstance(stream, io.StringIO)
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_the_direct_line_is_the_logging_modules_line() -> None:
    with request_lines_to_json() as configured:
        check_the_direct_line(configured)


def check_the_direct_line(configured: JsonLinesHandler) -> None:
    assert direct_handler(request_logger, logging.INFO) is configured
    log_request(SCOPE, 200, 0.0, "direct-id")
    fields = {"method": "GET", "path": "/healthz", "status": 200, "duration_ms": 0.5}
    configured.write_fields("planenet.request", logging.INFO, "request", fields)
    request_logger.info("request", extra=fields)
    direct_request, direct, through_logging = lines(configured)
    assert direct_request["request_id"] == "direct-id"
    assert list(direct_request) == [
        "time", "level", "logger", "message",
        "method", "path", "status", "duration_ms", "request_id", "client",
    ]  # fmt: skip
    assert (direct_request["client"], direct_request["status"]) == ("10.0.0.7", 200)
    # The same keys in the same order and the same values, the time aside.
    del direct["time"], through_logging["time"]
    assert list(direct.items()) == list(through_logging.items())


def test_anything_else_on_the_way_sends_the_line_through_logging(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="planenet.request")
    with request_lines_to_json():
        request_logger.propagate = True  # on to the root logger, where caplog's handler is
        assert direct_handler(request_logger, logging.INFO) is None
        log_request(SCOPE, 201, 0.0, "through-logging")
    (record,) = [r for r in caplog.records if r.name == "planenet.request"]
    assert (record.__dict__["request_id"], record.__dict__["status"]) == ("through-logging", 201)


def test_a_filter_a_level_or_another_handler_type_keeps_the_logging_module() -> None:
    with request_lines_to_json() as configured:
        check_what_keeps_the_logging_module(configured)


def check_what_keeps_the_logging_module(configured: JsonLinesHandler) -> None:
    only_errors = logging.Filter("nothing")
    request_logger.addFilter(only_errors)
    try:
        assert direct_handler(request_logger, logging.INFO) is None
        log_request(SCOPE, 200, 0.0, "filtered")
        assert lines(configured) == []  # the filter still drops it
    finally:
        request_logger.removeFilter(only_errors)
    configured.setLevel(logging.WARNING)
    assert direct_handler(request_logger, logging.INFO) is None
    configured.setLevel(logging.NOTSET)
    request_logger.setLevel(logging.WARNING)
    try:
        assert direct_handler(request_logger, logging.INFO) is None
    finally:
        request_logger.setLevel(logging.NOTSET)
    plain = logging.StreamHandler(io.StringIO())
    request_logger.handlers[:] = [configured, plain]
    assert direct_handler(request_logger, logging.INFO) is None
    request_logger.handlers[:] = [plain]
    assert direct_handler(request_logger, logging.INFO) is None

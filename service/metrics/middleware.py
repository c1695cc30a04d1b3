"""A pure ASGI middleware that counts each HTTP request by its route's path template."""

import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.metrics.registry import ServiceMetrics

UNMATCHED_ROUTE = "unmatched"
"""The route label of a request no route matched (a 404): paths never become labels."""


class RequestMetricsMiddleware:
    """Observe every HTTP request: its route template (``/jobs/{job_id}``), status and latency.

    The router records the matched route in the scope, which this middleware shares, so it
    reads the template once the app has answered.
    """

    def __init__(self, app: ASGIApp, metrics: ServiceMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_noting_status)
        finally:
            route = getattr(scope.get("route"), "path", None) or UNMATCHED_ROUTE
            self.metrics.observe_request(
                route, scope["method"], status, time.perf_counter() - started
            )

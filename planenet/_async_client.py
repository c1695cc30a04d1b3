"""The asynchronous client: the same operations as Client, awaited, over httpx.AsyncClient."""

import asyncio
from collections.abc import AsyncIterator, Mapping
from types import TracebackType
from typing import Any, Literal, overload

import httpx

from planenet import _requests as api
from planenet._config import (
    DEFAULT_TIMEOUT,
    make_timeout,
    request_headers,
    resolve_api_key,
    resolve_url,
    stream_timeout,
)
from planenet._errors import JobFailed, connection_failed, error_from_response
from planenet._events import JobEvent, StreamEnded, WatchState
from planenet._figures import Figure, PlotlyFigure, to_plotly, with_plotly_figures
from planenet._models import (
    Evaluation,
    Job,
    Model,
    Page,
    Parameters,
    Prediction,
    Readiness,
    RegisteredModel,
)
from planenet._requests import UNSET, APIRequest, BoundaryMode, FigureKind, Unset, metadata_patch
from planenet._retry import Retry
from planenet._wait import Deadline, poll_delays


class AsyncClient:
    """A PlaneNet server's API, awaited: ``AsyncClient()`` uses ``$PLANENET_URL`` and
    ``$PLANENET_API_KEY``.

    Use it as an async context manager, or await ``aclose()``, to release its connections.
    Failures raise ``PlaneNetError`` subclasses; requests that are safe to repeat are
    repeated on connection failures and ``503`` as ``retry`` says.
    """

    def __init__(
        self,
        url: str | None = None,
        *,
        api_key: str | None = None,
        timeout: float | httpx.Timeout | None = DEFAULT_TIMEOUT,
        retry: Retry | None = None,
    ) -> None:
        self.url = resolve_url(url)
        self.retry = retry or Retry()
        self._timeout = make_timeout(timeout)
        self._http = httpx.AsyncClient(
            base_url=self.url, headers=request_headers(resolve_api_key(api_key)), timeout=timeout
        )

    async def aclose(self) -> None:
        """Close the connections."""
        await self._http.aclose()

    async def __aenter__(self) -> "AsyncClient":
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return f"AsyncClient(url={self.url!r})"

    # Health

    async def health(self) -> str:
        """``"ok"`` when the server process answers."""
        status = (await self._json(api.health()))["status"]
        return str(status)

    async def ready(self) -> Readiness:
        """The server's readiness; ``ServiceUnavailable`` if it stays unready through retries."""
        return Readiness.from_json(await self._json(api.readiness()))

    # Jobs

    async def create_job(self, body: Mapping[str, Any] | None = None, /, **fields: Any) -> Job:
        """Queue a training job: ``body`` (default ``{}``, the tutorial's) with ``fields`` set."""
        return Job.from_json(await self._json(api.create_job(api.training_body(body, fields))))

    async def train(
        self,
        body: Mapping[str, Any] | None = None,
        /,
        *,
        timeout: float | None = None,
        **fields: Any,
    ) -> Model:
        """Train and wait: the model, or ``JobFailed`` if the job failed or was cancelled."""
        created = await self.create_job(body, **fields)
        job = await self.wait(created.id, timeout=timeout)
        if job.model_id is None:
            raise JobFailed(job)
        return await self.get_model(job.model_id)

    async def get_job(self, job_id: str) -> Job:
        """One job: its status, progress, and ``model_id`` once succeeded."""
        return Job.from_json(await self._json(api.get_job(job_id)))

    async def list_jobs(
        self, *, status: str | None = None, limit: int | None = None, offset: int | None = None
    ) -> Page[Job]:
        """A page of jobs, newest first, optionally of one status."""
        return Page.from_json(await self._json(api.list_jobs(status, limit, offset)), Job.from_json)

    async def cancel_job(self, job_id: str) -> Job:
        """Cancel a queued or running job; ``WrongState`` if it has finished."""
        return Job.from_json(await self._json(api.cancel_job(job_id)))

    async def wait(self, job_id: str, *, timeout: float | None = None) -> Job:
        """Poll the job until it has finished; ``WaitTimeout`` after ``timeout`` seconds."""
        deadline = Deadline(timeout)
        delays = poll_delays()
        while True:
            job = await self.get_job(job_id)
            if job.finished:
                return job
            deadline.check(job)
            await asyncio.sleep(deadline.within(next(delays)))

    async def watch(
        self, job_id: str, *, last_event_id: str | None = None, snapshots: bool = False
    ) -> AsyncIterator[JobEvent]:
        """The job's events as they happen: ``progress``, then its outcome, then the end.

        A dropped connection is resumed with ``Last-Event-ID``, so no loss value is missed
        or repeated. ``last_event_id`` resumes a watch from an event received earlier.
        ``snapshots=True`` also yields the ``snapshot`` events (the network's newest weights).
        """
        state = WatchState(last_event_id)
        failures = 0
        while not state.ended:
            request = api.job_events(job_id, state.request_headers())
            try:
                async with self._http.stream(
                    request.method,
                    request.path,
                    headers=request.headers,
                    timeout=stream_timeout(self._timeout),
                ) as response:
                    if response.status_code == httpx.codes.NO_CONTENT:
                        return  # the job had ended and ``last_event_id`` was its final event
                    if response.is_error:
                        await response.aread()
                        failures += 1
                        delay = self.retry.after_response(request.repeat, response, failures)
                        if delay is None:
                            raise error_from_response(response)
                        await asyncio.sleep(delay)
                        continue
                    decoder = state.new_decoder()
                    async for line in response.aiter_lines():
                        event = decoder.feed(line)
                        if event is None:
                            continue
                        failures = 0
                        job_event = state.receive(event)
                        if snapshots or not job_event.snapshot:
                            yield job_event
                        if state.ended:
                            return
                raise StreamEnded(f"{request.path} ended before the job's outcome")
            except httpx.TransportError as error:
                failures += 1
                delay = self.retry.after_error(request.repeat, error, failures, stream=True)
                if delay is None:
                    raise connection_failed(error, self.url) from error
                await asyncio.sleep(delay)

    @overload
    async def job_figure(
        self, job_id: str, *, max_points: int | None = ..., as_plotly: Literal[False] = ...
    ) -> Figure: ...

    @overload
    async def job_figure(
        self, job_id: str, *, max_points: int | None = ..., as_plotly: Literal[True]
    ) -> PlotlyFigure: ...

    async def job_figure(
        self, job_id: str, *, max_points: int | None = None, as_plotly: bool = False
    ) -> Figure | PlotlyFigure:
        """A job's loss per epoch so far, as Plotly figure JSON (empty before its first epochs)."""
        figure: Figure = await self._json(api.job_loss_figure(job_id, max_points))
        return to_plotly(figure) if as_plotly else figure

    # Models

    async def get_model(self, model: str) -> Model:
        """A model's training configuration and metrics."""
        return Model.from_json(await self._json(api.get_model(model)))

    async def list_models(
        self, *, limit: int | None = None, offset: int | None = None
    ) -> Page[Model]:
        """A page of models, newest first."""
        return Page.from_json(await self._json(api.list_models(limit, offset)), Model.from_json)

    async def delete_model(self, model: str, *, force: bool = False) -> None:
        """Delete a model (its job keeps its history); ``WrongState`` while an alias points at
        it, unless ``force`` (which removes those aliases too)."""
        await self._send(api.delete_model(model, force))

    async def patch_model(
        self,
        model: str,
        *,
        description: str | Unset | None = UNSET,
        tags: Mapping[str, str | None] | None = None,
    ) -> Model:
        """Set a model's ``description`` (None clears it) and ``tags`` (a string sets a tag,
        None removes it); members not given stay as they are."""
        return Model.from_json(
            await self._json(api.patch_model(model, metadata_patch(description, tags)))
        )

    async def parameters(self, model: str) -> Parameters:
        """A model's weights and biases, in the shape ``initial_parameters`` takes."""
        return Parameters.from_json(await self._json(api.model_parameters(model)))

    async def predict(
        self, model: str | None, points: Any, *, threshold: float | None = None
    ) -> Prediction:
        """Labels and class-1 probabilities of ``points`` (n, 2): pairs, or a NumPy array.

        ``model`` is a model reference: an id, ``name`` (its newest version), ``name@v2`` or
        ``name@alias``; None: the newest model. A label is 1 where the probability exceeds
        ``threshold`` (None: the server's default).
        """
        return Prediction.from_json(await self._json(api.predict(model, points, threshold)))

    async def evaluate(
        self,
        model: str,
        points: Any,
        labels: Any,
        *,
        threshold: float | None = None,
        figures: bool = False,
        as_plotly: bool = False,
    ) -> Evaluation:
        """Measure ``model`` on ``points`` (n, 2) with true ``labels`` (n,): accuracy, log loss,
        precision, recall, F1, ROC-AUC and the confusion matrix, labels taken at ``threshold``.

        ``figures=True`` adds the ROC curve and the confusion matrix as Plotly figure JSON;
        ``as_plotly=True`` gives them as ``plotly.graph_objects.Figure`` (and implies figures).
        """
        request = api.evaluate(model, points, labels, threshold, figures or as_plotly)
        evaluation = Evaluation.from_json(await self._json(request))
        return with_plotly_figures(evaluation) if as_plotly else evaluation

    @overload
    async def figure(
        self,
        model: str,
        kind: FigureKind = ...,
        *,
        resolution: int | None = ...,
        mode: BoundaryMode | None = ...,
        max_points: int | None = ...,
        as_plotly: Literal[False] = ...,
    ) -> Figure: ...

    @overload
    async def figure(
        self,
        model: str,
        kind: FigureKind = ...,
        *,
        resolution: int | None = ...,
        mode: BoundaryMode | None = ...,
        max_points: int | None = ...,
        as_plotly: Literal[True],
    ) -> PlotlyFigure: ...

    async def figure(
        self,
        model: str,
        kind: FigureKind = "boundary",
        *,
        resolution: int | None = None,
        mode: BoundaryMode | None = None,
        max_points: int | None = None,
        as_plotly: bool = False,
    ) -> Figure | PlotlyFigure:
        """A model's figure (``data``, ``loss`` or ``boundary``), as Plotly figure JSON.

        ``resolution`` and ``mode`` shape the boundary, ``max_points`` thins the loss curve;
        ``as_plotly=True`` gives a ``plotly.graph_objects.Figure`` instead.
        """
        request = api.model_figure(model, kind, resolution, mode, max_points)
        figure: Figure = await self._json(request)
        return to_plotly(figure) if as_plotly else figure

    # Registry

    async def list_registered_models(
        self, *, limit: int | None = None, offset: int | None = None
    ) -> Page[RegisteredModel]:
        """A page of registered names, each with its newest version."""
        request = api.list_registered_models(limit, offset)
        return Page.from_json(await self._json(request), RegisteredModel.from_json)

    async def get_registered_model(self, name: str) -> RegisteredModel:
        """A registered name with its aliases and all its versions, newest first."""
        return RegisteredModel.from_json(await self._json(api.get_registered_model(name)))

    async def patch_registered_model(
        self,
        name: str,
        *,
        description: str | Unset | None = UNSET,
        tags: Mapping[str, str | None] | None = None,
    ) -> RegisteredModel:
        """Set a registered name's ``description`` (None clears it) and ``tags`` (a string sets
        a tag, None removes it); members not given stay as they are."""
        request = api.patch_registered_model(name, metadata_patch(description, tags))
        return RegisteredModel.from_json(await self._json(request))

    async def set_alias(self, name: str, alias: str, version: int) -> RegisteredModel:
        """Point ``name@alias`` at ``version`` (set the alias, or move it)."""
        return RegisteredModel.from_json(await self._json(api.set_alias(name, alias, version)))

    async def delete_alias(self, name: str, alias: str) -> None:
        """Remove the alias ``name@alias`` (the version it pointed at stays)."""
        await self._send(api.delete_alias(name, alias))

    # Sending

    async def _json(self, request: APIRequest) -> Any:
        return (await self._send(request)).json()

    async def _send(self, request: APIRequest) -> httpx.Response:
        """Send ``request``, repeating it as the retry policy allows; raise for an error answer."""
        failures = 0
        while True:
            try:
                response = await self._http.request(
                    request.method,
                    request.path,
                    params=request.params,
                    json=request.json,
                    headers=request.headers,
                )
            except httpx.TransportError as error:
                failures += 1
                delay = self.retry.after_error(request.repeat, error, failures)
                if delay is None:
                    raise connection_failed(error, self.url) from error
                await asyncio.sleep(delay)
                continue
            if not response.is_error:
                return response
            failures += 1
            delay = self.retry.after_response(request.repeat, response, failures)
            if delay is None:
                raise error_from_response(response)
            await asyncio.sleep(delay)

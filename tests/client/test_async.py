"""planenet.AsyncClient against a real server: every operation's happy path, awaited."""

import asyncio

import numpy as np
import plotly.graph_objects as go
import pytest

import planenet
from tests.client.conftest import API_KEY, QUICK_JOB, SLOW_JOB
from tests.helpers.server import ServerProcess

pytestmark = pytest.mark.e2e


def test_train_predict_and_draw(server: ServerProcess) -> None:
    async def session() -> None:
        async with planenet.AsyncClient(server.base_url, api_key=API_KEY) as client:
            assert await client.health() == "ok"
            assert (await client.ready()).status == "ready"
            model = await client.train(QUICK_JOB, epochs=400)
            assert model.metrics.epochs_run == 400
            job = await client.get_job(model.job_id or "")
            assert job.model_id == model.id

            points = np.array([[1.0, 1.0], [-1.0, -1.0]])
            answers = await asyncio.gather(*(client.predict(model.id, points) for _ in range(5)))
            assert {tuple(answer.labels) for answer in answers} == {(0, 1)}
            assert (await client.predict(None, points)).model_id == model.id

            boundary = await client.figure(model.id, "boundary", resolution=10)
            assert len(boundary["data"][0]["z"]) == 10
            assert isinstance(await client.figure(model.id, "data", as_plotly=True), go.Figure)
            assert await client.job_figure(job.id) == await client.figure(model.id, "loss")
            parameters = await client.parameters(model.id)
            assert np.asarray(parameters.weights[1]).shape == (4, 1)

            jobs = await client.list_jobs(limit=1)
            models = await client.list_models(limit=1)
            assert jobs.items[0].id == job.id
            assert models.items[0].id == model.id

            await client.delete_model(model.id)
            with pytest.raises(planenet.NotFound):
                await client.get_model(model.id)

    asyncio.run(session())


def test_watch_and_cancel(server: ServerProcess) -> None:
    async def session() -> None:
        async with planenet.AsyncClient(server.base_url, api_key=API_KEY) as client:
            watched = await client.create_job(SLOW_JOB | {"epochs": 2000})
            events = [event async for event in client.watch(watched.id)]
            assert events[-1].kind == "succeeded"
            assert sum(len(event.losses) for event in events) == 2000
            assert [
                event async for event in client.watch(watched.id, last_event_id=events[-1].id)
            ] == []

            doomed = await client.create_job(SLOW_JOB)
            await client.cancel_job(doomed.id)
            final = await client.wait(doomed.id, timeout=60)
            assert final.status == "cancelled"
            slow = await client.create_job(SLOW_JOB)
            try:
                with pytest.raises(planenet.WaitTimeout):
                    await client.wait(slow.id, timeout=0.1)
            finally:
                await client.cancel_job(slow.id)

    asyncio.run(session())

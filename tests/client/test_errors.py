"""Every kind of problem the real server answers becomes its exception, carrying all its members."""

import asyncio

import pytest

import planenet
from tests.client.conftest import API_KEY, MAX_EPOCHS, QUICK_JOB
from tests.helpers.server import ServerProcess

pytestmark = pytest.mark.e2e

UNKNOWN_ID = "0123456789abcdef0123456789abcdef"


def test_an_unknown_id_raises_not_found(client: planenet.Client) -> None:
    with pytest.raises(planenet.NotFound) as raised:
        client.get_job(UNKNOWN_ID)
    error = raised.value
    assert error.status == 404
    assert error.type == "urn:planenet:problem:not-found"
    assert error.title == "Not found"
    assert error.detail == f"there is no job with id {UNKNOWN_ID!r}"
    assert error.errors == ()
    assert str(error) == f"Not found: {error.detail}"
    for call in (
        lambda: client.get_model(UNKNOWN_ID),
        lambda: client.predict(UNKNOWN_ID, [[0, 0]]),
        lambda: client.figure(UNKNOWN_ID, "boundary"),
        lambda: client.parameters(UNKNOWN_ID),
        lambda: client.delete_model(UNKNOWN_ID),
        lambda: client.cancel_job(UNKNOWN_ID),
        lambda: list(client.watch(UNKNOWN_ID)),
    ):
        with pytest.raises(planenet.NotFound):
            call()


def test_invalid_input_names_each_field(client: planenet.Client) -> None:
    with pytest.raises(planenet.InvalidInput) as raised:
        client.create_job(epochs=0, activation="swish")
    error = raised.value
    assert error.status == 422
    assert error.type == "urn:planenet:problem:validation-error"
    assert error.title == "Invalid request"
    fields = {item.field: item.message for item in error.errors}
    assert set(fields) == {"body.epochs", "body.activation"}
    assert "relu" in fields["body.activation"]
    assert "body.epochs" in error.detail
    assert str(error).splitlines()[0] == "Invalid request:"
    assert f"  body.activation: {fields['body.activation']}" in str(error).splitlines()


def test_invalid_points_name_the_point(client: planenet.Client, model: planenet.Model) -> None:
    with pytest.raises(planenet.InvalidInput) as raised:
        client.predict(model.id, [[0, 0], [1, 2, 3]])
    assert [item.field for item in raised.value.errors] == ["body.points[1]"]


def test_a_request_over_a_limit_raises_limit_exceeded(client: planenet.Client) -> None:
    with pytest.raises(planenet.LimitExceeded) as raised:
        client.create_job(epochs=MAX_EPOCHS + 1)
    error = raised.value
    assert error.status == 413
    assert error.type == "urn:planenet:problem:limit-exceeded"
    assert str(MAX_EPOCHS) in error.detail
    assert "PLANENET_MAX_EPOCHS" in error.detail


def test_a_missing_or_wrong_key_raises_unauthorized(server: ServerProcess) -> None:
    for key in (None, "wrong"):
        with planenet.Client(server.base_url, api_key=key) as client:
            assert client.list_jobs().total >= 0  # reads are open on this server
            with pytest.raises(planenet.Unauthorized) as raised:
                client.create_job(QUICK_JOB)
            assert raised.value.status == 401
            assert raised.value.type == "urn:planenet:problem:unauthorized"
            assert "API key" in raised.value.detail


def test_cancelling_a_finished_job_raises_wrong_state(
    client: planenet.Client, model: planenet.Model
) -> None:
    with pytest.raises(planenet.WrongState) as raised:
        client.cancel_job(model.job_id or "")
    error = raised.value
    assert error.status == 409
    assert error.type == "urn:planenet:problem:wrong-state"
    assert "already finished (succeeded)" in error.detail


def test_every_error_is_a_planenet_error(client: planenet.Client) -> None:
    for kind in (
        planenet.NotFound,
        planenet.InvalidInput,
        planenet.LimitExceeded,
        planenet.Unauthorized,
        planenet.WrongState,
        planenet.ServiceUnavailable,
        planenet.ServerError,
        planenet.ConnectionFailed,
        planenet.JobFailed,
        planenet.WaitTimeout,
    ):
        assert issubclass(kind, planenet.PlaneNetError)
    with pytest.raises(planenet.PlaneNetError) as raised:
        client.get_job(UNKNOWN_ID)
    assert isinstance(raised.value, planenet.NotFound)


def test_an_unknown_route_is_not_found_too(server: ServerProcess) -> None:
    with planenet.Client(server.base_url + "/nowhere") as client, pytest.raises(planenet.NotFound):
        client.health()


def test_no_server_raises_connection_failed() -> None:
    retry = planenet.Retry(retries=1, backoff=0.01)
    with (
        planenet.Client("http://127.0.0.1:1", retry=retry) as client,
        pytest.raises(planenet.ConnectionFailed) as raised,
    ):
        client.health()
    assert raised.value.status is None
    assert "127.0.0.1:1" in raised.value.detail


def test_the_async_client_raises_the_same_errors(
    server: ServerProcess, model: planenet.Model
) -> None:
    async def errors() -> list[planenet.PlaneNetError]:
        caught: list[planenet.PlaneNetError] = []
        async with (
            planenet.AsyncClient(server.base_url, api_key=API_KEY) as client,
            planenet.AsyncClient(server.base_url) as keyless,
        ):
            for call in (
                client.get_job(UNKNOWN_ID),
                client.create_job(epochs=0),
                client.create_job(epochs=MAX_EPOCHS + 1),
                client.cancel_job(model.job_id or ""),
                keyless.create_job(QUICK_JOB),
            ):
                try:
                    await call
                except planenet.PlaneNetError as error:
                    caught.append(error)
        return caught

    caught = asyncio.run(errors())
    assert [(type(error), error.status) for error in caught] == [
        (planenet.NotFound, 404),
        (planenet.InvalidInput, 422),
        (planenet.LimitExceeded, 413),
        (planenet.WrongState, 409),
        (planenet.Unauthorized, 401),
    ]
    assert caught[1].errors == (planenet.FieldError("body.epochs", caught[1].errors[0].message),)

"""The client's registry methods against a real server: names, versions, aliases, metadata,
evaluation and the threshold, with Client and AsyncClient, and the errors they raise."""

import asyncio
import uuid
from collections.abc import Callable

import numpy as np
import plotly.graph_objects as go
import pytest

import planenet
from planenet import _requests as api
from planenet._requests import Repeat
from tests.client.conftest import API_KEY, QUICK_JOB
from tests.client.proxy import running_proxy
from tests.helpers.server import ServerProcess

pytestmark = pytest.mark.e2e

POINTS = [[1.0, 1.0], [-1.0, -1.0], [0.9, 1.2], [-1.1, -0.8]]
"""Two points deep in each blob of the default data."""


def unique_name() -> str:
    return f"reg-{uuid.uuid4().hex[:10]}"


def train_versions(client: planenet.Client, name: str, count: int) -> list[planenet.Model]:
    """``count`` versions of ``name``, oldest first."""
    return [client.train(QUICK_JOB, name=name) for _ in range(count)]


def test_every_reference_names_the_same_version(client: planenet.Client) -> None:
    name = unique_name()
    first, second = train_versions(client, name, 2)
    assert (first.version, second.version) == (1, 2)
    client.set_alias(name, "champion", 1)
    for reference in (first.id, f"{name}@v1", f"{name}@champion"):
        assert client.get_model(reference).id == first.id
        assert client.predict(reference, POINTS).model_id == first.id
        assert client.evaluate(reference, POINTS, [1, 0, 1, 0]).model_id == first.id
        assert client.figure(reference, "loss") == client.figure(first.id, "loss")
        assert client.parameters(reference) == client.parameters(first.id)
    for reference in (name, f"{name}@latest", f"{name}@v2"):
        assert client.get_model(reference).id == second.id
        assert client.predict(reference, POINTS).model_id == second.id


def test_registered_models_are_listed_and_shown_with_their_versions(
    client: planenet.Client,
) -> None:
    name = unique_name()
    first, second = train_versions(client, name, 2)
    registered = client.get_registered_model(name)
    assert registered.name == name
    assert [version.id for version in registered.versions] == [second.id, first.id]
    assert [version.version for version in registered.versions] == [2, 1]
    assert registered.latest_version is not None
    assert registered.latest_version.id == second.id
    assert registered.aliases == {}

    everything: dict[str, planenet.RegisteredModel] = {}
    offset = 0
    while True:
        page = client.list_registered_models(limit=2, offset=offset)
        assert len(page.items) <= 2
        everything |= {entry.name: entry for entry in page.items}
        offset += len(page.items)
        if not page.items or offset >= page.total:
            break
    assert page.total == len(everything)
    listed = everything[name]
    assert listed.latest_version is not None
    assert listed.latest_version.id == second.id
    assert listed.versions == []


def test_an_alias_is_set_moved_and_deleted(client: planenet.Client) -> None:
    name = unique_name()
    first, second = train_versions(client, name, 2)
    assert client.set_alias(name, "prod", 1).aliases == {"prod": 1}
    assert client.get_model(first.id).aliases == ["prod"]
    moved = client.set_alias(name, "prod", 2)
    assert moved.aliases == {"prod": 2}
    assert client.set_alias(name, "prod", 2).aliases == {"prod": 2}  # a repeat changes nothing
    assert client.get_model(first.id).aliases == []
    assert client.get_model(f"{name}@prod").id == second.id
    client.delete_alias(name, "prod")
    assert client.get_registered_model(name).aliases == {}
    with pytest.raises(planenet.NotFound) as missing:
        client.get_model(f"{name}@prod")
    assert "prod" in str(missing.value)
    with pytest.raises(planenet.NotFound) as again:
        client.delete_alias(name, "prod")
    assert "prod" in str(again.value)


def test_metadata_is_a_merge_patch(client: planenet.Client) -> None:
    name = unique_name()
    (model,) = train_versions(client, name, 1)
    patched = client.patch_model(
        f"{name}@v1", description="first try", tags={"team": "geometry", "stage": "dev"}
    )
    assert patched.id == model.id
    assert patched.description == "first try"
    assert patched.tags == {"team": "geometry", "stage": "dev"}
    patched = client.patch_model(model.id, tags={"stage": None, "owner": "ana"})
    assert patched.description == "first try"  # left out: kept
    assert patched.tags == {"team": "geometry", "owner": "ana"}
    patched = client.patch_model(model.id, description=None)
    assert patched.description is None
    assert client.get_model(model.id).tags == {"team": "geometry", "owner": "ana"}

    registered = client.patch_registered_model(name, description="blobs", tags={"kind": "demo"})
    assert (registered.description, registered.tags) == ("blobs", {"kind": "demo"})
    registered = client.patch_registered_model(name, tags={"kind": None})
    assert (registered.description, registered.tags) == ("blobs", {})
    assert client.get_registered_model(name).description == "blobs"


def test_evaluation_measures_the_model_and_draws_on_request(client: planenet.Client) -> None:
    name = unique_name()
    (model,) = train_versions(client, name, 1)
    labels = [1, 0, 1, 0]
    evaluation = client.evaluate(name, np.array(POINTS), np.array(labels), threshold=0.5)
    prediction = client.predict(name, POINTS, threshold=0.5)
    assert evaluation.model_id == model.id
    assert evaluation.threshold == 0.5
    correct = sum(p == t for p, t in zip(prediction.labels, labels, strict=True))
    assert evaluation.accuracy == correct / len(labels)
    matrix = evaluation.confusion_matrix
    assert matrix.tn + matrix.fp + matrix.fn + matrix.tp == len(labels)
    assert evaluation.support == (2, 2)
    assert evaluation.roc_auc is not None
    assert evaluation.figures is None

    drawn = client.evaluate(name, POINTS, labels, figures=True)
    assert drawn.figures is not None
    assert set(drawn.figures) == {"roc", "confusion_matrix"}
    assert isinstance(drawn.figures["roc"]["data"], list)
    plotted = client.evaluate(name, POINTS, labels, as_plotly=True)
    assert plotted.figures is not None
    assert all(isinstance(figure, go.Figure) for figure in plotted.figures.values())

    one_class = client.evaluate(name, POINTS[:1], [1])
    assert one_class.roc_auc is None
    assert one_class.roc_auc_undefined_reason


def test_the_threshold_decides_the_labels(client: planenet.Client) -> None:
    name = unique_name()
    train_versions(client, name, 1)
    default = client.predict(name, POINTS)
    assert default.labels == [int(p > 0.5) for p in default.probabilities]
    for threshold in (0.01, 0.99, 0.999999):
        answer = client.predict(name, POINTS, threshold=threshold)
        assert answer.probabilities == default.probabilities
        assert answer.labels == [int(p > threshold) for p in answer.probabilities]
    assert client.predict(None, POINTS, threshold=0.99).labels == [
        int(p > 0.99) for p in client.predict(None, POINTS).probabilities
    ]


def test_deleting_an_aliased_version_needs_force(client: planenet.Client) -> None:
    name = unique_name()
    first, second = train_versions(client, name, 2)
    client.set_alias(name, "keep", 1)
    with pytest.raises(planenet.WrongState) as refused:
        client.delete_model(f"{name}@keep")
    assert refused.value.status == 409
    assert "keep" in str(refused.value)
    assert client.get_model(first.id).id == first.id  # nothing was deleted
    client.delete_model(f"{name}@keep", force=True)
    with pytest.raises(planenet.NotFound):
        client.get_model(first.id)
    registered = client.get_registered_model(name)
    assert registered.aliases == {}
    assert [version.id for version in registered.versions] == [second.id]


def test_malformed_references_and_reserved_aliases_are_invalid_input(
    client: planenet.Client,
) -> None:
    name = unique_name()
    train_versions(client, name, 1)
    for reference in (f"{name}@", f"{name}@v0", "a@b@c"):
        with pytest.raises(planenet.InvalidInput) as invalid:
            client.predict(reference, POINTS)
        assert invalid.value.status == 422
        assert invalid.value.errors, reference
    for alias in ("latest", "v3", "bad alias"):
        with pytest.raises(planenet.InvalidInput) as reserved:
            client.set_alias(name, alias, 1)
        assert reserved.value.errors[0].field == "path.alias"
    with pytest.raises(planenet.InvalidInput):
        client.get_registered_model("-not-a-name")
    with pytest.raises(planenet.InvalidInput) as bad_tag:
        client.patch_model(name, tags={"": "empty key"})
    assert bad_tag.value.errors
    with pytest.raises(planenet.InvalidInput) as bad_threshold:
        client.predict(name, POINTS, threshold=1.5)
    assert "threshold" in bad_threshold.value.errors[0].field
    with pytest.raises(planenet.InvalidInput) as bad_labels:
        client.evaluate(name, POINTS, [1, 0])
    assert bad_labels.value.errors


def test_what_is_missing_is_named(client: planenet.Client) -> None:
    name = unique_name()
    train_versions(client, name, 1)
    missing_cases: list[tuple[str, Callable[[], object]]] = [
        ("version 9", lambda: client.get_model(f"{name}@v9")),
        ("nowhere", lambda: client.evaluate(f"{name}@nowhere", POINTS[:1], [1])),
        ("no-such-name", lambda: client.get_registered_model("no-such-name")),
        ("absent", lambda: client.patch_registered_model("absent", description="x")),
        ("version 9", lambda: client.set_alias(name, "prod", 9)),
    ]
    for missing, call in missing_cases:
        with pytest.raises(planenet.NotFound) as not_found:
            call()
        assert not_found.value.status == 404
        assert missing in str(not_found.value), str(not_found.value)


def test_writes_need_the_key(server: ServerProcess, client: planenet.Client) -> None:
    name = unique_name()
    train_versions(client, name, 1)
    with planenet.Client(server.base_url, api_key="wrong") as stranger:
        with pytest.raises(planenet.Unauthorized):
            stranger.set_alias(name, "prod", 1)
        with pytest.raises(planenet.Unauthorized):
            stranger.patch_model(name, description="x")
        assert stranger.get_registered_model(name).name == name  # reading needs no key


def test_the_async_client_does_the_same(server: ServerProcess, client: planenet.Client) -> None:
    name = unique_name()
    first, second = train_versions(client, name, 2)

    async def session() -> None:
        async with planenet.AsyncClient(server.base_url, api_key=API_KEY) as aclient:
            page = await aclient.list_registered_models(limit=100)
            assert page.total <= 100  # the tests register far fewer names than that
            assert name in {entry.name for entry in page.items}
            registered = await aclient.set_alias(name, "prod", 1)
            assert registered.aliases == {"prod": 1}
            assert (await aclient.get_model(f"{name}@prod")).id == first.id
            detail = await aclient.get_registered_model(name)
            assert [version.id for version in detail.versions] == [second.id, first.id]
            patched = await aclient.patch_model(f"{name}@prod", tags={"a": "b"})
            assert patched.tags == {"a": "b"}
            named = await aclient.patch_registered_model(name, description="async")
            assert named.description == "async"
            answer = await aclient.predict(f"{name}@prod", POINTS, threshold=0.99)
            assert answer.labels == [int(p > 0.99) for p in answer.probabilities]
            evaluation = await aclient.evaluate(
                f"{name}@prod", POINTS, [1, 0, 1, 0], threshold=0.3, as_plotly=True
            )
            assert evaluation.threshold == 0.3
            assert evaluation.figures is not None
            assert isinstance(evaluation.figures["confusion_matrix"], go.Figure)
            with pytest.raises(planenet.WrongState):
                await aclient.delete_model(f"{name}@prod")
            with pytest.raises(planenet.InvalidInput):
                await aclient.set_alias(name, "latest", 1)
            await aclient.delete_alias(name, "prod")
            with pytest.raises(planenet.NotFound):
                await aclient.delete_alias(name, "prod")
            await aclient.set_alias(name, "prod", 1)
            await aclient.delete_model(f"{name}@prod", force=True)
            with pytest.raises(planenet.NotFound):
                await aclient.get_model(first.id)

    asyncio.run(session())


def test_only_requests_safe_to_repeat_are_repeated() -> None:
    """Reads and idempotent writes (an alias's PUT, a merge patch) on any connection failure;
    deletes only when nothing reached the server."""
    patch = api.metadata_patch("text", {"a": None})
    assert patch == {"description": "text", "tags": {"a": None}}
    assert api.metadata_patch(api.UNSET, None) == {}
    assert api.metadata_patch(None, None) == {"description": None}
    repeats = [
        (api.list_registered_models(None, None), Repeat.ALWAYS),
        (api.get_registered_model("n"), Repeat.ALWAYS),
        (api.evaluate("n", POINTS, [1, 0, 1, 0], None, False), Repeat.ALWAYS),
        (api.predict("n", POINTS, 0.7), Repeat.ALWAYS),
        (api.set_alias("n", "prod", 1), Repeat.ALWAYS),
        (api.patch_model("n", patch), Repeat.ALWAYS),
        (api.patch_registered_model("n", patch), Repeat.ALWAYS),
        (api.delete_alias("n", "prod"), Repeat.IF_UNSENT),
        (api.delete_model("n", True), Repeat.IF_UNSENT),
    ]
    for request, repeat in repeats:
        assert request.repeat is repeat, request


def test_references_become_one_path_segment() -> None:
    assert api.get_model("two-blobs@v2").path == "/models/two-blobs@v2"
    assert api.predict("a.b_c@champion", POINTS, None).path == "/models/a.b_c@champion/predict"
    assert api.set_alias("n", "x/y", 1).path == "/registered-models/n/aliases/x%2Fy"
    assert api.get_registered_model("..").path == "/registered-models/%2E%2E"
    assert api.delete_model("n@prod", True).params == {"force": "true"}
    assert api.delete_model("n@prod", False).params == {}
    assert api.evaluate("n", POINTS, [1], 0.4, True).params == {"figures": "true"}


def test_idempotent_writes_are_repeated_after_503_and_deletes_are_not(
    server: ServerProcess, client: planenet.Client
) -> None:
    name = unique_name()
    train_versions(client, name, 2)
    patient = planenet.Retry(retries=5, backoff=0.05)
    with (
        running_proxy(server.port, unavailable=2) as proxy,
        planenet.Client(proxy.url, api_key=API_KEY, retry=patient) as through,
    ):
        assert through.set_alias(name, "prod", 2).aliases == {"prod": 2}
        assert [c.answered_unavailable for c in proxy.connections] == [True, True, False]
    with (
        running_proxy(server.port, unavailable=2) as proxy,
        planenet.Client(proxy.url, api_key=API_KEY, retry=patient) as through,
    ):
        assert through.patch_model(f"{name}@prod", tags={"k": "v"}).tags == {"k": "v"}
        assert len(proxy.connections) == 3
    with (
        running_proxy(server.port, unavailable=1) as proxy,
        planenet.Client(proxy.url, api_key=API_KEY, retry=patient) as through,
    ):
        with pytest.raises(planenet.ServiceUnavailable):
            through.delete_alias(name, "prod")
        assert len(proxy.connections) == 1
    assert client.get_registered_model(name).aliases == {"prod": 2}

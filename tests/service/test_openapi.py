"""The OpenAPI document: short, stable operation ids that generated clients can use as names."""

import re
from pathlib import Path
from typing import Any

import pytest

from service.app import create_app
from tests.helpers.app import make_settings

CAMEL_CASE = re.compile(r"[a-z]+(?:[A-Z][a-z0-9]*)*")
HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options"}


@pytest.fixture
def document(tmp_path: Path) -> dict[str, Any]:
    schema: dict[str, Any] = create_app(make_settings(tmp_path)).openapi()
    return schema


def operation_ids(document: dict[str, Any]) -> list[str]:
    return [
        operation["operationId"]
        for item in document["paths"].values()
        for method, operation in item.items()
        if method in HTTP_METHODS
    ]


def test_every_operation_has_a_unique_camel_case_id(document: dict[str, Any]) -> None:
    ids = operation_ids(document)
    assert len(ids) == len(set(ids))
    assert [name for name in ids if not CAMEL_CASE.fullmatch(name)] == []


def test_the_ids_are_the_names_a_person_would_choose(document: dict[str, Any]) -> None:
    paths = document["paths"]
    assert paths["/jobs"]["post"]["operationId"] == "createJob"
    assert paths["/jobs"]["get"]["operationId"] == "listJobs"
    assert paths["/jobs/{job_id}"]["get"]["operationId"] == "getJob"
    assert paths["/jobs/{job_id}/cancel"]["post"]["operationId"] == "cancelJob"
    assert paths["/jobs/{job_id}/events"]["get"]["operationId"] == "watchJob"
    assert paths["/models/{model_id}"]["delete"]["operationId"] == "deleteModel"
    assert paths["/predict"]["post"]["operationId"] == "predict"


def test_every_route_behind_the_key_documents_its_401(document: dict[str, Any]) -> None:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method not in HTTP_METHODS or path in {"/healthz", "/readyz"}:
                continue
            assert "401" in operation["responses"], f"{method.upper()} {path}"

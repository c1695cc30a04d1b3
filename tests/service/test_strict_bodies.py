"""The schema is the promise: strict numbers, and each key given once."""

from pathlib import Path

import pytest

from service.http.json_keys import DuplicateKey, check_unique_keys
from tests.helpers.app import make_settings, serve
from tests.helpers.problems import assert_problem, problem_fields

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ('{"epochs": "10"}', "body.epochs"),
        ('{"epochs": 10.5}', "body.epochs"),
        ('{"epochs": "10", "seed": 1.0}', "body.epochs"),
        ('{"epochs": true}', "body.epochs"),
        ('{"learning_rate": "0.5"}', "body.learning_rate"),
        ('{"data": {"n_samples": "200"}}', "body.data.n_samples"),
        ('{"hidden_layers": ["4"]}', "body.hidden_layers[0]"),
    ],
)
async def test_a_string_or_boolean_for_a_number_is_refused(
    tmp_path: Path, body: str, field: str
) -> None:
    async with serve(make_settings(tmp_path)) as client:
        answer = await client.post(
            "/jobs", content=body, headers={"content-type": "application/json"}
        )
        assert field in problem_fields(assert_problem(answer, 422, "validation-error"))
        assert (await client.get("/jobs")).json()["total"] == 0


@pytest.mark.parametrize(
    "body",
    [
        '{"epochs": 10, "epochs": 20}',
        '{"data": {"generator": "moons", "generator": "blobs"}}',
        '{"data": {"seed": 1, "se\\u0065d": 2}}',
    ],
)
async def test_a_repeated_key_is_refused_with_422(tmp_path: Path, body: str) -> None:
    async with serve(make_settings(tmp_path)) as client:
        answer = await client.post(
            "/jobs", content=body, headers={"content-type": "application/json"}
        )
        problem = assert_problem(answer, 422, "validation-error")
        assert "appears twice" in problem["detail"]
        predicted = await client.post(
            "/predict",
            content='{"points": [[1, 1]], "points": [[2, 2]]}',
            headers={"content-type": "application/json"},
        )
        assert_problem(predicted, 422, "validation-error")


async def test_integers_may_have_a_zero_fraction_as_json_schema_allows(tmp_path: Path) -> None:
    async with serve(make_settings(tmp_path)) as client:
        body = {"epochs": 10.0, "hidden_layers": [3.0], "data": {"points": [[0, 0], [1, 1]],
                "labels": [0.0, 1]}, "validation_fraction": 0}  # fmt: skip
        answer = await client.post("/jobs", json=body)
        assert answer.status_code == 202, answer.text
        assert answer.json()["config"]["epochs"] == 10
        assert answer.json()["config"]["hidden_layers"] == [3]


async def test_numbers_and_keys_given_once_pass(tmp_path: Path) -> None:
    async with serve(make_settings(tmp_path)) as client:
        body = '{"seed": 1, "learning_rate": 1, "data": {"seed": 2, "noise": 0}, "name": "a\\":b"}'
        answer = await client.post(
            "/jobs", content=body, headers={"content-type": "application/json"}
        )
        assert answer.status_code == 202, answer.text


def test_the_key_scan_finds_duplicates_only_within_one_object() -> None:
    check_unique_keys(b'{"a": {"b": 1}, "c": {"b": 2}, "b": [{"b": 3}]}')
    check_unique_keys(b'{"text": "\\"a\\": 1, \\"a\\": 2", "a": 1}')
    with pytest.raises(DuplicateKey, match="'b'"):
        check_unique_keys(b'{"a": [{"b": 1, "b": 2}]}')
    with pytest.raises(DuplicateKey):
        check_unique_keys(b'{"a": 1, "a" : 2}')

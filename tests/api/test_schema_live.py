"""schemathesis against our own OpenAPI schema on a live server: no 5xx, responses as documented.

Driven through schemathesis's Python API with Hypothesis (its pytest plugin does not load under this
pytest), one run per operation, at least 1,000 requests in all.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from tests.live import LiveServer

EXAMPLES_PER_OPERATION = 80  # 29 operations: ~2,300 requests (160 each took 32 s of the suite)
# What a response must satisfy. Not "positive data acceptance": rules across fields (a batch no larger
# than the training set, a parameter budget) cannot be written in JSON Schema, so some schema-valid
# specs are rightly refused with 422.
CHECKS = [
    schemathesis.checks.not_a_server_error,
    schemathesis.checks.status_code_conformance,
    schemathesis.checks.content_type_conformance,
    schemathesis.checks.response_schema_conformance,
    schemathesis.checks.response_headers_conformance,
    schemathesis.checks.negative_data_rejection,
]


@pytest.fixture(scope="module")
def fuzzed_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    live = LiveServer(tmp_path_factory.mktemp("fuzz") / "fuzz.db", workers=1).start()
    yield live
    live.stop()


def test_every_operation_answers_as_documented(fuzzed_server: LiveServer) -> None:
    schema = schemathesis.openapi.from_url(f"{fuzzed_server.url}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 10
    sent: list[str] = []
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, suppress_health_check=list(HealthCheck))
        def check(case: Any) -> None:
            sent.append(case.operation.label)
            case.call_and_validate(base_url=fuzzed_server.url, checks=CHECKS)

        check()
    assert len(sent) >= 1000, f"only {len(sent)} requests"


def test_a_method_a_path_does_not_list_is_405_with_the_methods_it_does(fuzzed_server: LiveServer) -> None:
    schema = httpx.get(f"{fuzzed_server.url}/openapi.json").json()
    for template, operations in schema["paths"].items():
        path = template.replace("{", "x").replace("}", "")  # any id
        unlisted = next(m for m in ("PUT", "DELETE", "PATCH", "POST", "GET") if m.lower() not in operations)
        response = httpx.request(unlisted, fuzzed_server.url + path)
        assert response.status_code == 405, (unlisted, template, response.status_code)
        assert set(operations) <= set(response.headers["allow"].lower().split(", ")), template
        assert response.json()["detail"] == "Method Not Allowed"
    assert httpx.options(f"{fuzzed_server.url}/api/jobs").headers["allow"] == "GET, POST"
    assert httpx.get(f"{fuzzed_server.url}/api/nothing").status_code == 404  # not the page's file server


def test_the_configured_limits_are_schema_constraints(fuzzed_server: LiveServer) -> None:
    schema = httpx.get(f"{fuzzed_server.url}/openapi.json").json()
    limits = httpx.get(f"{fuzzed_server.url}/api/meta").json()["limits"]
    components = schema["components"]["schemas"]
    assert components["OptimSpec"]["properties"]["steps"]["maximum"] == limits["max_steps"]
    assert components["OptimSpec"]["properties"]["lr"]["maximum"] == limits["max_lr"]
    assert components["MLPSpec"]["properties"]["hidden"]["maxItems"] == limits["max_hidden_layers"]
    assert components["MLPSpec"]["properties"]["hidden"]["items"]["maximum"] == limits["max_width"]
    assert components["Points2DData"]["properties"]["n_points"]["maximum"] == limits["max_points"]
    [max_points] = [
        p for p in schema["paths"]["/api/jobs/{job_id}/scalars"]["get"]["parameters"] if p["name"] == "max_points"
    ]
    assert max_points["schema"]["maximum"] == limits["max_scalar_points"]
    create = schema["paths"]["/api/jobs"]["post"]["responses"]
    assert {"400", "413", "422", "503"} <= set(create)
    export = schema["paths"]["/api/groups/{group_id}/export"]["get"]["responses"]["200"]["content"]
    assert set(export) == {"text/csv; charset=utf-8", "application/x-ndjson", "application/gzip"}


def test_a_body_that_is_not_utf8_is_a_documented_400_and_true_is_no_number(fuzzed_server: LiveServer) -> None:
    url = fuzzed_server.url
    latin1 = httpx.post(f"{url}/api/jobs", content=b'{"name": "caf\xe9"}', headers={"content-type": "application/json"})
    assert latin1.status_code == 400
    refused = httpx.post(f"{url}/api/jobs", json={"data": {"offset": [0, False]}, "optim": {"steps": True}})
    assert refused.status_code == 422
    assert {tuple(e["loc"]) for e in refused.json()["detail"]} == {
        ("body", "data", "points2d", "offset", 1),
        ("body", "optim", "steps"),
    }
    huge = {"page": "playground", "values": {"model.conv": [{"channels": int("9" * 4000)}]}}
    assert httpx.put(f"{url}/api/room", json=huge).status_code == 422  # never broadcast to the room

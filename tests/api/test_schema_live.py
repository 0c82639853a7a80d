"""schemathesis against our own OpenAPI schema on a live server: no 5xx, responses as documented.

Driven through schemathesis's Python API with Hypothesis (its pytest plugin does not load under this
pytest), one run per operation, at least 1,000 requests in all.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from tests.live import LiveServer

EXAMPLES_PER_OPERATION = 160
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

"""Schemathesis against the app's own OpenAPI schema: requests generated from every operation's schema, valid
ones and deliberately invalid ones, with no 5xx answer and every answer conforming to the schema."""

from __future__ import annotations

import time
from collections import Counter

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from backend import ServerSettings, create_app

EXAMPLES = {GenerationMode.POSITIVE: 100, GenerationMode.NEGATIVE: 60}
"""per operation and mode; some operations have fewer distinct cases (GET /v1/health has one)"""
MIN_REQUESTS = 1000


@pytest.fixture(scope="module")
def schema():
    # Room for every job the run submits: a full queue's 503 is load shedding, not the kind of answer this hunts.
    app = create_app(ServerSettings(queued_jobs=10_000))
    app.state.ludoforge.load()  # schemathesis calls the app without running its start-up
    app.state.ludoforge.jobs.start()
    yield schemathesis.openapi.from_asgi("/openapi.json", app)
    app.state.ludoforge.jobs.stop()
    app.state.ludoforge.close()


def test_generated_requests_get_no_5xx_and_every_answer_fits_the_schema(schema) -> None:
    statuses: Counter[int] = Counter()
    unsatisfiable: set[str] = set()
    start = time.perf_counter()
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode, examples in EXAMPLES.items():
            try:
                _fuzz(operation, mode, examples, statuses)
            except Unsatisfiable:
                assert mode is GenerationMode.NEGATIVE
                unsatisfiable.add(operation.label)
    total = sum(statuses.values())
    print(f"schemathesis: {total} requests in {time.perf_counter() - start:.0f} s, statuses {dict(statuses)}")
    # only operations that take no input, or any bytes at all, have no invalid request to make
    assert unsatisfiable <= {"GET /v1/health", "GET /v1/info", "POST /v1/uploads"}
    assert total >= MIN_REQUESTS
    assert not [s for s in statuses if s >= 500]


def _fuzz(operation, mode: GenerationMode, examples: int, statuses: Counter[int]) -> None:
    # valid requests: the answer fits its schema; invalid ones: they are refused with a 4xx
    checks = [not_a_server_error, status_code_conformance, content_type_conformance]
    checks.append(response_schema_conformance if mode is GenerationMode.POSITIVE else negative_data_rejection)

    @settings(max_examples=examples, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case) -> None:
        response = case.call(timeout=60)  # some valid requests are heavy (16 textures of 1024 px)
        statuses[response.status_code] += 1
        case.validate_response(response, checks=checks)

    run()

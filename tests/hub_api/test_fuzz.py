"""Schemathesis against the committed OpenAPI document: generated valid and invalid requests to
every operation, authenticated as an admin (who reaches every operation), never get a 5xx, and
every answer has a documented status code, content type and shape."""

from __future__ import annotations

import pytest

from hub_api.openapi import DEFAULT_PATH

EXAMPLES_PER_OPERATION = 12


def _negatable(operation) -> bool:
    """Whether invalid requests can be generated quickly: invalid free-text path ids (only length
    bounds) are mostly rejected by the generator, ~10 s an operation for nothing; those are covered
    by test_errors instead."""
    typed = [p.definition.get("schema", {}).get("type") for p in operation.path_parameters]
    return "string" not in typed and bool(len(operation.query) or len(operation.body) or typed)


@pytest.mark.slow
def test_no_generated_request_gets_a_server_error(hub):
    import schemathesis
    from hypothesis import HealthCheck, given, settings
    from schemathesis import GenerationMode
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        response_schema_conformance,
        status_code_conformance,
    )

    schema = schemathesis.openapi.from_path(str(DEFAULT_PATH))
    schema.app = hub.client.app
    auth = hub.as_("admin")
    checks = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 17
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)[:2 if _negatable(operation) else 1]:

            @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None,
                      suppress_health_check=list(HealthCheck))
            @given(case=operation.as_strategy(generation_mode=mode))
            def run(case):
                case.call_and_validate(headers={**(case.headers or {}), **auth}, checks=checks)

            run()

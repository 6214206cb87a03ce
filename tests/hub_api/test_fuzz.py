"""Schemathesis against the committed OpenAPI document: generated valid and invalid requests to
every operation, authenticated as an admin (who reaches every operation), never get a 5xx."""

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

    schema = schemathesis.openapi.from_path(str(DEFAULT_PATH))
    schema.app = hub.client.app
    auth = hub.as_("admin")
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 17
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)[:2 if _negatable(operation) else 1]:

            @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None,
                      suppress_health_check=list(HealthCheck))
            @given(case=operation.as_strategy(generation_mode=mode))
            def run(case):
                response = case.call(headers={**(case.headers or {}), **auth})
                if response.status_code >= 500:
                    failures.append(f"{case.method} {case.formatted_path} {case.query} -> "
                                    f"{response.status_code} {response.text[:200]}")

            run()
    assert failures == []

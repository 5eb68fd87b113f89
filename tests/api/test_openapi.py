"""Property-based run of schemathesis against /openapi.json of a running daemon: no 5xx, answers match the schema.

The daemon runs on its own thread and serves over a real socket, so the app runs on the daemon's own event
loop as in production. Each operation gets a few valid and a few invalid examples, to stay well under a minute.
(The schemathesis pytest plugin's lazy fixture loader does not work with this pytest, so operations are walked
here explicitly.)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from .conftest import READ_TOKEN, WRITE, WRITE_TOKEN, DaemonThread

CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance, content_type_conformance]


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=["valid", "invalid"])
def test_every_operation_conforms_to_the_schema(tmp_path: Path, mode: GenerationMode) -> None:
    """Whatever input is sent, the answer is never a 5xx and always matches the documented status and shape."""
    server = DaemonThread(tmp_path, api_token=WRITE_TOKEN, api_read_token=READ_TOKEN)
    url = server.start()
    try:
        schema = schemathesis.openapi.from_url(f"{url}/openapi.json")
        operations = []
        for result in schema.get_all_operations():
            assert isinstance(result, Ok), result
            operations.append(result.ok())
        assert len(operations) >= 14
        for operation in operations:

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(
                max_examples=8,
                deadline=None,
                database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
            )
            def check(case: Case[Any]) -> None:
                case.call_and_validate(base_url=url, headers=WRITE, checks=CHECKS)

            try:
                check()
            except Unsatisfiable:
                # An operation with no parameters and no body (e.g. /healthz) has no invalid input to send.
                assert mode is GenerationMode.NEGATIVE
    finally:
        server.stop()

"""Property-based run of every operation in the OpenAPI document against a real server:
whatever schemathesis generates (valid bodies and parameters, and in its negative mode ones
that break the schema: wrong types, missing fields, junk headers), the answer is
never a 5xx, and its status is one the document lists for that operation (schemathesis'
``status_code_conformance``): the document says what a route really answers.

The operations are walked by hand (``as_strategy``) rather than through schemathesis' pytest
plugin, whose lazy fixtures do not run on pytest 9."""

from __future__ import annotations

import itertools
from collections import Counter

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import status_code_conformance

from tests.conftest import Persona
from tests.e2e.conftest import Server

pytestmark = pytest.mark.e2e

EXAMPLES = 30


def test_no_operation_ever_answers_5xx_or_an_undocumented_status(
    server: Server, owner: Persona
) -> None:
    schema = schemathesis.openapi.from_url(f"{server.url}/openapi.json")
    failures: Counter[str] = Counter()
    calls: list[int] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 15, [o.label for o in operations]

    for operation, mode in itertools.product(operations, GenerationMode):

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
        )
        def exercise(case: schemathesis.Case) -> None:
            # Point path ids at the owner's real campaign half of the time, so generated
            # bodies get past the 404 and reach validation and storage.
            params = case.path_parameters or {}
            if "campaign_id" in params and hash(repr(case.body)) % 2 == 0:
                params["campaign_id"] = owner.campaign_id
            response = case.call(base_url=server.url, headers=owner.headers, timeout=30)
            calls.append(response.status_code)
            documented = set(case.operation.definition.raw["responses"])
            problem = None
            if str(response.status_code) not in documented | {"default"}:
                problem = f"undocumented (documented: {sorted(documented)})"
            try:
                case.validate_response(
                    response, checks=[not_a_server_error, status_code_conformance]
                )
            except BaseException as exc:  # schemathesis' FailureGroup is a BaseExceptionGroup
                if isinstance(exc, KeyboardInterrupt):
                    raise
                problem = problem or str(exc).splitlines()[0]
            if problem:
                text = response.text[:160].replace("\n", " ")
                key = f"{case.method} {case.operation.path}: {response.status_code} {problem}"
                failures[f"{key} — {text}"] += 1

        try:
            exercise()
        except Unsatisfiable:
            assert mode is GenerationMode.NEGATIVE, operation.label  # nothing to break
    # One line per (operation, status, answer): what is wrong, not 30 repeats of it.
    assert not failures, "\n".join(sorted(failures)[:40])
    assert len(calls) >= len(operations) * 5  # the run really exercised every operation

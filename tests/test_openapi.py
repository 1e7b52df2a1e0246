"""The OpenAPI document and the interactive docs."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import COMPAT

pytestmark = pytest.mark.anyio


async def test_the_document_describes_the_compatible_endpoint(client: httpx.AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()
    operation = schema["paths"][COMPAT]["post"]
    body = schema["components"]["schemas"]["CompatRow"]
    assert set(body["required"]) == {"campaignId", "phone_number"}
    assert {"200", "400", "401", "404", "409", "413", "422", "429"} <= set(operation["responses"])
    examples = operation["responses"]["422"]["content"]["application/json"]["examples"]
    example = examples["invalid_phone_number"]["value"]
    assert example["result"] is False
    assert example["error"]["code"] == "invalid_phone_number"


async def test_every_error_answer_in_the_document_has_the_compatible_shape(
    client: httpx.AsyncClient,
) -> None:
    schema = (await client.get("/openapi.json")).json()
    assert "HTTPValidationError" not in schema["components"]["schemas"]
    for path, item in schema["paths"].items():
        for operation in item.values():
            for status, answer in operation["responses"].items():
                if (path, status) == ("/healthz", "503"):
                    continue  # the health report itself, which says what is unavailable
                if status.startswith(("4", "5")) and "content" in answer:
                    ref = answer["content"]["application/json"]["schema"]["$ref"]
                    assert ref.endswith("/ErrorAnswer"), (operation["summary"], status)


async def test_the_keys_are_declared_as_security_schemes(client: httpx.AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()
    schemes = schema["components"]["securitySchemes"]
    assert schemes["ProjectId"]["name"] == "x-project-id"
    assert schemes["AuthKey"]["name"] == "Auth-key"
    assert schema["paths"]["/healthz"]["get"]["security"] == []


async def test_interactive_docs_load_their_assets_from_this_server(
    client: httpx.AsyncClient,
) -> None:
    page = await client.get("/docs")
    assert page.status_code == 200
    assert "cdn" not in page.text.lower()
    asset = page.text.split('src="', 1)[1].split('"', 1)[0]
    assert asset.startswith("/")
    assert (await client.get(asset)).status_code == 200


def _operations(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, operation)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
    ]


async def test_every_operation_has_an_example_for_its_request_and_every_answer(
    client: httpx.AsyncClient,
) -> None:
    schema = (await client.get("/openapi.json")).json()
    missing = []
    for method, path, operation in _operations(schema):
        for media, body in operation.get("requestBody", {}).get("content", {}).items():
            if "example" not in body and "examples" not in body:
                missing.append(f"{method} {path} request {media}")
        for status, answer in operation["responses"].items():
            for media, body in answer.get("content", {}).items():
                if "example" not in body and "examples" not in body:
                    missing.append(f"{method} {path} {status} {media}")
    assert missing == []
    preview = schema["paths"]["/power-dialer/imports/preview"]["post"]
    assert preview["responses"]["200"]["content"]["application/json"]["example"]["rows"]
    rejected = schema["paths"]["/power-dialer/imports/{job_id}/rejected.csv"]["get"]
    assert rejected["responses"]["200"]["content"]["text/csv"]["example"].startswith("\ufeffline,")


async def test_every_operation_lists_the_statuses_what_stands_before_it_can_answer(
    client: httpx.AsyncClient,
) -> None:
    schema = (await client.get("/openapi.json")).json()
    for method, path, operation in _operations(schema):
        statuses = set(operation["responses"])
        public = path in ("/healthz", "/power-dialer/limits")
        expected = {"400"} | (set() if public else {"401", "429", "503"})
        if "requestBody" in operation:
            expected |= {"413", "422"}
        if method == "POST":
            expected |= {"400", "409", "422"}  # Idempotency-Key
        assert expected <= statuses, (method, path, sorted(expected - statuses))
    upload = schema["paths"]["/power-dialer/campaigns/{campaign_id}/imports"]["post"]
    examples = upload["responses"]["422"]["content"]["application/json"]["examples"]
    assert {"invalid_upload", "invalid_mapping"} <= set(examples)

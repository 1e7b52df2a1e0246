"""The OpenAPI document and the interactive docs."""

from __future__ import annotations

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
    example = operation["responses"]["422"]["content"]["application/json"]["example"]
    assert example["result"] is False
    assert example["error"]["code"] == "invalid_phone_number"


async def test_every_error_answer_in_the_document_has_the_compatible_shape(
    client: httpx.AsyncClient,
) -> None:
    schema = (await client.get("/openapi.json")).json()
    assert "HTTPValidationError" not in schema["components"]["schemas"]
    for item in schema["paths"].values():
        for operation in item.values():
            for status, answer in operation["responses"].items():
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

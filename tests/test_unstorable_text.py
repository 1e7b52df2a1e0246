"""Text that cannot be stored — a lone surrogate (``"\\ud800"``: valid JSON, but no UTF-8
exists for it), bytes that are not UTF-8, a NUL — in any field of any route is a 4xx naming
the field, never a 5xx.  The routes are not listed by hand: every operation of the OpenAPI
document is walked, each of its JSON body's texts, query, path and header parameters in turn,
and the upload's multipart names.  The web UI's forms: tests/ui/test_ui_error_shape.py."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import pytest

from tests.conftest import Persona

pytestmark = pytest.mark.anyio

SURROGATE = "\ud800"
NOT_UTF8 = "%ED%A0%80"  # a surrogate as CESU-8 bytes: not UTF-8
NUL = "%00"


def operations(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, operation)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if method in {"get", "post", "put", "patch", "delete"}
    ]


def fill_path(path: str, persona: Persona, **override: str) -> str:
    values = {
        "campaign_id": str(persona.campaign_id),
        "row_id": "1",
        "job_id": "1",
        "number": "380930000000",
        "lease_id": "1",
        "code": "sale",
        "user_id": "1",
        **override,
    }
    return re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], path)


def json_example(schema: dict[str, Any], operation: dict[str, Any]) -> Any:
    content = operation.get("requestBody", {}).get("content", {}).get("application/json")
    if content is None:
        return None
    if "example" in content:
        return content["example"]
    if "examples" in content:  # named examples (openapi_examples): the first one's value
        return next(iter(content["examples"].values()))["value"]
    ref = content["schema"]["$ref"].rsplit("/", 1)[1]
    return schema["components"]["schemas"][ref]["examples"][0]


def text_leaves(value: Any, path: str = "") -> list[str]:
    """Dotted paths of the string values in a JSON value."""
    if isinstance(value, str):
        return [path]
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return []
    found: list[str] = []
    for key, child in items:
        found += text_leaves(child, f"{path}.{key}" if path else str(key))
    return found


def replaced(value: Any, path: list[str], text: str) -> Any:
    if not path:
        return text
    head, *rest = path
    if isinstance(value, list):
        copy = list(value)
        copy[int(head)] = replaced(copy[int(head)], rest, text)
        return copy
    return {**value, head: replaced(value[head], rest, text)}


def assert_refused(answer: httpx.Response, field: str | None, what: str) -> None:
    assert 400 <= answer.status_code < 500, (what, answer.status_code, answer.text[:300])
    body = answer.json()
    assert body["result"] is False, what
    if field is not None:
        assert body["error"].get("field") == field, (what, body)


@pytest.fixture
async def schema(client: httpx.AsyncClient) -> dict[str, Any]:
    return (await client.get("/openapi.json")).json()  # type: ignore[no-any-return]


async def test_a_lone_surrogate_in_any_json_text_is_422_naming_the_field(
    client: httpx.AsyncClient, owner: Persona, schema: dict[str, Any]
) -> None:
    walked = 0
    for method, path, operation in operations(schema):
        example = json_example(schema, operation)
        if example is None:
            continue
        url = fill_path(path, owner)
        if isinstance(example, dict) and "campaignId" in example:
            example = {**example, "campaignId": owner.campaign_id}
        cases = [
            (leaf, replaced(example, leaf.split("."), SURROGATE)) for leaf in text_leaves(example)
        ]
        if isinstance(example, dict):  # a key, too
            cases.append(("\\ud800", {**example, SURROGATE: "x"}))
        for field, body in cases:
            raw = json.dumps(body).encode()  # ensure_ascii: "\ud800" as the JSON escape
            headers = {**owner.headers, "content-type": "application/json"}
            answer = await client.request(method, url, content=raw, headers=headers)
            assert_refused(answer, field, f"{method} {path} {field}")
            assert answer.json()["error"]["code"] == "invalid_text"
            walked += 1
    assert walked >= 8, walked  # campaigns (create, update), the compatible row, bulk rows


@pytest.mark.parametrize("bad", [NOT_UTF8, NUL])
async def test_unstorable_text_in_any_query_parameter_is_400_naming_it(
    client: httpx.AsyncClient, owner: Persona, schema: dict[str, Any], bad: str
) -> None:
    walked = 0
    for method, path, operation in operations(schema):
        for parameter in operation.get("parameters", []):
            if parameter["in"] != "query":
                continue
            name = parameter["name"]
            url = f"{fill_path(path, owner)}?{name}=a{bad}b"
            answer = await client.request(method, url, headers=owner.headers)
            assert_refused(answer, name, f"{method} {path} ?{name}")
            assert answer.json()["error"]["code"] == "invalid_text"
            walked += 1
    assert walked >= 10, walked


async def test_unstorable_text_in_a_path_or_header_parameter_is_a_4xx(
    client: httpx.AsyncClient, owner: Persona, schema: dict[str, Any]
) -> None:
    for method, path, operation in operations(schema):
        for parameter in operation.get("parameters", []):
            name = parameter["name"]
            if parameter["in"] == "path":
                url = fill_path(path, owner, **{name: f"1{NOT_UTF8}"})
                answer = await client.request(method, url, headers=owner.headers)
                assert_refused(answer, None, f"{method} {path} {name}")
            elif parameter["in"] == "header":
                headers = {**owner.headers, name: b"k\xed\xa0\x80"}  # type: ignore[dict-item]
                answer = await client.request(method, fill_path(path, owner), headers=headers)
                assert answer.status_code < 500, (method, path, name, answer.text[:300])
    # The credentials: every operation has them, the compatible endpoint included.
    for method, path, _operation in operations(schema):
        for name in ("x-project-id", "Auth-key"):
            headers = {**owner.headers, name: b"1\xed\xa0\x80"}  # type: ignore[dict-item]
            answer = await client.request(method, fill_path(path, owner), headers=headers)
            assert answer.status_code < 500, (method, path, name, answer.text[:300])
            if path not in ("/healthz", "/power-dialer/limits"):
                assert answer.status_code == 401, (method, path, name, answer.text[:300])


async def test_multipart_names_and_filenames_that_are_not_utf8_are_422_naming_the_field(
    client: httpx.AsyncClient, owner: Persona, schema: dict[str, Any]
) -> None:
    boundary = "b0undary"

    def form(disposition: bytes, value: bytes = b"phone\r\n380930000001\r\n") -> bytes:
        return (
            b"--"
            + boundary.encode()
            + b"\r\nContent-Disposition: form-data; "
            + disposition
            + b"\r\n\r\n"
            + value
            + b"\r\n--"
            + boundary.encode()
            + b"--\r\n"
        )

    cases = {
        "file": form(b'name="file"; filename="\xed\xa0\x80.csv"'),
        "form": form(b'name="\xed\xa0\x80"'),
        "mapping": form(b'name="mapping"', b'{"phone": "\xed\xa0\x80"}'),
    }
    walked = 0
    for method, path, operation in operations(schema):
        if "multipart/form-data" not in operation.get("requestBody", {}).get("content", {}):
            continue
        for field, body in cases.items():
            headers = {**owner.headers, "content-type": f"multipart/form-data; boundary={boundary}"}
            answer = await client.request(
                method, fill_path(path, owner), content=body, headers=headers
            )
            assert_refused(answer, field, f"{method} {path} {field}")
            walked += 1
    assert walked >= 6, walked

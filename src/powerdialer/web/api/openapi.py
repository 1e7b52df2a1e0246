"""The OpenAPI document: FastAPI's, plus what it cannot see.

- The compatible endpoint is a raw ASGI handler (web/compat.py), outside FastAPI's router, so
  its operation is described here by hand from pydantic models.
- Every error is the compatible shape ``{"result": false, "error": {...}}``, not FastAPI's
  ``{"detail": ...}``: the generic 401/422/429 answers are rewritten to say so.
- ``x-project-id`` and ``Auth-key`` are declared as API-key security schemes, so the
  interactive docs' "Authorize" button fills them in for every call.

Past 300 lines on purpose: hand-written parts of the document that FastAPI cannot see, one
function a part.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel, ConfigDict, Field

from powerdialer.web.compat import PATH as COMPAT_PATH

PUBLIC_PATHS = {"/healthz", "/power-dialer/limits"}


class CompatRow(BaseModel):
    """One number for a campaign, exactly as Ringostat's article sends it."""

    model_config = ConfigDict(extra="allow")
    campaignId: int | str = Field(  # the vendor's field name
        description="The campaign's id (editCampaign in the edit page's URL); an integer or a "
        "string of digits.",
        examples=[456],
    )
    fio: str | None = Field(
        default=None,
        max_length=255,
        description="The contact's full name (optional).",
        examples=["Іван Петренко"],
    )
    phone_number: str | int = Field(
        description="The number in any usual spelling: 380930000000, +380 93 000 00 00, "
        "093-000-00-00. Stored in E.164.",
        examples=["380930000000"],
    )


class ResultTrue(BaseModel):
    """The row is durably stored (or the number was already in the campaign)."""

    result: Literal[True]


class ErrorDetail(BaseModel):
    code: str = Field(description="Machine code, e.g. invalid_phone_number.")
    message: str = Field(description="One sentence naming the field and the fix.")
    field: str | None = Field(default=None, description="The field or header at fault.")
    reason: str | None = Field(default=None, description="Finer cause, e.g. too_short.")


class ErrorAnswer(BaseModel):
    """Every error of every endpoint: clients that only test `result` keep working."""

    result: Literal[False]
    error: ErrorDetail


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


def _error(description: str, code: str, message: str, **extra: str) -> dict[str, Any]:
    example = {"result": False, "error": {"code": code, "message": message, **extra}}
    return {
        "description": description,
        "content": {"application/json": {"schema": _ref("ErrorAnswer"), "example": example}},
    }


COMPAT_OPERATION: dict[str, Any] = {
    "tags": ["compatible"],
    "summary": "Add one number to a campaign (Ringostat-compatible)",
    "description": (
        "Wire-compatible with `POST https://api.ringostat.net/power-dialer/campaigns/"
        "campaign-rows`: the vendor's Node.js, axios and cURL examples work unchanged but for "
        'the host. `{"result": true}` is sent only after the row is committed to disk. A '
        "number already in the campaign is not added twice (still `result: true`). Errors keep "
        "`result: false` and add `error.code` and `error.message`; a wrong key is reported "
        "before anything about the body."
    ),
    "operationId": "add_campaign_row",
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": _ref("CompatRow"),
                "example": {
                    "campaignId": 456,
                    "fio": "Іван Петренко",
                    "phone_number": "380930000000",
                },
            }
        },
    },
    "responses": {
        "200": {
            "description": "Stored durably.",
            "content": {
                "application/json": {"schema": _ref("ResultTrue"), "example": {"result": True}}
            },
        },
        "400": _error(
            "The body is not JSON, or not a JSON object (or a credential header is repeated: "
            "duplicate_header).",
            "malformed_json",
            "the body is not valid JSON (…): send a JSON object.",
        ),
        "401": _error(
            "Missing or wrong x-project-id / Auth-key.",
            "invalid_auth_key",
            "Auth-key is not a valid key of the project in x-project-id: copy the "
            "key from the API page or `powerdialer key create`.",
            field="Auth-key",
        ),
        "404": _error(
            "No such campaign in this project (also another project's).",
            "campaign_not_found",
            "campaignId 456 is not a campaign of this project: "
            "copy the id from the campaign list (editCampaign in the edit page's URL).",
            field="campaignId",
        ),
        "409": _error(
            "The campaign is archived.",
            "campaign_archived",
            "campaign 456 is archived and takes no new rows: unarchive it or choose "
            "another campaign.",
            field="campaignId",
        ),
        "413": _error(
            "The body is over the size limit.",
            "body_too_large",
            "the body is larger than 16384 bytes: send one row per request (or use "
            "the bulk endpoint).",
        ),
        "422": _error(
            "A field is invalid.",
            "invalid_phone_number",
            "phone_number '12' is not a valid phone number: the number has too few "
            "digits; send the full number, e.g. 380930000000.",
            field="phone_number",
            reason="too_short",
        ),
        "429": _error(
            "The key's rate limit is exhausted; see Retry-After.",
            "rate_limited",
            "too many requests for this key: retry after 1 s (limit 2000/s, burst 4000).",
        ),
        "503": _error(
            "The database could not commit; nothing was stored; retry.",
            "storage_unavailable",
            "the database could not store the row: the row was NOT stored; retry in 1 s "
            "(Retry-After).",
        ),
    },
}


def _add_models(schema: dict[str, Any], *models: type[BaseModel]) -> None:
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for model in models:
        model_schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        components.update(model_schema.pop("$defs", {}))
        components[model.__name__] = model_schema


def _fix_generic_errors(schema: dict[str, Any]) -> None:
    for path, item in schema.get("paths", {}).items():
        for method, operation in item.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            responses = operation.setdefault("responses", {})
            if "HTTPValidationError" in str(responses.get("422", "")):
                responses["422"] = _error(
                    "A field or parameter is invalid.",
                    "invalid_field",
                    "limit: Input should be less than or equal to 1000; fix it and send again.",
                    field="limit",
                )
            if path in PUBLIC_PATHS:
                operation["security"] = []
                continue
            responses.setdefault(
                "401",
                _error(
                    "Missing or wrong x-project-id / Auth-key.",
                    "invalid_auth_key",
                    "Auth-key is not a valid key of the project in x-project-id: …",
                    field="Auth-key",
                ),
            )
            responses.setdefault(
                "400",
                _error(
                    "x-project-id, Auth-key or Authorization is sent more than once.",
                    "duplicate_header",
                    "the Auth-key header is sent more than once: send it exactly once, "
                    "with one value.",
                    field="Auth-key",
                ),
            )
            responses.setdefault(
                "429",
                _error(
                    "Rate limit exhausted; see Retry-After.",
                    "rate_limited",
                    "too many requests for this key: retry after 1 s (…).",
                ),
            )
    components = schema.get("components", {}).get("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):
        components.pop(unused, None)


_Cause = tuple[int, str, str, str, dict[str, str]]
# What a route can answer beyond its own errors, because of what stands in front of every
# route (web/app.py): (status, code, description, example message, extra example fields).
_URL_TEXT: _Cause = (
    400,
    "invalid_text",
    "A query parameter holds a NUL or bytes that are not UTF-8.",
    "the query parameter 'q': its value is not UTF-8 text: percent-encode UTF-8.",
    {"field": "q"},
)
_UNAVAILABLE: _Cause = (
    503,
    "storage_unavailable",
    "The database (or, for uploads, the disk) cannot be used right now; nothing was done; "
    "retry after Retry-After.",
    "the database is unavailable: nothing was stored; retry in 1 s (Retry-After).",
    {},
)
_TOO_LARGE: _Cause = (
    413,
    "body_too_large",
    "The body is over this route's size limit (GET /power-dialer/limits).",
    "the body is larger than 1048576 bytes (the limit here): send a smaller body.",
    {},
)
_INVALID: _Cause = (
    422,
    "invalid_field",
    "A parameter or body field is invalid.",
    "limit: Input should be less than or equal to 1000; fix it and send again.",
    {"field": "limit"},
)
_UNSTORABLE: _Cause = (
    422,
    "invalid_text",
    "A JSON text holds a lone surrogate (\\ud800): no database can store it.",
    "name contains a lone surrogate (an escape such as \\ud800 without its pair): that is not "
    "text any database can store; send name as valid Unicode.",
    {"field": "name"},
)
# Idempotency-Key (web/middleware/idempotency.py) is honoured on every POST.
_IDEMPOTENCY: list[_Cause] = [
    (
        400,
        "invalid_idempotency_key",
        "Idempotency-Key is not 1 to 255 printable ASCII characters.",
        "Idempotency-Key must be 1 to 255 printable ASCII characters: send e.g. a UUID, new "
        "for each operation and the same for its retries.",
        {"field": "Idempotency-Key"},
    ),
    (
        409,
        "idempotency_in_progress",
        "The first request with this Idempotency-Key still runs; see Retry-After.",
        "the first request with this Idempotency-Key is still running: retry after the time "
        "in Retry-After to get its answer.",
        {"field": "Idempotency-Key"},
    ),
    (
        422,
        "idempotency_key_reused",
        "The Idempotency-Key was used for a different request.",
        "this Idempotency-Key was already used for a different request (method, path, query "
        "or body): use a new key for a new operation.",
        {"field": "Idempotency-Key"},
    ),
]


def _add_cause(
    responses: dict[str, Any],
    status: int,
    code: str,
    description: str,
    message: str,
    extra: dict[str, str],
) -> None:
    """Document one more reason for ``status``, with its own named example."""
    value = {"result": False, "error": {"code": code, "message": message, **extra}}
    entry = responses.setdefault(str(status), {"description": description})
    media = entry.setdefault("content", {}).setdefault("application/json", {})
    media.setdefault("schema", _ref("ErrorAnswer"))
    examples = media.setdefault("examples", {})
    if "example" in media:  # one example so far: it becomes the first named one
        first = media.pop("example")
        examples.setdefault(first.get("error", {}).get("code", "example"), {"value": first})
    if code not in examples:
        examples[code] = {"value": value}
        if description not in entry.get("description", ""):
            entry["description"] = " / ".join(filter(None, [entry.get("description"), description]))


def _component_example(schema: dict[str, Any], media: dict[str, Any]) -> Any:
    ref = media.get("schema", {}).get("$ref", "")
    component = schema.get("components", {}).get("schemas", {}).get(ref.rsplit("/", 1)[-1], {})
    found = component.get("examples")
    return found[0] if found else None


def _complete(schema: dict[str, Any]) -> None:
    """Every status each operation really answers, and an example for every request body and
    every answer (tests/test_openapi.py checks; tests/e2e/test_schemathesis.py checks the
    statuses against what a real server answers)."""
    for path, item in schema.get("paths", {}).items():
        for method, operation in item.items():
            if method not in {"get", "put", "post", "patch", "delete"}:
                continue
            responses = operation.setdefault("responses", {})
            body = operation.get("requestBody")
            causes: list[_Cause] = []
            if path != COMPAT_PATH:
                causes.append(_URL_TEXT)  # the compatible endpoint reads no query
            if path not in PUBLIC_PATHS:
                causes.append(_UNAVAILABLE)
            if body is not None:
                causes += [_TOO_LARGE, _INVALID]
                if "application/json" in body.get("content", {}):
                    causes.append(_UNSTORABLE)
            if operation.get("parameters"):
                causes.append(_INVALID)
            if method == "post":
                causes += _IDEMPOTENCY
            for cause in causes:
                _add_cause(responses, *cause)
            for media in (body or {}).get("content", {}).values():
                if "example" not in media and "examples" not in media:
                    found = _component_example(schema, media)
                    if found is not None:
                        media["example"] = found
            for answer in responses.values():
                for media in answer.get("content", {}).values():
                    if "example" not in media and "examples" not in media:
                        found = _component_example(schema, media)
                        if found is not None:
                            media["example"] = found


def install(api: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if api.openapi_schema:
            return api.openapi_schema
        schema = get_openapi(
            title=api.title,
            version=api.version,
            description=api.description,
            routes=api.routes,
            tags=api.openapi_tags,
            webhooks=api.webhooks.routes,  # the event bodies (web/api/webhooks.py)
        )
        _add_models(schema, CompatRow, ResultTrue, ErrorAnswer)
        schema["paths"] = {COMPAT_PATH: {"post": COMPAT_OPERATION}, **schema.get("paths", {})}
        _fix_generic_errors(schema)
        _complete(schema)
        schema["components"]["securitySchemes"] = {
            "ProjectId": {
                "type": "apiKey",
                "in": "header",
                "name": "x-project-id",
                "description": "The project's integer id.",
            },
            "AuthKey": {
                "type": "apiKey",
                "in": "header",
                "name": "Auth-key",
                "description": "An API key of that project (pd_…).",
            },
        }
        schema["security"] = [{"ProjectId": [], "AuthKey": []}]
        api.openapi_schema = schema
        return schema

    api.openapi = openapi  # type: ignore[method-assign]

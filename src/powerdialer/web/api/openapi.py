"""The OpenAPI document: FastAPI's, plus what it cannot see.

- The compatible endpoint is a raw ASGI handler (web/compat.py), outside FastAPI's router, so
  its operation is described here by hand from pydantic models.
- Every error is the compatible shape ``{"result": false, "error": {...}}``, not FastAPI's
  ``{"detail": ...}``: the generic 401/422/429 answers are rewritten to say so.
- ``x-project-id`` and ``Auth-key`` are declared as API-key security schemes, so the
  interactive docs' "Authorize" button fills them in for every call.
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
            "the database could not store the row: the row was NOT stored; retry shortly.",
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
        )
        _add_models(schema, CompatRow, ResultTrue, ErrorAnswer)
        schema["paths"] = {COMPAT_PATH: {"post": COMPAT_OPERATION}, **schema.get("paths", {})}
        _fix_generic_errors(schema)
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

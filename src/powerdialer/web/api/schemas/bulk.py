"""Pydantic shapes of the bulk route, for the OpenAPI document.

The bulk body is NOT validated by pydantic: one bad row must be rejected on its own with the
compatible endpoint's codes, not fail the request, so the route parses the body itself
(``powerdialer.rows.validate.parse_new_row``) and these models only describe it.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from powerdialer.reader.fields import MAX_FIELD_NAME, MAX_FIELDS
from powerdialer.rows import dialer_fields, validate


class BulkRowIn(BaseModel):
    """One contact. Unknown keys are ignored."""

    phone_number: str | int = Field(
        description="The number in any usual spelling (380930000000, +380 93 000 00 00, "
        "093-000-00-00); stored in E.164.",
        examples=["380930000000"],
    )
    fio: str | None = Field(
        default=None, max_length=255, description="The contact's full name.", examples=["Іван"]
    )
    external_id: str | None = Field(
        default=None,
        max_length=validate.MAX_EXTERNAL_ID,
        description="The contact's id in your CRM (a string or an integer), kept with the row.",
        examples=["crm-1042"],
    )
    fields: dict[str, str] | None = Field(
        default=None,
        description=f"Custom fields: at most {MAX_FIELDS} names of 1-{MAX_FIELD_NAME} characters "
        f"to strings (numbers are kept as text) of at most {validate.MAX_FIELD_VALUE} "
        f"characters, {validate.MAX_FIELDS_BYTES} bytes of JSON in all.",
        examples=[{"city": "Київ", "deal": "4512"}],
    )
    priority: int | None = Field(
        default=None,
        ge=dialer_fields.MIN_PRIORITY,
        le=dialer_fields.MAX_PRIORITY,
        description="Higher is called first; 0 by default.",
        examples=[5],
    )
    call_next: bool | None = Field(
        default=None, description="Call before every row without the flag.", examples=[True]
    )
    tz: str | None = Field(
        default=None,
        max_length=dialer_fields.MAX_TZ,
        description="The contact's IANA zone (else the number's): calling hours are kept in it.",
        examples=["Europe/Kyiv"],
    )
    consent_basis: str | None = Field(
        default=None,
        max_length=dialer_fields.MAX_CONSENT_BASIS,
        description="The consent's legal basis; required (with consent_at) by a campaign "
        "with require_consent.",
        examples=["opt-in form"],
    )
    consent_at: str | None = Field(
        default=None,
        description="When consent was given: ISO 8601 with its zone; stored in UTC.",
        examples=["2026-11-20T10:15:00+02:00"],
    )
    consent_source: str | None = Field(
        default=None,
        max_length=dialer_fields.MAX_CONSENT_SOURCE,
        description="Where consent was given (a form's URL, a call's id).",
        examples=["https://example.com/form"],
    )


def bulk_request_schema() -> dict[str, Any]:
    """The request body's JSON schema, inline (the route reads the body itself)."""
    return {
        "title": "BulkRowsIn",
        "type": "object",
        "required": ["rows"],
        "properties": {
            "rows": {
                "type": "array",
                "minItems": 1,
                "description": "1 to bulk_max_rows rows (GET /power-dialer/limits; 10,000 by "
                "default). Each is validated on its own.",
                "items": BulkRowIn.model_json_schema(),
            }
        },
    }


class RowError(BaseModel):
    code: str = Field(
        description="invalid_phone_number, invalid_fio, invalid_external_id, …, do_not_call, "
        "consent_required"
    )
    message: str = Field(description="One sentence naming the field and the fix.")
    field: str | None = Field(description="The row's field at fault.")
    reason: str | None = Field(description="Finer cause, e.g. too_short.")


class RowResult(BaseModel):
    index: int = Field(description="The row's position in the request, from 0.")
    status: Literal["inserted", "duplicate", "updated", "rejected"]
    id: int | None = Field(
        description="The stored row's id; for a duplicate the EXISTING row's id; "
        "null when rejected."
    )
    error: RowError | None = Field(description="Why the row was rejected; null otherwise.")


class BulkRowsOut(BaseModel):
    """Every valid row of the request is durably committed, in one transaction."""

    inserted: int
    duplicates: int
    updated: int
    rejected: int
    results: list[RowResult] = Field(description="One result per row, in the request's order.")

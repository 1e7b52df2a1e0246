"""Request and response bodies of the richer API, in Create / Update / Public families.

``CampaignPublic`` and ``RowPublic`` are the shapes every route answers with (other areas
import them from here); errors are the compatible endpoint's shape (``openapi.ErrorAnswer``),
documented per route by ``error_responses``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from powerdialer.campaigns import CampaignSummary
from powerdialer.models import DuplicatePolicy
from powerdialer.rows.models import RowRecord
from powerdialer.web.api.openapi import ErrorAnswer

CampaignStateName = Literal["active", "archived"]

_NOW = "2026-11-26T09:30:00.123456Z"


class RowCountsPublic(BaseModel):
    rows: int = Field(description="All rows of the campaign.")
    by_status: dict[str, int] = Field(
        description="Rows per dialer status; statuses with no rows are left out."
    )


class CampaignPublic(BaseModel):
    """A campaign as the API shows it."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 456,
                    "name": "Leads from the website",
                    "state": "active",
                    "duplicate_policy": "skip",
                    "created_at": _NOW,
                    "updated_at": _NOW,
                    "counts": {"rows": 3, "by_status": {"pending": 3}},
                }
            ]
        }
    )

    id: int = Field(description="The campaignId of the compatible endpoint.")
    name: str
    state: CampaignStateName = Field(description="An archived campaign takes no new rows.")
    duplicate_policy: DuplicatePolicy = Field(
        description="What a number already in the campaign does: skip (default), update the "
        "existing row, or keep both."
    )
    created_at: dt.datetime
    updated_at: dt.datetime
    counts: RowCountsPublic

    @classmethod
    def of(cls, summary: CampaignSummary) -> CampaignPublic:
        c = summary.campaign
        return cls(
            id=c.id,
            name=c.name,
            state=c.state.value,
            duplicate_policy=c.duplicate_policy,  # type: ignore[arg-type]  # checked on write
            created_at=c.created_at,
            updated_at=c.updated_at,
            counts=RowCountsPublic(
                rows=summary.counts.rows, by_status=dict(summary.counts.by_status)
            ),
        )


class RowPublic(BaseModel):
    """A campaign row (a contact) as the API shows it."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 1001,
                    "campaign_id": 456,
                    "fio": "Іван Петренко",
                    "phone_number": "380930000000",
                    "phone_e164": "+380930000000",
                    "source": "api",
                    "status": "pending",
                    "attempts": 0,
                    "external_id": "crm-77",
                    "fields": {"city": "Київ"},
                    "created_at": _NOW,
                    "updated_at": _NOW,
                }
            ]
        }
    )

    id: int
    campaign_id: int
    fio: str | None = Field(description="The contact's full name, if sent.")
    phone_number: str = Field(description="The number exactly as it was sent.")
    phone_e164: str = Field(description="The number in E.164, e.g. +380930000000.")
    source: str = Field(description="How the row arrived: api, import or ui.")
    status: str = Field(description="The dialer's status of the row, e.g. pending.")
    attempts: int = Field(description="Calls made to the number so far.")
    external_id: str | None = Field(description="The row's id in the sender's CRM, if sent.")
    fields: dict[str, str] = Field(description="Custom fields from the CRM.")
    created_at: dt.datetime
    updated_at: dt.datetime

    @classmethod
    def of(cls, row: RowRecord) -> RowPublic:
        return cls(
            id=row.id,
            campaign_id=row.campaign_id,
            fio=row.fio,
            phone_number=row.phone_raw,
            phone_e164=row.phone_e164,
            source=row.source,
            status=row.status,
            attempts=row.attempts,
            external_id=row.external_id,
            fields=dict(row.fields),
            created_at=row.created_at,
            updated_at=row.updated_at,
        )


class CampaignCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"name": "Leads from the website"}]},
    )

    name: str = Field(description="1–200 characters; runs of spaces become one.")
    duplicate_policy: DuplicatePolicy = "skip"


class CampaignUpdate(BaseModel):
    """Any of the three; a field left out keeps its value."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"state": "archived"}, {"name": "Autumn leads"}]},
    )

    name: str | None = None
    state: CampaignStateName | None = None
    duplicate_policy: DuplicatePolicy | None = None

    @field_validator("name", "state", "duplicate_policy", mode="before")
    @classmethod
    def _not_null(cls, value: object) -> object:
        if value is None:
            raise ValueError("null is not a value here: leave the field out to keep it")
        return value


class CampaignList(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"items": CampaignPublic.model_json_schema()["examples"]}]}
    )

    items: list[CampaignPublic]


class RowPage(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "items": RowPublic.model_json_schema()["examples"],
                    "next_cursor": "eyJpZCI6MTAwMX0",
                    "prev_cursor": None,
                }
            ]
        }
    )

    items: list[RowPublic]
    next_cursor: str | None = Field(
        description="Pass it as cursor to get the next page; null on the last page."
    )
    prev_cursor: str | None = Field(
        default=None,
        description="Pass it as cursor to get the previous page; null on the first page.",
    )


class ClearResult(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"deleted": 1250}]})

    deleted: int = Field(description="How many rows were deleted.")


# The one error model of every route (registered by web/api/openapi.py), under the name the
# other areas' routes import.
ErrorResponse = ErrorAnswer

_ERRORS: dict[str, tuple[int, str, dict[str, str]]] = {
    "invalid_auth_key": (
        401,
        "Missing or wrong x-project-id / Auth-key.",
        {"field": "Auth-key", "message": "Auth-key is not a valid key of the project in …"},
    ),
    "campaign_not_found": (
        404,
        "No such campaign in this project (another project's campaign answers the same).",
        {"field": "campaignId", "message": "campaignId 456 is not a campaign of this project: …"},
    ),
    "row_not_found": (
        404,
        "No such row in this campaign.",
        {"field": "row_id", "message": "row 1001 is not a row of this campaign: …"},
    ),
    "invalid_field": (
        422,
        "A parameter or body field is invalid.",
        {"field": "name", "reason": "missing", "message": "name: Field required; fix it …"},
    ),
    "invalid_cursor": (
        422,
        "The cursor is not the next_cursor of this listing.",
        {"field": "cursor", "message": "cursor is not one this server issued: …"},
    ),
    "confirmation_required": (
        422,
        "confirm does not repeat the campaign id.",
        {"field": "confirm", "message": "emptying a campaign needs confirm=456 …"},
    ),
    "too_many_exports": (
        429,
        "Too many downloads open at once for this key or server: wait Retry-After seconds.",
        {"message": "4 downloads are already open for this key (the limit …): finish …"},
    ),
    "rate_limited": (429, "Too many requests: wait Retry-After seconds.", {"message": "…"}),
}


def error_responses(*codes: str) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for the given error codes, with one example each."""
    responses: dict[int | str, dict[str, Any]] = {}
    for code in ("invalid_auth_key", *codes, "rate_limited"):
        status, description, extra = _ERRORS[code]
        entry = responses.setdefault(
            status,
            {"model": ErrorResponse, "description": "", "content": {"application/json": {}}},
        )
        entry["description"] = " / ".join(filter(None, [entry["description"], description]))
        examples = entry["content"]["application/json"].setdefault("examples", {})
        examples[code] = {"value": {"result": False, "error": {"code": code, **extra}}}
    return responses

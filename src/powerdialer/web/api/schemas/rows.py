"""Bodies of the row routes: ``RowPublic`` is a campaign row (a contact) as every answer
shows it, ``RowPage`` one page of a listing."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field

from powerdialer.rows.models import RowRecord

_NOW = "2026-11-26T09:30:00.123456Z"


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

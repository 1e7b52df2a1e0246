"""Bodies of the row routes: ``RowPublic`` is a campaign row (a contact) as every answer
shows it, ``RowPage`` one page of a listing."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field

from powerdialer.rows.models import RowDialer, RowRecord

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
                    "priority": 5,
                    "call_next": False,
                    "tz": "Europe/Kyiv",
                    "consent_basis": "opt-in form",
                    "consent_at": "2026-11-20T08:15:00Z",
                    "consent_source": "https://example.com/form",
                    "final_state": None,
                    "due_at": _NOW,
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
    priority: int = Field(description="Higher is called first (-1000 to 1000; 0 by default).")
    call_next: bool = Field(description="Called before every row without the flag.")
    tz: str | None = Field(description="The contact's IANA zone, if sent (else the number's).")
    consent_basis: str | None = Field(description="The legal basis of the consent, if sent.")
    consent_at: dt.datetime | None = Field(description="When consent was given (UTC).")
    consent_source: str | None = Field(description="Where consent was given, if sent.")
    final_state: str | None = Field(
        description="Why the dialer is done with the row (e.g. contact_reached); null while "
        "it may be called."
    )
    due_at: dt.datetime | None = Field(description="When the row is next due to be called.")

    @classmethod
    def of(cls, row: RowRecord) -> RowPublic:
        dialer = row.dialer or RowDialer()
        return cls(
            priority=dialer.priority,
            call_next=dialer.call_next,
            tz=dialer.tz,
            consent_basis=dialer.consent_basis,
            consent_at=dialer.consent_at,
            consent_source=dialer.consent_source,
            final_state=dialer.final_state,
            due_at=dialer.due_at,
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


class RowUpdate(BaseModel):
    """Either or both; a field left out (or null) keeps its value."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"priority": 5, "call_next": True}, {"call_next": False}]},
    )

    priority: int | None = Field(default=None, description="-1000 to 1000; higher is called first.")
    call_next: bool | None = Field(default=None, description="Call before rows without it.")


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

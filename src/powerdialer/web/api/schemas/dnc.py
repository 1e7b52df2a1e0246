"""Bodies of the do-not-call routes: ``DncEntryPublic`` is an entry as every answer shows it."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from powerdialer import dnc
from powerdialer.dnc_csv import ImportReport
from powerdialer.errors import PowerDialerError
from powerdialer.models import DncEntry

_NOW = "2026-11-26T09:30:00.123456Z"
_ENTRY: dict[str, Any] = {
    "number": "+380930000000",
    "reason": "asked not to be called",
    "source": "api",
    "added_by": "key:ab12cd34",
    "added_at": _NOW,
}


class DncEntryPublic(BaseModel):
    """A number on the project's do-not-call list: who listed it, when and why."""

    model_config = ConfigDict(json_schema_extra={"examples": [_ENTRY]})

    number: str = Field(description="The number in E.164, e.g. +380930000000.")
    reason: str | None = Field(description="Why it must not be called, if given.")
    source: str = Field(description="How it was listed: api, cli, import, ui or outcome.")
    added_by: str | None = Field(
        description="Who listed it: a user's email, or key:<key id> for an API key."
    )
    added_at: dt.datetime

    @classmethod
    def of(cls, entry: DncEntry) -> DncEntryPublic:
        return cls(
            number=entry.phone_e164,
            reason=entry.reason,
            source=entry.source,
            added_by=entry.added_by,
            added_at=entry.added_at,
        )


class DncPagePublic(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"items": [_ENTRY], "next_cursor": None}]}
    )

    items: list[DncEntryPublic]
    next_cursor: str | None = Field(
        description="Pass it as cursor for the next page; null on the last page."
    )


class DncCheck(BaseModel):
    """Whether a number is listed, and its entry when it is."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"number": "+380930000000", "listed": True, "entry": _ENTRY},
                {"number": "+380930000001", "listed": False, "entry": None},
            ]
        }
    )

    number: str = Field(description="The number asked about, in E.164.")
    listed: bool
    entry: DncEntryPublic | None


class DncNumberIn(BaseModel):
    """One number to list. Unknown keys are ignored."""

    number: str | int = Field(description="Any usual spelling; stored in E.164.")
    reason: str | None = Field(default=None, max_length=dnc.MAX_REASON)


# One example (OpenAPI takes example or examples, not both): the list form; one number is
# {"number": "380930000000", "reason": "…"} (DncNumberIn).
ADD_EXAMPLE: dict[str, Any] = {
    "numbers": [
        {"number": "380930000000", "reason": "asked not to be called"},
        {"number": "+380 93 000 00 01"},
    ]
}


def add_request_schema() -> dict[str, Any]:
    """One ``{"number", "reason"?}`` or ``{"numbers": [...]}`` (the route reads the body)."""
    item = DncNumberIn.model_json_schema()
    return {
        "title": "DncAddIn",
        "oneOf": [
            item,
            {
                "type": "object",
                "required": ["numbers"],
                "properties": {
                    "numbers": {
                        "type": "array",
                        "minItems": 1,
                        "maxItems": dnc.MAX_ADD,
                        "items": item,
                    }
                },
            },
        ],
    }


class ItemError(BaseModel):
    code: str
    message: str
    field: str | None
    reason: str | None

    @classmethod
    def of(cls, error: PowerDialerError) -> ItemError:
        return cls(code=error.code, message=error.message, field=error.field, reason=error.reason)


class DncAddResult(BaseModel):
    index: int = Field(description="The number's position in the request, from 0.")
    status: Literal["added", "listed", "rejected"] = Field(
        description="added; listed (it was on the list already: its first entry is kept); "
        "rejected (not a number: see error)."
    )
    number: str | None = Field(description="The number in E.164; null when rejected.")
    error: ItemError | None


class DncAddOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "added": 1,
                    "listed": 0,
                    "rejected": 1,
                    "results": [
                        {"index": 0, "status": "added", "number": "+380930000000", "error": None},
                        {
                            "index": 1,
                            "status": "rejected",
                            "number": None,
                            "error": {
                                "code": "invalid_phone_number",
                                "message": "number '12' is not a valid phone number: the "
                                "number has too few digits; send the full number, e.g. "
                                "380930000000.",
                                "field": "number",
                                "reason": "too_short",
                            },
                        },
                    ],
                }
            ]
        }
    )

    added: int
    listed: int
    rejected: int
    results: list[DncAddResult]

    @classmethod
    def of(cls, outcomes: list[dnc.AddOutcome]) -> DncAddOut:
        results = [
            DncAddResult(
                index=o.index,
                status=o.status,
                number=o.phone_e164,
                error=ItemError.of(o.error) if o.error else None,
            )
            for o in outcomes
        ]
        return cls(
            added=sum(o.status == "added" for o in outcomes),
            listed=sum(o.status == "listed" for o in outcomes),
            rejected=sum(o.status == "rejected" for o in outcomes),
            results=results,
        )


class LineRejectPublic(BaseModel):
    line: int = Field(description="The file's line, from 1.")
    value: str = Field(description="The cell as read (at most 64 characters).")
    error: ItemError


class DncImportOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "added": 1250,
                    "listed": 3,
                    "rejected": 1,
                    "rejects": [
                        {
                            "line": 17,
                            "value": "12",
                            "error": {
                                "code": "invalid_phone_number",
                                "message": "number '12' is not a valid phone number: …",
                                "field": "number",
                                "reason": "too_short",
                            },
                        }
                    ],
                }
            ]
        }
    )

    added: int = Field(description="Numbers newly listed.")
    listed: int = Field(description="Numbers already on the list (or twice in the file).")
    rejected: int = Field(description="Lines whose number (or reason) could not be read.")
    rejects: list[LineRejectPublic] = Field(description="The first 1,000 rejected lines.")

    @classmethod
    def of(cls, report: ImportReport) -> DncImportOut:
        return cls(
            added=report.added,
            listed=report.listed,
            rejected=report.rejected,
            rejects=[
                LineRejectPublic(line=r.line, value=r.value, error=ItemError.of(r.error))
                for r in report.rejects
            ],
        )


DNC_UPLOAD_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "example": {"file": "(the file's bytes: dnc.csv)"},
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {
                            "type": "string",
                            "format": "binary",
                            "description": "CSV (UTF-8 or cp1251; comma, semicolon or tab): a "
                            "column of numbers (a header such as 'phone' or 'Телефон' names "
                            "it; else the first column) and optionally a reason column "
                            "('reason', 'причина'; else the second column).",
                        }
                    },
                },
            }
        },
    }
}

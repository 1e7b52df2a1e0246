"""Bodies of the dialer routes: the operator's calls (next, renew, release, skip, outcome),
the history, the explanation, outcomes and hours profiles.  Rules are ``dialer.rules.Rules``
itself (one model for the API and the domain)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from powerdialer.models import MAX_ID

_NOW = "2026-12-02T09:30:00Z"
_LATER = "2026-12-02T09:40:00Z"


def examples(*values: dict[str, Any]) -> ConfigDict:
    return ConfigDict(extra="forbid", json_schema_extra={"examples": list(values)})


class OperatorBody(BaseModel):
    model_config = examples({"operator_id": 7})
    operator_id: int = Field(
        gt=0, le=MAX_ID, description="The operator: a project member's user id."
    )


class SkipBody(OperatorBody):
    model_config = examples({"operator_id": 7, "reason": "asked for another language"})
    reason: str = Field(min_length=1, max_length=4000, description="Why, for the history.")


class OutcomeBody(OperatorBody):
    model_config = examples(
        {"operator_id": 7, "outcome": "no_answer", "duration_seconds": 25},
        {
            "operator_id": 7,
            "outcome": "callback",
            "note": "call after lunch",
            "callback_at": "2026-12-02T14:00:00+02:00",
            "callback_scope": "personal",
        },
    )
    outcome: str = Field(
        min_length=1, max_length=32, description="A built-in or project outcome's code."
    )
    note: str | None = Field(default=None, max_length=4000)
    duration_seconds: int | None = Field(default=None, ge=0, le=86_400)
    callback_at: dt.datetime | None = Field(
        default=None, description="With outcome callback: when, with its zone."
    )
    callback_scope: Literal["personal", "anyone"] = Field(
        default="anyone", description="personal: only this operator gets the callback."
    )


class ContactPublic(BaseModel):
    id: int
    campaign_id: int
    fio: str | None
    phone_e164: str
    phone_raw: str
    external_id: str | None
    fields: dict[str, str]
    attempts: int
    last_outcome: str | None
    zones: list[str] = Field(description="The IANA zones it is called in (docs/dialer.md).")
    local_time: str = Field(description="Now in its first zone, ISO 8601 with offset.")


class LeasePublic(BaseModel):
    lease_id: int
    operator_id: int
    leased_at: dt.datetime
    expires_at: dt.datetime
    resumed: bool = Field(description="True: the operator already held it (a reload).")


class NoContactPublic(BaseModel):
    code: str = Field(
        description="campaign_paused, campaign_not_started, campaign_ended, nothing_callable."
    )
    message: str
    next_at: dt.datetime | None = None


class NextAnswer(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "lease": {
                        "lease_id": 31,
                        "operator_id": 7,
                        "leased_at": _NOW,
                        "expires_at": _LATER,
                        "resumed": False,
                    },
                    "contact": {
                        "id": 1001,
                        "campaign_id": 456,
                        "fio": "Шевченко Тарас",
                        "phone_e164": "+380930000000",
                        "phone_raw": "380930000000",
                        "external_id": None,
                        "fields": {},
                        "attempts": 0,
                        "last_outcome": None,
                        "zones": ["Europe/Kyiv"],
                        "local_time": "2026-12-02T11:30:00+02:00",
                    },
                    "none": None,
                },
                {
                    "lease": None,
                    "contact": None,
                    "none": {
                        "code": "nothing_callable",
                        "message": "no row may be called now: …",
                        "next_at": None,
                    },
                },
            ]
        }
    )
    lease: LeasePublic | None
    contact: ContactPublic | None
    none: NoContactPublic | None = Field(description="Why there is no contact, if none.")


class RecordedPublic(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "attempt_id": 88,
                    "row_id": 1001,
                    "outcome": "no_answer",
                    "final_state": None,
                    "next_attempt_at": "2026-12-02T10:30:00Z",
                    "callback_moved": False,
                    "campaign_completed": False,
                }
            ]
        }
    )
    attempt_id: int
    row_id: int
    outcome: str
    final_state: str | None
    next_attempt_at: dt.datetime | None = Field(description="Due again then (null: final).")
    callback_moved: bool = Field(
        description="The callback time was outside calling hours: next_attempt_at is the "
        "next opening."
    )
    campaign_completed: bool


class Released(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"released": True}]})
    released: bool

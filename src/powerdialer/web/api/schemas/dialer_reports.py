"""Bodies of the dialer's reports and catalogues: the history, the explanation, outcomes,
hours profiles, a campaign's dialing state."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from powerdialer.dialer.explain import Explanation
from powerdialer.dialer.outcomes import FINAL_STATES, Outcome
from powerdialer.web.api.schemas.dialer import examples

_NOW = "2026-12-02T09:30:00Z"
_LATER = "2026-12-02T09:40:00Z"


class AttemptPublic(BaseModel):
    id: int
    campaign_id: int
    row_id: int
    lease_id: int | None
    operator_id: int
    phone_e164: str
    outcome: str
    note: str | None
    duration_seconds: int | None
    counted: bool
    reached: bool
    final_state: str | None
    callback_at: dt.datetime | None
    leased_at: dt.datetime | None
    recorded_at: dt.datetime


class AttemptList(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "items": [
                        {
                            "id": 88,
                            "campaign_id": 456,
                            "row_id": 1001,
                            "lease_id": 31,
                            "operator_id": 7,
                            "phone_e164": "+380930000000",
                            "outcome": "no_answer",
                            "note": None,
                            "duration_seconds": 25,
                            "counted": True,
                            "reached": False,
                            "final_state": None,
                            "callback_at": None,
                            "leased_at": _NOW,
                            "recorded_at": _LATER,
                        }
                    ],
                    "next_after": 88,
                }
            ]
        }
    )
    items: list[AttemptPublic]
    next_after: int | None = Field(description="Pass as after= for the next page (null: end).")


class ExplanationPublic(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "campaign_id": 456,
                    "at": _NOW,
                    "dialing": "running",
                    "rows": 10,
                    "counts": {
                        "callable_now": 4,
                        "leased": 1,
                        "outside_hours": 2,
                        "no_common_window": 0,
                        "cooling_down": 1,
                        "capped": 0,
                        "do_not_call": 1,
                        "final": 1,
                    },
                    "final_states": {"contact_reached": 1},
                    "next_due_at": "2026-12-02T10:00:00Z",
                }
            ]
        }
    )
    campaign_id: int
    at: dt.datetime
    dialing: str = Field(
        description="running, or campaign_paused / campaign_not_started / "
        "campaign_ended / campaign_archived."
    )
    rows: int
    counts: dict[str, int]
    final_states: dict[str, int]
    next_due_at: dt.datetime | None

    @classmethod
    def of(cls, found: Explanation) -> ExplanationPublic:
        return cls(
            campaign_id=found.campaign_id,
            at=found.at,
            dialing=found.dialing,
            rows=found.rows,
            counts=found.counts,
            final_states=found.final_states,
            next_due_at=found.next_due_at,
        )


class OutcomePublic(BaseModel):
    model_config = examples(
        {
            "code": "sale",
            "label": "Sale closed",
            "final_state": "contact_reached",
            "reached": True,
            "counts_as_attempt": True,
            "refusal": False,
            "retry_seconds": None,
        }
    )
    code: str = Field(pattern=r"^[a-z][a-z0-9_]{0,31}$")
    label: str = Field(min_length=1, max_length=200)
    final_state: Literal[FINAL_STATES] | None = None  # type: ignore[valid-type]
    reached: bool = False
    counts_as_attempt: bool = True
    refusal: bool = False
    retry_seconds: int | None = Field(default=None, ge=0, le=366 * 86400)
    built_in: bool = Field(default=False, description="Answers only: a built-in outcome.")

    @classmethod
    def of(cls, outcome: Outcome) -> OutcomePublic:
        return cls(
            code=outcome.code,
            label=outcome.label,
            final_state=outcome.final_state,
            reached=outcome.reached,
            counts_as_attempt=outcome.counts_as_attempt,
            refusal=outcome.refusal,
            retry_seconds=outcome.retry_seconds,
            built_in=outcome.built_in,
        )


class OutcomeList(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "items": [
                        {
                            "code": "answered",
                            "label": "Answered",
                            "final_state": "contact_reached",
                            "reached": True,
                            "counts_as_attempt": True,
                            "refusal": False,
                            "retry_seconds": None,
                            "built_in": True,
                        }
                    ]
                }
            ]
        }
    )
    items: list[OutcomePublic]


class DialingPublic(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"dialer_state": "paused"}]})
    dialer_state: Literal["running", "paused"]


class ProfilePublic(BaseModel):
    code: str
    title: str
    hours: dict[str, Any]
    number_per_day: int | None
    number_per_span: dict[str, int] | None
    refusal_cooldown_days: int | None
    notes: str


class ProfileList(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "items": [
                        {
                            "code": "default",
                            "title": "09:00-20:00 every day",
                            "hours": {
                                "days": {"mon": ["09:00-20:00"]},
                                "holidays": [],
                                "holiday_calendar": None,
                            },
                            "number_per_day": None,
                            "number_per_span": None,
                            "refusal_cooldown_days": None,
                            "notes": "An aid, not legal advice.",
                        }
                    ]
                }
            ]
        }
    )
    items: list[ProfilePublic]

"""Bodies of the campaign routes, in Create / Update / Public families: ``CampaignPublic`` is
what every campaign answer shows."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from powerdialer.campaigns import CampaignSummary
from powerdialer.models import DuplicatePolicy

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
                    "require_consent": False,
                    "dialer_state": "running",
                    "completed_at": None,
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
    require_consent: bool = Field(
        description="Rows without consent_basis and consent_at are refused "
        "(consent_required); on the compatible endpoint, whose body cannot carry consent, "
        "every row is."
    )
    dialer_state: Literal["running", "paused"] = Field(
        description="paused: no contact is handed out (POST …/dialer/pause, …/resume)."
    )
    completed_at: dt.datetime | None = Field(
        description="When its last row became final, once (null until then; cleared when a "
        "row added later is handed out, and set again when that one is final)."
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
            require_consent=c.require_consent,
            dialer_state=c.dialer_state,  # type: ignore[arg-type]  # running | paused, as stored
            completed_at=c.completed_at,
            created_at=c.created_at,
            updated_at=c.updated_at,
            counts=RowCountsPublic(
                rows=summary.counts.rows, by_status=dict(summary.counts.by_status)
            ),
        )


class CampaignCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"name": "Leads from the website"}]},
    )

    name: str = Field(description="1–200 characters; runs of spaces become one.")
    duplicate_policy: DuplicatePolicy = "skip"
    require_consent: bool = Field(
        default=False, description="Refuse rows without consent_basis and consent_at."
    )


class CampaignUpdate(BaseModel):
    """Any of the four; a field left out keeps its value."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"state": "archived"}, {"name": "Autumn leads"}]},
    )

    name: str | None = None
    state: CampaignStateName | None = None
    duplicate_policy: DuplicatePolicy | None = None
    require_consent: bool | None = None

    @field_validator("name", "state", "duplicate_policy", "require_consent", mode="before")
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

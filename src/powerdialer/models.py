"""The public shapes of the domain: plain frozen dataclasses, no ORM objects."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum


class CampaignState(StrEnum):
    ACTIVE = "active"
    ARCHIVED = "archived"


class RowSource(StrEnum):
    API = "api"
    IMPORT = "import"
    UI = "ui"


@dataclass(frozen=True, slots=True)
class Project:
    id: int
    name: str
    created_at: dt.datetime


@dataclass(frozen=True, slots=True)
class ApiKey:
    id: int
    project_id: int
    key_id: str
    name: str
    created_at: dt.datetime
    revoked_at: dt.datetime | None

    @property
    def prefix(self) -> str:
        """What lists show: enough to recognise a key, useless to an attacker."""
        return f"pd_{self.key_id}_…"


@dataclass(frozen=True, slots=True)
class Campaign:
    id: int
    project_id: int
    name: str
    state: CampaignState
    duplicate_policy: str
    created_at: dt.datetime
    updated_at: dt.datetime


@dataclass(frozen=True, slots=True)
class Row:
    id: int
    project_id: int
    campaign_id: int
    fio: str | None
    phone_raw: str
    phone_e164: str
    source: RowSource
    created_at: dt.datetime
    status: str = "pending"
    attempts: int = 0
    external_id: str | None = None
    extra: dict[str, str] = field(default_factory=dict)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)

"""The domain's vocabulary (id bounds, duplicate policies, campaign states, row sources) and
its public shapes: plain frozen dataclasses, no ORM objects."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

MAX_ID = 2**63 - 1
"""The largest id of anything stored (a signed 64-bit integer): the bound of every id in a
path or a body."""

DuplicatePolicy = Literal["skip", "update", "keep"]
"""What a campaign does with a number it already has (``rows.write.write_rows``)."""
DUPLICATE_POLICIES: tuple[DuplicatePolicy, ...] = ("skip", "update", "keep")


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
    require_consent: bool = False  # rows without consent_basis and consent_at are refused
    dialer_state: str = "running"  # running | paused (docs/dialer.md)
    completed_at: dt.datetime | None = None  # when its last row became final


DNC_SOURCES = ("api", "cli", "import", "ui", "outcome")
"""How a number came onto a project's do-not-call list (``dnc_numbers.source``)."""


@dataclass(frozen=True, slots=True)
class DncEntry:
    """A number on a project's do-not-call list: who listed it, when and why."""

    phone_e164: str
    reason: str | None
    source: str
    added_by: str | None
    added_at: dt.datetime


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)

"""The shapes of a campaign's rows that the domain and storage share: a row to store, as
validated (``NewRow``, or an import's ``ImportRow`` tuple) and a row as read back
(``RowRecord``, found by a ``RowFilter``).  Plain Python: storage builds on this module, the
SDK's fill application can load it, and it imports neither."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class NewRow:
    """A validated row.  ``priority`` and ``call_next`` are ``None`` when not sent: a new row
    takes the defaults (0, false), and under the policy "update" an existing row keeps its
    own; the other dialer fields likewise (``None``: not sent)."""

    phone_raw: str
    phone_e164: str
    fio: str | None = None
    external_id: str | None = None
    fields: dict[str, str] = field(default_factory=dict)
    priority: int | None = None
    call_next: bool | None = None
    tz: str | None = None
    consent_basis: str | None = None
    consent_at: dt.datetime | None = None
    consent_source: str | None = None


ImportRow = tuple[str | None, str, str, str | None, str | None]
"""A valid row of an import as its ``ImportChunk`` carries it: ``(fio, phone_raw, phone_e164,
external_id, extra_json)``, the custom fields already JSON (no dict, no ``NewRow``: a million
of each cost the worker ~1 s)."""


@dataclass(frozen=True, slots=True)
class RowFilter:
    """What a listing or an export narrows the rows to; ``None`` means "any"."""

    phone_e164: str | None = None  # exact number
    phone_prefix: str | None = None  # '+' and the first digits of the E.164 number
    text: str | None = None  # found in fio, case-insensitively
    external_id: str | None = None  # exact: the CRM's id
    # The UI's one search box: rows matching the number or name filters above, or whose
    # external_id is exactly this (CRM ids are often digits that look like a number's start).
    or_external_id: str | None = None
    source: str | None = None
    status: str | None = None
    created_from: dt.datetime | None = None  # inclusive
    created_to: dt.datetime | None = None  # exclusive


@dataclass(frozen=True, slots=True)
class RowRecord:
    """A row as the API shows it."""

    id: int
    campaign_id: int
    fio: str | None
    phone_raw: str
    phone_e164: str
    source: str
    status: str
    attempts: int
    external_id: str | None
    created_at: dt.datetime
    updated_at: dt.datetime
    fields: Mapping[str, str] = field(default_factory=dict)
    dialer: RowDialer | None = None


@dataclass(frozen=True, slots=True)
class RowDialer:
    """What a row brings for the dialer, and the dialer's state of it."""

    priority: int = 0
    call_next: bool = False
    tz: str | None = None
    consent_basis: str | None = None
    consent_at: dt.datetime | None = None
    consent_source: str | None = None
    final_state: str | None = None
    due_at: dt.datetime | None = None  # next_attempt_at

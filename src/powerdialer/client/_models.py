"""Typed answers of the API: frozen dataclasses built from JSON with ``from_json``.

Parsing is lenient on purpose: a field the server adds later is ignored and a field it leaves
out gets its default, so an older SDK keeps working against a newer server.

Past 300 lines on purpose: one small dataclass per answer of the API, each with its
``from_json``, read side by side.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypeVar

__all__ = [
    "BulkResult",
    "Campaign",
    "ErrorDetail",
    "ImportJob",
    "Limits",
    "NewRow",
    "Page",
    "Row",
    "RowCounts",
    "RowResult",
]

T = TypeVar("T")
RowStatus = Literal["inserted", "duplicate", "updated", "rejected"]


def _time(value: object) -> dt.datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return dt.datetime.fromisoformat(value)
    except ValueError:
        return None


def _int(value: object, default: int = 0) -> int:
    if isinstance(value, bool):
        return default
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return default


def _opt_int(value: object) -> int | None:
    return None if value is None else _int(value)


def _opt_str(value: object) -> str | None:
    return None if value is None else str(value)


def _obj(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


@dataclass(frozen=True, slots=True)
class ErrorDetail:
    """The ``error`` object of a failure: machine ``code``, a sentence, and which field."""

    code: str
    message: str
    field: str | None = None
    reason: str | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ErrorDetail:
        return cls(
            code=str(data.get("code") or "error"),
            message=str(data.get("message") or ""),
            field=_opt_str(data.get("field")),
            reason=_opt_str(data.get("reason")),
        )


@dataclass(frozen=True, slots=True)
class RowCounts:
    """A campaign's rows: in total and per dialer status (statuses with none left out)."""

    rows: int = 0
    by_status: dict[str, int] = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RowCounts:
        by_status = {str(k): _int(v) for k, v in _obj(data.get("by_status")).items()}
        return cls(rows=_int(data.get("rows")), by_status=by_status)


@dataclass(frozen=True, slots=True)
class Campaign:
    id: int
    name: str
    state: str  # active | archived
    duplicate_policy: str  # skip | update | keep
    created_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None
    counts: RowCounts = field(default_factory=RowCounts)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Campaign:
        counts = RowCounts.from_json(_obj(data.get("counts")))
        return cls(
            id=_int(data.get("id")),
            name=str(data.get("name") or ""),
            state=str(data.get("state") or "active"),
            duplicate_policy=str(data.get("duplicate_policy") or "skip"),
            created_at=_time(data.get("created_at")),
            updated_at=_time(data.get("updated_at")),
            counts=counts,
        )


@dataclass(frozen=True, slots=True)
class Row:
    """A contact in a campaign.  ``phone_number`` is the text as sent, ``phone_e164`` the
    normalized number the campaign deduplicates by."""

    id: int
    campaign_id: int
    phone_e164: str
    phone_number: str | None = None
    fio: str | None = None
    external_id: str | None = None
    fields: dict[str, str] = field(default_factory=dict)
    source: str | None = None
    status: str | None = None
    attempts: int = 0
    created_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None
    priority: int = 0
    call_next: bool = False
    tz: str | None = None
    consent_basis: str | None = None
    consent_at: dt.datetime | None = None
    consent_source: str | None = None
    final_state: str | None = None
    due_at: dt.datetime | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Row:
        extra = data.get("fields", data.get("extra"))
        return cls(
            id=_int(data.get("id")),
            campaign_id=_int(data.get("campaign_id", data.get("campaignId"))),
            phone_e164=str(data.get("phone_e164") or ""),
            phone_number=_opt_str(data.get("phone_number", data.get("phone_raw"))),
            fio=_opt_str(data.get("fio")),
            external_id=_opt_str(data.get("external_id")),
            fields={str(k): str(v) for k, v in _obj(extra).items()},
            source=_opt_str(data.get("source")),
            status=_opt_str(data.get("status")),
            attempts=_int(data.get("attempts")),
            created_at=_time(data.get("created_at")),
            updated_at=_time(data.get("updated_at")),
            priority=_int(data.get("priority")),
            call_next=data.get("call_next") is True,
            tz=_opt_str(data.get("tz")),
            consent_basis=_opt_str(data.get("consent_basis")),
            consent_at=_time(data.get("consent_at")),
            consent_source=_opt_str(data.get("consent_source")),
            final_state=_opt_str(data.get("final_state")),
            due_at=_time(data.get("due_at")),
        )


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a listing; pass ``next_cursor`` (or ``prev_cursor``) back as ``cursor``
    for the next (or the previous) page."""

    items: list[T]
    next_cursor: str | None = None
    prev_cursor: str | None = None

    @classmethod
    def parse(cls, data: Mapping[str, Any], item: Callable[[Mapping[str, Any]], T]) -> Page[T]:
        raw = data.get("items")
        items = [item(_obj(x)) for x in raw] if isinstance(raw, list) else []
        return cls(
            items=items,
            next_cursor=_cursor(data.get("next_cursor")),
            prev_cursor=_cursor(data.get("prev_cursor")),
        )


def _cursor(value: object) -> str | None:
    return None if value in (None, "") else str(value)


@dataclass(frozen=True, slots=True)
class NewRow:
    """A row to send with ``add_rows`` (the bulk endpoint).  The dialer's fields (``priority``,
    ``call_next``, ``tz``, the consent) are sent only when set, so the server's defaults
    apply otherwise; ``consent_at`` is sent as ISO 8601 and must carry its zone."""

    phone_number: str
    fio: str | None = None
    external_id: str | None = None
    fields: dict[str, str] = field(default_factory=dict)
    priority: int | None = None
    call_next: bool | None = None
    tz: str | None = None
    consent_basis: str | None = None
    consent_at: dt.datetime | None = None
    consent_source: str | None = None

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"phone_number": self.phone_number}
        if self.fio is not None:
            body["fio"] = self.fio
        if self.external_id is not None:
            body["external_id"] = self.external_id
        if self.fields:
            body["fields"] = self.fields
        for name in ("priority", "call_next", "tz", "consent_basis", "consent_source"):
            value = getattr(self, name)
            if value is not None:
                body[name] = value
        if self.consent_at is not None:
            body["consent_at"] = self.consent_at.isoformat()
        return body


@dataclass(frozen=True, slots=True)
class RowResult:
    """What happened to row ``index`` (0-based, in the order sent) of a bulk request."""

    index: int
    status: RowStatus
    id: int | None = None
    error: ErrorDetail | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RowResult:
        status = str(data.get("status") or "rejected")
        if status not in ("inserted", "duplicate", "updated", "rejected"):
            status = "rejected"
        error = data.get("error")
        return cls(
            index=_int(data.get("index")),
            status=status,  # type: ignore[arg-type]  # checked just above
            id=_opt_int(data.get("id")),
            error=ErrorDetail.from_json(error) if isinstance(error, Mapping) else None,
        )


@dataclass(frozen=True, slots=True)
class BulkResult:
    inserted: int
    duplicates: int
    updated: int
    rejected: int
    results: list[RowResult]

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> BulkResult:
        raw = data.get("results")
        results = [RowResult.from_json(_obj(x)) for x in raw] if isinstance(raw, list) else []
        return cls(
            inserted=_int(data.get("inserted")),
            duplicates=_int(data.get("duplicates")),
            updated=_int(data.get("updated")),
            rejected=_int(data.get("rejected")),
            results=results,
        )


@dataclass(frozen=True, slots=True)
class ImportJob:
    """A background import of an uploaded file; ``wait_import`` polls it until ``done``."""

    id: int
    campaign_id: int
    status: str  # queued → running → done | failed
    filename: str | None = None
    format: str | None = None
    total: int | None = None
    progress: float = 0.0
    supplied: int = 0
    inserted: int = 0
    duplicates: int = 0
    updated: int = 0
    rejected: int = 0
    error: ErrorDetail | None = None
    created_at: dt.datetime | None = None
    started_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None

    @property
    def done(self) -> bool:
        """Finished, well (``done``) or not (``failed``)."""
        return self.status in ("done", "failed")

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ImportJob:
        error = data.get("error")
        progress = data.get("progress")
        return cls(
            id=_int(data.get("id")),
            campaign_id=_int(data.get("campaign_id")),
            status=str(data.get("status") or "queued"),
            filename=_opt_str(data.get("filename")),
            format=_opt_str(data.get("format")),
            total=_opt_int(data.get("total")),
            progress=float(progress) if isinstance(progress, int | float) else 0.0,
            supplied=_int(data.get("supplied")),
            inserted=_int(data.get("inserted")),
            duplicates=_int(data.get("duplicates")),
            updated=_int(data.get("updated")),
            rejected=_int(data.get("rejected")),
            error=ErrorDetail.from_json(error) if isinstance(error, Mapping) else None,
            created_at=_time(data.get("created_at")),
            started_at=_time(data.get("started_at")),
            finished_at=_time(data.get("finished_at")),
        )


@dataclass(frozen=True, slots=True)
class Limits:
    """``GET /power-dialer/limits``: what this server accepts.  Only powerdialer servers
    publish it (the vendor answers 404), so its presence means bulk rows and
    ``Idempotency-Key`` are supported."""

    bulk_max_rows: int
    bulk_max_bytes: int
    body_max_bytes: int
    rate_limit_per_second: float
    rate_limit_burst: int
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Limits:
        rate = data.get("rate_limit_per_second")
        return cls(
            bulk_max_rows=_int(data.get("bulk_max_rows")),
            bulk_max_bytes=_int(data.get("bulk_max_bytes")),
            body_max_bytes=_int(data.get("body_max_bytes")),
            rate_limit_per_second=float(rate) if isinstance(rate, int | float) else 0.0,
            rate_limit_burst=_int(data.get("rate_limit_burst")),
            raw=dict(data),
        )

"""Campaign rows: validating what clients send, storing it through the group-commit writer,
and reading it back."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from powerdialer import keys
from powerdialer.campaigns import campaign_not_found, get_campaign
from powerdialer.errors import Conflict, PowerDialerError, ValidationError
from powerdialer.models import CampaignState, Row, RowSource, utcnow
from powerdialer.phones import normalize_phone
from powerdialer.projects import invalid_key
from powerdialer.storage import hotpath
from powerdialer.storage import rows as sql
from powerdialer.storage.payload import Payload, Writes
from powerdialer.text import one_line

MAX_FIO = 255
MAX_ID = 2**63 - 1


def _field_error(field: str, reason: str, message: str) -> ValidationError:
    code = "invalid_campaign_id" if field == "campaignId" else f"invalid_{field}"
    return ValidationError(message, code=code, field=field, reason=reason)


def parse_id(value: object, field: str) -> int:
    """An id as JSON sends it: an integer, or a string of digits (as it sits in a URL)."""
    if value is None:
        raise _field_error(
            field, "missing", f"{field} is required: send the campaign's integer id, e.g. 456."
        )
    number: int | None = None
    if isinstance(value, bool):
        number = None
    elif isinstance(value, int):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str) and value.strip().isdigit() and value.strip().isascii():
        number = int(value.strip())
    if number is None:
        raise _field_error(
            field,
            "wrong_type",
            f"{field} must be an integer such as 456 "
            f"(a string of digits is accepted too), got {value!r:.40}.",
        )
    if not 0 < number <= MAX_ID:
        raise _field_error(
            field, "out_of_range", f"{field} must be a positive integer below 2^63, got {number}."
        )
    return number


def parse_fio(value: object) -> str | None:
    """The contact's full name: optional; control characters become spaces."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise _field_error(
            "fio", "wrong_type", "fio must be a string (the contact's full name) or be left out."
        )
    text = one_line(value)
    if len(text) > MAX_FIO:
        raise _field_error(
            "fio",
            "too_long",
            f"fio is {len(text)} characters long; the limit is {MAX_FIO}: shorten it.",
        )
    return text or None


@dataclass(slots=True)
class Intake(Payload[bool]):
    """One row a client asks to add, with the credentials it came with.

    The body is validated where the request is handled (``prepare_intake``), so the writer
    thread, which every request waits on, does only what must be serial: check the key and the
    campaign (two indexed lookups for a whole batch, so a revoked key or an archived campaign
    takes effect at once) and insert.  A body error still waits for the key check: a stranger
    with a wrong key gets 401, never a hint about the body."""

    project_id: int
    key_id: str
    secret_hash: str
    values: tuple[Any, ...] | None  # storage.hotpath.ROW_COLUMNS
    error: ValidationError | None


def row_values(body: object, project_id: int, region: str, source: str) -> tuple[Any, ...]:
    """Validate a compatible body into the row's column values, or raise ``ValidationError``
    naming the field."""
    if not isinstance(body, dict):
        raise ValidationError(
            'the body must be a JSON object such as {"campaignId": 456, '
            '"phone_number": "380930000000"}.',
            code="invalid_body",
        )
    campaign_id = parse_id(body.get("campaignId"), "campaignId")
    fio = parse_fio(body.get("fio"))
    phone = normalize_phone(body.get("phone_number"), region)
    return (project_id, campaign_id, fio, phone.raw, phone.e164, source)


def prepare_intake(
    project_id: int,
    key_id: str,
    secret: str,
    body: object,
    region: str,
    source: str = RowSource.API.value,
) -> Intake:
    return intake_for(project_id, key_id, keys.hash_secret(secret), body, region, source)


def intake_for(
    project_id: int,
    key_id: str,
    secret_hash: str,
    body: object,
    region: str,
    source: str = RowSource.API.value,
) -> Intake:
    """``prepare_intake`` for a caller that hashed the secret already (the web edge, which
    verified it before reading the body)."""
    try:
        if isinstance(body, ValidationError):  # the edge could not even parse it
            raise body
        values: tuple[Any, ...] | None = row_values(body, project_id, region, source)
        error = None
    except ValidationError as exc:
        values, error = None, exc
    return Intake(project_id, key_id, secret_hash, values, error)


def apply_intakes(conn: Connection, items: Sequence[Intake]) -> list[bool | PowerDialerError]:
    """Store a batch of rows in the caller's transaction under each campaign's duplicate
    policy.  Per item: ``True`` (stored, or the number was already in the campaign) or the
    error to answer with, in the order 401 (key) → 400/422 (body) → 404 (campaign) → 409
    (archived)."""
    hashes = hotpath.key_hashes(conn, {(i.project_id, i.key_id) for i in items})
    results: list[bool | PowerDialerError] = []
    pending: list[tuple[int, tuple[Any, ...]]] = []
    for index, item in enumerate(items):
        if not keys.hash_matches(item.secret_hash, hashes.get((item.project_id, item.key_id))):
            results.append(invalid_key())
        elif item.error is not None or item.values is None:
            results.append(item.error or ValidationError("empty row", code="invalid_body"))
        else:
            pending.append((index, item.values))
            results.append(True)
    targets = hotpath.campaign_targets(conn, {values[1] for _, values in pending})
    to_insert = []
    others: dict[tuple[int, int, str, str], list[tuple[Any, ...]]] = {}
    for index, values in pending:
        project_id, campaign_id = values[0], values[1]
        target = targets.get(campaign_id)
        if target is None or target[0] != project_id:
            results[index] = campaign_not_found(campaign_id)
        elif target[1] != CampaignState.ACTIVE:
            results[index] = campaign_archived(campaign_id)
        elif target[2] == "skip":
            to_insert.append(values)
        else:  # "update" / "keep": rare, so the default path stays one plain INSERT
            others.setdefault((project_id, campaign_id, values[5], target[2]), []).append(values)
    now = utcnow()
    hotpath.insert_rows(conn, to_insert, now)
    if others:
        _write_by_policy(conn, others, now)
    return results


def _write_by_policy(
    conn: Connection,
    groups: dict[tuple[int, int, str, str], list[tuple[Any, ...]]],
    now: dt.datetime,
) -> None:
    """Compatible rows of campaigns whose duplicate policy is not "skip", stored the way the
    bulk endpoint stores them (one implementation of the policies)."""
    # Imported here: bulk builds on this module's validation (parse_fio).
    from powerdialer.bulk import NewRow, write_rows
    from powerdialer.storage.bulk import lock_campaigns

    lock_campaigns(conn, {campaign_id for _, campaign_id, _, _ in groups})
    for (project_id, campaign_id, source, policy), group in groups.items():
        new = [NewRow(phone_raw=v[3], phone_e164=v[4], fio=v[2]) for v in group]
        write_rows(conn, project_id, campaign_id, policy, new, source=source, now=now)


WRITES: Writes = {Intake: apply_intakes}
"""This module's writes, for the app's group-commit writer (``storage/payload.py``)."""


def campaign_archived(campaign_id: object) -> Conflict:
    return Conflict(
        f"campaign {campaign_id} is archived and takes no new rows: "
        "unarchive it or choose another campaign.",
        code="campaign_archived",
        field="campaignId",
    )


def list_rows(
    conn: Connection, project_id: int, campaign_id: int, *, limit: int = 100, after_id: int = 0
) -> list[Row]:
    get_campaign(conn, project_id, campaign_id)
    return sql.list_rows(conn, project_id, campaign_id, limit=limit, after_id=after_id)


__all__ = [
    "WRITES",
    "Intake",
    "apply_intakes",
    "campaign_archived",
    "campaign_not_found",
    "list_rows",
    "parse_fio",
    "parse_id",
]

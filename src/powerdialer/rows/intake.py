"""The vendor-compatible endpoint's rows: one row a request, validated where the request is
handled and stored in group-commit batches (the hot path: ``web/compat.py`` →
``intake_for`` → the writer → ``apply_intakes`` → ``storage/rows_intake.py``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection

from powerdialer import keys
from powerdialer.campaigns import refusal
from powerdialer.dnc import do_not_call
from powerdialer.errors import PowerDialerError, ValidationError
from powerdialer.models import RowSource, utcnow
from powerdialer.phones import normalize_phone
from powerdialer.projects import invalid_key
from powerdialer.rows.dialer_fields import consent_not_sendable
from powerdialer.rows.models import NewRow
from powerdialer.rows.validate import parse_fio, parse_id
from powerdialer.rows.write import write_rows
from powerdialer.storage import dnc as dnc_sql
from powerdialer.storage import projects as project_sql
from powerdialer.storage import rows_intake as sql
from powerdialer.storage.campaigns import WriteTarget, write_targets
from powerdialer.storage.payload import Payload, Writes
from powerdialer.storage.rows_write import lock_campaigns
from powerdialer.webhooks import events, outbox

IntakeValues = tuple[int, int, str | None, str, str, str]
"""A valid row in ``storage.rows_intake.ROW_COLUMNS`` order: ``(project_id, campaign_id,
fio, phone_raw, phone_e164, source)``.  A plain tuple, not a NamedTuple: one is made per
request on the event loop, where a NamedTuple costs five times as much; the writer reads it
by unpacking."""


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
    values: IntakeValues | None
    error: ValidationError | None


def row_values(body: object, project_id: int, region: str, source: str) -> IntakeValues:
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
        values: IntakeValues | None = row_values(body, project_id, region, source)
        error = None
    except ValidationError as exc:
        values, error = None, exc
    return Intake(project_id, key_id, secret_hash, values, error)


def apply_intakes(conn: Connection, items: Sequence[Intake]) -> list[bool | PowerDialerError]:
    """Store a batch of rows in the caller's transaction under each campaign's duplicate
    policy.  Per item: ``True`` (stored, or the number was already in the campaign) or the
    error to answer with, in the order 401 (key) → 400/422 (body) → 404 (campaign) → 409
    (archived) → 422 ``consent_required`` (the campaign requires consent, which the vendor's
    body cannot carry) → 409 ``do_not_call`` (the number is on the project's list)."""
    hashes = project_sql.key_hashes(conn, {(i.project_id, i.key_id) for i in items})
    results: list[bool | PowerDialerError] = []
    pending: list[tuple[int, IntakeValues]] = []
    for index, item in enumerate(items):
        if not keys.hash_matches(item.secret_hash, hashes.get((item.project_id, item.key_id))):
            results.append(invalid_key())
        elif item.error is not None or item.values is None:
            results.append(item.error or ValidationError("empty row", code="invalid_body"))
        else:
            pending.append((index, item.values))
            results.append(True)
    targets = write_targets(conn, {campaign_id for _, (_, campaign_id, _, _, _, _) in pending})
    taken: list[tuple[int, IntakeValues, WriteTarget]] = []
    numbers: dict[int, list[str]] = {}  # project -> its numbers in this batch
    for index, values in pending:
        project_id, campaign_id, _, _, e164, _ = values
        target = targets.get(campaign_id)
        refused = refusal(project_id, campaign_id, target)
        if refused is not None:
            results[index] = refused
        elif target is not None and target.require_consent:
            # The vendor's body cannot carry consent: such a campaign takes no row here.
            results[index] = consent_not_sendable(campaign_id)
        else:
            assert target is not None  # refusal() refuses a campaign that is not there
            taken.append((index, values, target))
            numbers.setdefault(project_id, []).append(e164)
    # The do-not-call list: one query per project of the batch (nearly always one).
    listed = {p: dnc_sql.listed(conn, p, found) for p, found in numbers.items()}
    to_insert = []
    others: dict[tuple[int, int, str, str], list[IntakeValues]] = {}
    for index, values, target in taken:
        project_id, campaign_id, _, _, e164, source = values
        if e164 in listed[project_id]:
            results[index] = do_not_call("phone_number", e164)
            continue
        if target.duplicate_policy == "skip":
            to_insert.append(values)
        else:  # "update" / "keep": rare, so the default path stays one plain INSERT
            key = (project_id, campaign_id, source, target.duplicate_policy)
            others.setdefault(key, []).append(values)
    now = utcnow()
    projects = {values[0] for values in to_insert} | {key[0] for key in others}
    # The webhook outbox (webhooks.outbox): rows read back only when a subscription asks.
    wanted = any(outbox.wants(conn, project, events.ROW_ADDED) for project in projects)
    inserted = sql.insert_rows(conn, to_insert, now, returning=wanted)
    if others:
        inserted += _write_by_policy(conn, others, now)
    if wanted:
        outbox.emit(conn, [_row_added(*row) for row in inserted], now)
    return results


def _row_added(project_id: int, campaign_id: int, _e164: str, row_id: int) -> outbox.Event:
    """One compatible request's ``row.added``: its request is one row, so the same event
    goes to subscriptions with and without the per-row flag."""
    data = events.rows_data(campaign_id, "compat", inserted=1, row_ids=[row_id])
    return outbox.Event(project_id, events.ROW_ADDED, data)


def _write_by_policy(
    conn: Connection,
    groups: dict[tuple[int, int, str, str], list[IntakeValues]],
    now: dt.datetime,
) -> list[tuple[int, int, str, int]]:
    """Compatible rows of campaigns whose duplicate policy is not "skip", stored the way the
    bulk endpoint stores them (one implementation of the policies); the rows inserted or
    updated, as ``storage.rows_intake.insert_rows`` answers them."""
    lock_campaigns(conn, {campaign_id for _, campaign_id, _, _ in groups})
    stored: list[tuple[int, int, str, int]] = []
    for (project_id, campaign_id, source, policy), group in groups.items():
        new = [NewRow(phone_raw=raw, phone_e164=e164, fio=fio) for _, _, fio, raw, e164, _ in group]
        outcomes = write_rows(conn, project_id, campaign_id, policy, new, source=source, now=now)
        for row, outcome in zip(new, outcomes, strict=True):
            if outcome.status in ("inserted", "updated"):
                stored.append((project_id, campaign_id, row.phone_e164, outcome.id))
    return stored


WRITES: Writes = {Intake: apply_intakes}
"""This module's writes, for the app's group-commit writer (``storage/payload.py``)."""

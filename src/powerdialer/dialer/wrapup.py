"""An attempt's outcome: its immutable history row, and what it does to the row.

``Record`` is a writer payload (docs/architecture.md).  In one transaction ``apply_records``
checks that the lease is still the operator's, writes the attempt, ends the lease, and
settles the row: final (``answered``, ``wrong_number``, ``do_not_call``, a project outcome
with a final state, the campaign's ``max_attempts`` or the outcome's own retry count used up)
or due again after the outcome's retry delay, or at the callback's time (moved to the next
opening of the calling hours if it falls outside them, and the answer says so).
``do_not_call`` lists the number in the same transaction.  When the last row of a campaign
becomes final the campaign is marked completed, once: the conditional update that marks it
succeeds for one transaction only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from sqlalchemy import Connection

from powerdialer.dialer import hours
from powerdialer.dialer.leasing import held_lease
from powerdialer.dialer.outcomes import (
    BUILT_IN,
    CALLBACK,
    DO_NOT_CALL,
    SKIP,
    FinalState,
    Outcome,
    unknown_outcome,
)
from powerdialer.dialer.rules import load_rules, window_of
from powerdialer.errors import PowerDialerError, ValidationError
from powerdialer.projects import KeyProof, invalid_key, refused_proofs
from powerdialer.storage import dnc as dnc_sql
from powerdialer.storage import leases as lease_sql
from powerdialer.storage import wrapup as wrap_sql
from powerdialer.storage.payload import Payload, Writes
from powerdialer.webhooks import events, outbox
from powerdialer.webhooks.events import timestamp

MAX_NOTE = 4000


def stamp(when: dt.datetime | None) -> str | None:
    return None if when is None else timestamp(when)


MAX_DURATION = 86_400
MAX_CALLBACK_AHEAD = dt.timedelta(days=366)


@dataclass(frozen=True, slots=True)
class Recorded:
    attempt_id: int
    row_id: int
    outcome: str
    final_state: str | None
    next_attempt_at: dt.datetime | None  # when the row is due again (None: final)
    callback_moved: bool  # the callback time was outside calling hours and moved
    campaign_completed: bool  # this outcome completed the campaign


@dataclass(frozen=True, slots=True)
class Record(Payload[Recorded]):
    lane: ClassVar[str] = "dialer"  # its own writer on PostgreSQL (storage/writer.py)
    project_id: int
    lease_id: int
    operator_id: int
    outcome: str
    now: dt.datetime
    note: str | None = None
    duration_seconds: int | None = None
    callback_at: dt.datetime | None = None
    callback_personal: bool = False
    added_by: str | None = None  # who the do-not-call entry names
    proof: KeyProof | None = None  # the caller's key, checked again here (projects.py)


def check_record(record: Record) -> Record:
    """Refuse, before the writer, what no state of the database makes valid."""
    if record.note is not None and len(record.note) > MAX_NOTE:
        raise ValidationError(
            f"note is longer than {MAX_NOTE} characters: shorten it.",
            code="invalid_note",
            field="note",
        )
    if record.duration_seconds is not None and not 0 <= record.duration_seconds <= MAX_DURATION:
        raise ValidationError(
            f"duration_seconds must be 0 to {MAX_DURATION} (whole seconds of the call).",
            code="invalid_duration_seconds",
            field="duration_seconds",
        )
    if record.outcome == SKIP and not (record.note or "").strip():
        raise ValidationError(
            'a skip needs a reason: send it as note (e.g. "wrong language").',
            code="skip_reason_required",
            field="note",
        )
    if record.outcome == CALLBACK:
        when = record.callback_at
        if when is None or when.tzinfo is None:
            raise ValidationError(
                "a callback needs callback_at, a time with its zone "
                "(e.g. 2026-12-02T15:00:00+02:00).",
                code="callback_at_required",
                field="callback_at",
            )
        if not record.now < when <= record.now + MAX_CALLBACK_AHEAD:
            raise ValidationError(
                "callback_at must be in the future and at most a year ahead.",
                code="invalid_callback_at",
                field="callback_at",
            )
    elif record.callback_at is not None:
        raise ValidationError(
            "callback_at goes with the outcome callback only.",
            code="invalid_callback_at",
            field="callback_at",
        )
    return record


def outcome_of(conn: Connection, project_id: int, code: str) -> Outcome:
    if code in BUILT_IN:
        return BUILT_IN[code]
    row = wrap_sql.project_outcome(conn, project_id, code)
    if row is None:
        raise unknown_outcome(code, [*BUILT_IN, *wrap_sql.project_codes(conn, project_id)])
    return Outcome(*row)


def apply_records(conn: Connection, items: Sequence[Record]) -> list[Recorded | Exception]:
    results: list[Recorded | Exception] = []
    refused = refused_proofs(conn, [(item.project_id, item.proof) for item in items])
    for item, unproven in zip(items, refused, strict=True):
        if unproven:
            results.append(invalid_key())
            continue
        try:
            results.append(_record(conn, item))
        except PowerDialerError as exc:
            results.append(exc)
    return results


def _record(conn: Connection, item: Record) -> Recorded:
    lease = held_lease(conn, item.project_id, item.lease_id, item.operator_id)
    outcome = outcome_of(conn, item.project_id, item.outcome)
    row = lease  # the row's number, zone and attempts came with the lease
    rules = load_rules(lease.rules)
    final_state = outcome.final_state
    due: dt.datetime | None = None
    moved = False
    if final_state is None and outcome.code == CALLBACK:
        assert item.callback_at is not None
        asked = item.callback_at.astimezone(dt.UTC)
        zones = hours.zones_for(row.phone_e164, row.tz, rules.fallback_tz)
        opening = hours.next_opening(window_of(lease.rules), zones, asked)
        due = opening or asked
        moved = opening is not None and opening != asked
    attempts = row.attempts + (1 if outcome.counts_as_attempt else 0)
    if final_state is None and outcome.code != CALLBACK:
        delay, most = rules.retry_for(outcome.code, outcome.retry_seconds)
        if (outcome.counts_as_attempt and attempts >= rules.max_attempts) or (
            most is not None
            and wrap_sql.outcome_tries(conn, item.project_id, lease.row_id, outcome.code) + 1
            >= most
        ):
            final_state = FinalState.EXHAUSTED.value
        else:
            due = item.now + dt.timedelta(seconds=delay)
    attempt_id = wrap_sql.add_attempt(
        conn,
        project_id=item.project_id,
        campaign_id=lease.campaign_id,
        row_id=lease.row_id,
        lease_id=lease.id,
        operator_id=item.operator_id,
        phone_e164=row.phone_e164,
        outcome=outcome.code,
        note=item.note,
        duration_seconds=item.duration_seconds,
        counted=outcome.counts_as_attempt,
        reached=outcome.reached,
        refusal=outcome.refusal,
        final_state=final_state,
        callback_at=due if outcome.code == CALLBACK else None,
        leased_at=lease.leased_at,
        recorded_at=item.now,
    )
    lease_sql.end_lease(conn, lease.id, item.now, "outcome")
    if final_state is not None:
        wrap_sql.settle_row(
            conn,
            lease.row_id,
            status=wrap_sql.FINAL,
            final_state=final_state,
            attempts=attempts,
            last_outcome=outcome.code,
            callback_operator_id=None,
        )
    else:
        wrap_sql.settle_row(
            conn,
            lease.row_id,
            status=wrap_sql.PENDING,
            attempts=attempts,
            last_outcome=outcome.code,
            next_attempt_at=due,
            callback_operator_id=item.operator_id
            if outcome.code == CALLBACK and item.callback_personal
            else None,
        )
    listed = False
    if outcome.code == DO_NOT_CALL:
        listed = dnc_sql.add_entry(
            conn,
            item.project_id,
            row.phone_e164,
            source="outcome",
            now=item.now,
            reason=item.note,
            added_by=item.added_by,
            attempt_id=attempt_id,
        )
    completed = False
    if final_state is not None or outcome.code == DO_NOT_CALL:
        completed = wrap_sql.complete_if_done(conn, item.project_id, lease.campaign_id, item.now)
    record = Recorded(
        attempt_id,
        lease.row_id,
        outcome.code,
        final_state,
        None if final_state else due,
        moved,
        completed,
    )
    if outbox.wanted(conn, item.project_id):  # else every event would be dropped unwritten
        found = _events(item, lease.campaign_id, row.phone_e164, attempts, record, listed)
        outbox.emit(conn, found, item.now)
    return record


def _events(
    item: Record,
    campaign_id: int,
    phone_e164: str,
    attempts: int,
    done: Recorded,
    listed: bool,
) -> list[outbox.Event]:
    """The webhook events of an outcome (``webhooks.outbox``: written only for a project
    that has a subscription to them)."""
    project = item.project_id
    row = {"campaign_id": campaign_id, "row_id": done.row_id, "phone_e164": phone_e164}
    found = [
        outbox.Event(
            project,
            events.OUTCOME_RECORDED,
            {
                **row,
                "attempt_id": done.attempt_id,
                "lease_id": item.lease_id,
                "operator_id": item.operator_id,
                "outcome": done.outcome,
                "final_state": done.final_state,
                "note": item.note,
                "duration_seconds": item.duration_seconds,
                "attempts": attempts,
                "next_attempt_at": stamp(done.next_attempt_at),
                "recorded_at": stamp(item.now),
            },
        )
    ]
    if done.outcome == CALLBACK and done.next_attempt_at is not None:
        data = {
            **row,
            "attempt_id": done.attempt_id,
            "operator_id": item.operator_id if item.callback_personal else None,
            "callback_at": stamp(done.next_attempt_at),
            "moved": done.callback_moved,
        }
        found.append(outbox.Event(project, events.CALLBACK_SCHEDULED, data))
    if done.final_state is not None:
        data = {**row, "final_state": done.final_state, "last_outcome": done.outcome}
        found.append(outbox.Event(project, events.CONTACT_FINAL, {**data, "attempts": attempts}))
    if listed:  # the outcome put the number on the do-not-call list
        data = {"numbers": [phone_e164], "source": "outcome", "attempt_id": done.attempt_id}
        found.append(outbox.Event(project, events.DNC_ADDED, data))
    if done.campaign_completed:
        data = {"campaign_id": campaign_id, "completed_at": stamp(item.now)}
        found.append(outbox.Event(project, events.CAMPAIGN_COMPLETED, data))
    return found


WRITES: Writes = {Record: apply_records}
"""This module's writes, for the app's group-commit writer (``storage/payload.py``)."""

"""What a project's owner sets for dialing, and what an operator's client calls.

- A campaign's rules (``get_rules``/``set_rules``: storing new rules forgets the holds made
  under the old ones), pausing and resuming it (``set_dialing``);
- a project's own outcomes (``list_outcomes``, ``add_outcome``, ``delete_outcome``);
- the operator's calls, each one writer payload: ``next_contact``, ``renew``, ``release``,
  ``record`` (an outcome; ``skip`` is the outcome ``skip`` with its reason as the note);
- the history (``attempts``).

Every function that depends on the time takes ``now`` (the real clock by default).
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import orjson

from powerdialer.campaigns import campaign_not_found
from powerdialer.dialer.leasing import Release, Renew
from powerdialer.dialer.outcomes import BUILT_IN, Outcome
from powerdialer.dialer.queue import Lease, Leased, NoContact
from powerdialer.dialer.rules import Rules, dump_rules, load_rules
from powerdialer.dialer.wrapup import Record, Recorded, check_record
from powerdialer.errors import Conflict, NotFound
from powerdialer.models import utcnow
from powerdialer.projects import KeyProof
from powerdialer.rows.listing import row_not_found
from powerdialer.storage import Store, dialer_read
from powerdialer.storage import dialer_admin as sql
from powerdialer.storage import leases as lease_sql
from powerdialer.storage.writer import GroupCommitter
from powerdialer.telemetry import hooks

RUNNING = "running"
PAUSED = "paused"


def get_rules(store: Store, project_id: int, campaign_id: int) -> Rules:
    found = store.read(lambda conn: sql.campaign_settings(conn, project_id, campaign_id))
    if found is None:
        raise campaign_not_found(campaign_id)
    return load_rules(found.rules)


def set_rules(
    store: Store, project_id: int, campaign_id: int, rules: Rules, now: dt.datetime | None = None
) -> Rules:
    text = dump_rules(rules)
    when = now or utcnow()

    def run(conn: Any) -> None:
        if sql.campaign_settings(conn, project_id, campaign_id) is None:
            raise campaign_not_found(campaign_id)
        sql.set_rules(conn, project_id, campaign_id, None if text == "{}" else text, when)

    store.write(run)
    return rules


def set_dialing(
    store: Store, project_id: int, campaign_id: int, state: str, now: dt.datetime | None = None
) -> str:
    """Pause (no contact is handed out; leases already given run their course) or resume."""
    when = now or utcnow()
    changed = store.write(
        lambda conn: sql.set_dialer_state(conn, project_id, campaign_id, state, when)
    )
    if not changed:
        raise campaign_not_found(campaign_id)
    return state


def list_outcomes(store: Store, project_id: int) -> list[Outcome]:
    own = store.read(lambda conn: sql.list_outcomes(conn, project_id))
    return [*BUILT_IN.values()] + [
        Outcome(
            o.code,
            o.label,
            o.final_state,
            o.reached,
            o.counts_as_attempt,
            o.refusal,
            o.retry_seconds,
        )
        for o in own
    ]


def add_outcome(
    store: Store, project_id: int, outcome: Outcome, now: dt.datetime | None = None
) -> Outcome:
    when = now or utcnow()
    added = store.write(
        lambda conn: sql.add_outcome(
            conn,
            project_id,
            when,
            code=outcome.code,
            label=outcome.label,
            final_state=outcome.final_state,
            reached=outcome.reached,
            counts_as_attempt=outcome.counts_as_attempt,
            refusal=outcome.refusal,
            retry_seconds=outcome.retry_seconds,
        )
    )
    if not added:
        raise Conflict(
            f"outcome {outcome.code} exists already: delete it first to redefine it.",
            code="outcome_exists",
            field="code",
        )
    return outcome


def delete_outcome(store: Store, project_id: int, code: str) -> None:
    """Past attempts keep the code they were recorded with."""
    if not store.write(lambda conn: sql.delete_outcome(conn, project_id, code)):
        raise NotFound(
            f"outcome {code} is not one of this project's own outcomes (built-in ones cannot "
            "be deleted).",
            code="outcome_not_found",
            field="code",
        )


async def next_contact(
    writer: GroupCommitter,
    project_id: int,
    campaign_id: int,
    operator_id: int,
    now: dt.datetime | None = None,
    proof: KeyProof | None = None,
) -> Leased | NoContact:
    """The next contact for the operator; ``proof``: the caller's key, checked again in the
    lease's transaction (when it was verified through the cache)."""
    lease = Lease(project_id, campaign_id, operator_id, now or utcnow(), proof)
    found = await writer.submit(lease)
    if isinstance(found, Leased) and (m := hooks.active) is not None:  # metrics
        m.leased()
    return found


async def renew(
    writer: GroupCommitter,
    project_id: int,
    lease_id: int,
    operator_id: int,
    now: dt.datetime | None = None,
) -> Leased:
    return await writer.submit(Renew(project_id, lease_id, operator_id, now or utcnow()))


async def release(
    writer: GroupCommitter,
    project_id: int,
    lease_id: int,
    operator_id: int,
    now: dt.datetime | None = None,
) -> bool:
    return await writer.submit(Release(project_id, lease_id, operator_id, now or utcnow()))


async def record(writer: GroupCommitter, record: Record) -> Recorded:
    recorded = await writer.submit(check_record(record))
    if (m := hooks.active) is not None:  # metrics
        m.recorded(recorded.outcome)
    return recorded


def attempts(
    store: Store,
    project_id: int,
    *,
    campaign_id: int | None = None,
    row_id: int | None = None,
    after: int = 0,
    limit: int = 100,
) -> list[Any]:
    """Attempts oldest first after attempt id ``after``; 404 for a campaign not the
    project's (an empty page would look like a campaign nobody called)."""

    def run(conn: Any) -> list[Any]:
        if campaign_id is not None and sql.campaign_settings(conn, project_id, campaign_id) is None:
            raise campaign_not_found(campaign_id)
        if row_id is not None:
            row = lease_sql.row_of(conn, project_id, row_id)
            if row is None or (campaign_id is not None and row.campaign_id != campaign_id):
                raise row_not_found(row_id)
        return dialer_read.history(
            conn, project_id, campaign_id=campaign_id, row_id=row_id, after=after, limit=limit
        )

    return store.read(run)


def contact_fields(found: Leased, now: dt.datetime) -> dict[str, Any]:
    """The leased row as the operator sees it (the API's ``contact``, the CLI's too): read
    by the writer with the lease, so nothing is read here."""
    row = found.contact
    local = now.astimezone(ZoneInfo(found.zones[0]))
    return {
        "id": row.id,
        "campaign_id": row.campaign_id,
        "fio": row.fio,
        "phone_e164": row.phone_e164,
        "phone_raw": row.phone_raw,
        "external_id": row.external_id,
        "fields": orjson.loads(row.extra) if row.extra else {},
        "attempts": row.attempts,
        "last_outcome": row.last_outcome,
        "zones": list(found.zones),
        "local_time": local.isoformat(timespec="seconds"),
    }

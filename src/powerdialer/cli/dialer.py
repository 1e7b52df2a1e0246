"""``powerdialer dialer …``: an operator's calls and a campaign's history, directly on the
database (the campaign's rules, pause, explain and outcomes are in ``cli/dialer_setup.py``).

The operator's calls (next, renew, release, skip, outcome) run the same writer payload the
API's group-commit writer runs, in one ``Store.write`` transaction of their own.  That is
safe beside a running server: on SQLite the file's write lock serialises the transaction
with the server's writer; on PostgreSQL the rows are taken ``FOR UPDATE SKIP LOCKED`` and
the unique index on open leases holds whoever writes.  They use the real clock.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

import click
from sqlalchemy import Connection

from powerdialer.cli.common import (
    database_option,
    emit_json,
    emit_table,
    friendly_errors,
    json_option,
    project_option,
    store_for,
)
from powerdialer.cli.dialer_output import show_lease, show_recorded
from powerdialer.cli.dialer_setup import COMMANDS, parse_time
from powerdialer.dialer import control, leasing, queue, wrapup
from powerdialer.dialer.outcomes import SKIP
from powerdialer.models import utcnow
from powerdialer.storage import Store

R = TypeVar("R")


def _one(store: Store, apply: Callable[[Connection], R | Exception]) -> R:
    """Run one payload's apply function in a transaction of its own; the item's error is
    raised inside it, so nothing it did is kept."""

    def run(conn: Connection) -> R:
        found = apply(conn)
        if isinstance(found, Exception):
            raise found
        return found

    return store.write(run)


def operator_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--operator",
        "operator_id",
        type=click.IntRange(min=1),
        required=True,
        help="The operator: a project member's user id (`powerdialer user list`).",
    )(fn)


@click.group("dialer")
def dialer_group() -> None:
    """The power dialer: hand out contacts, record outcomes, set a campaign's rules, explain
    why nothing dials (docs/dialer.md).

    The operator's calls (next, renew, release, skip, outcome) are each one database
    transaction, safe beside a running server: on SQLite the file's write lock serialises it
    with the server's writer; on PostgreSQL rows are locked SKIP LOCKED and a unique index
    allows one open lease per row."""


@dialer_group.command("next")
@project_option
@click.argument("campaign_id", type=click.IntRange(min=1))
@operator_option
@database_option
@json_option
@friendly_errors
def dialer_next(
    project_id: int, campaign_id: int, operator_id: int, database_url: str, as_json: bool
) -> None:
    """Lease the campaign's next callable contact to an operator, or say why there is none.

    An operator who already holds a lease in the campaign gets it again. One transaction,
    safe beside a running server."""
    store = store_for(database_url)
    payload = queue.Lease(project_id, campaign_id, operator_id, utcnow())
    # mypy cannot split a three-way union over ``R | Exception``: say what R is.
    found = cast(
        "queue.Leased | queue.NoContact",
        _one(store, lambda conn: queue.apply_leases(conn, [payload])[0]),
    )
    show_lease(store, project_id, found, as_json, campaign_id)


@dialer_group.command("renew")
@project_option
@click.argument("lease_id", type=click.IntRange(min=1))
@operator_option
@database_option
@json_option
@friendly_errors
def dialer_renew(
    project_id: int, lease_id: int, operator_id: int, database_url: str, as_json: bool
) -> None:
    """Extend a lease to the campaign's lease length from now, while on the call (one
    transaction, safe beside a running server)."""
    store = store_for(database_url)
    payload = leasing.Renew(project_id, lease_id, operator_id, utcnow())
    show_lease(
        store,
        project_id,
        _one(store, lambda conn: leasing.apply_renewals(conn, [payload])[0]),
        as_json,
    )


@dialer_group.command("release")
@project_option
@click.argument("lease_id", type=click.IntRange(min=1))
@operator_option
@database_option
@json_option
@friendly_errors
def dialer_release(
    project_id: int, lease_id: int, operator_id: int, database_url: str, as_json: bool
) -> None:
    """Give the contact back at once, in its place in the queue; no attempt is recorded (one
    transaction, safe beside a running server)."""
    store = store_for(database_url)
    payload = leasing.Release(project_id, lease_id, operator_id, utcnow())
    _one(store, lambda conn: leasing.apply_releases(conn, [payload])[0])
    if as_json:
        emit_json({"released": True})
    else:
        click.echo(f"Released lease {lease_id}: the contact is back in the queue.")


def _record(store: Store, record: wrapup.Record, as_json: bool) -> None:
    checked = wrapup.check_record(record)  # what no database state makes valid, first
    found = _one(store, lambda conn: wrapup.apply_records(conn, [checked])[0])
    show_recorded(found, as_json)


@dialer_group.command("skip")
@project_option
@click.argument("lease_id", type=click.IntRange(min=1))
@operator_option
@click.option("--reason", required=True, help="Why, for the history (e.g. 'wrong language').")
@database_option
@json_option
@friendly_errors
def dialer_skip(
    project_id: int, lease_id: int, operator_id: int, reason: str, database_url: str, as_json: bool
) -> None:
    """Skip the contact: the outcome skip with its reason; no call is counted, and the row
    comes back after the skip retry delay (one transaction, safe beside a running server)."""
    record = wrapup.Record(
        project_id, lease_id, operator_id, SKIP, utcnow(), note=reason, added_by="cli"
    )
    _record(store_for(database_url), record, as_json)


@dialer_group.command("outcome")
@project_option
@click.argument("lease_id", type=click.IntRange(min=1))
@click.argument("outcome")
@operator_option
@click.option("--note", default=None, help="A note for the history (a skip's reason).")
@click.option(
    "--duration",
    "duration_seconds",
    type=int,
    default=None,
    help="The call's length in whole seconds (0 to 86400).",
)
@click.option(
    "--callback-at",
    default=None,
    help="With outcome callback: when, ISO 8601 with its zone (2026-12-02T15:00:00+02:00).",
)
@click.option("--personal", is_flag=True, help="With callback: only this operator gets it back.")
@database_option
@json_option
@friendly_errors
def dialer_outcome(
    project_id: int,
    lease_id: int,
    outcome: str,
    operator_id: int,
    note: str | None,
    duration_seconds: int | None,
    callback_at: str | None,
    personal: bool,
    database_url: str,
    as_json: bool,
) -> None:
    """Record a call's OUTCOME (`powerdialer dialer outcomes` lists them): ends the lease,
    writes the attempt to the history, and says when the row is due again or its final
    state (one transaction, safe beside a running server)."""
    record = wrapup.Record(
        project_id,
        lease_id,
        operator_id,
        outcome,
        utcnow(),
        note=note,
        duration_seconds=duration_seconds,
        callback_at=parse_time(callback_at, "callback_at") if callback_at else None,
        callback_personal=personal,
        added_by="cli",
    )
    _record(store_for(database_url), record, as_json)


ATTEMPT_FIELDS = (
    *("id", "campaign_id", "row_id", "lease_id", "operator_id", "phone_e164", "outcome"),
    *("note", "duration_seconds", "counted", "reached", "final_state", "callback_at"),
    *("leased_at", "recorded_at"),
)


@dialer_group.command("history")
@project_option
@click.argument("campaign_id", type=click.IntRange(min=1))
@click.option("--row", "row_id", type=click.IntRange(min=1), default=None, help="One row only.")
@click.option("--after", type=click.IntRange(min=0), default=0, help="Attempts after this id.")
@click.option("--limit", type=click.IntRange(1, 1000), default=100, show_default=True)
@database_option
@json_option
@friendly_errors
def dialer_history(
    project_id: int,
    campaign_id: int,
    row_id: int | None,
    after: int,
    limit: int,
    database_url: str,
    as_json: bool,
) -> None:
    """A campaign's attempts, oldest first (immutable: who, when, outcome, note, duration)."""
    found = control.attempts(
        store_for(database_url),
        project_id,
        campaign_id=campaign_id,
        row_id=row_id,
        after=after,
        limit=limit,
    )
    items = [{k: getattr(a, k) for k in ATTEMPT_FIELDS} for a in found]
    if as_json:
        more = items[-1]["id"] if len(items) == limit else None
        emit_json({"items": items, "next_after": more})
        return
    emit_table(
        ["id", "row", "operator", "outcome", "seconds", "note", "recorded"],
        [
            (
                a["id"],
                a["row_id"],
                a["operator_id"],
                a["outcome"],
                a["duration_seconds"],
                a["note"],
                f"{a['recorded_at']:%Y-%m-%d %H:%M UTC}",
            )
            for a in items
        ],
        empty="No attempts yet.",
    )


for _command in COMMANDS:
    dialer_group.add_command(_command)

"""Operator presence: what each member is doing on the operator screen, for the supervisor.

A member's state is one of ``STATES``: ``ready`` (waiting for the next contact), ``on_call``,
``wrap_up`` (recording the outcome), ``paused`` (with one of ``PAUSE_REASONS``) or
``offline`` (left the screen).  The operator screen sets it (``set_state``) on every change
and sends the same state again as its heartbeat: the same state, campaign and reason only
move ``seen_at``; anything else starts a new state (``since`` = now).  A member not heard of
for ``OFFLINE_AFTER`` (60 s) is shown ``offline`` from the moment last heard of, and the next
state it sends starts anew.  ``heartbeat`` moves ``seen_at`` alone, for a state still fresh.

Writes go through the group-commit writer (a ``SetState`` or ``Heartbeat`` payload in the
``dialer`` lane, not fsynced on its own: presence is advisory, and a state lost in a power
cut is sent again by the next heartbeat).  Everything takes ``now``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from sqlalchemy import Connection

from powerdialer.campaigns import campaign_not_found
from powerdialer.dialer.queue import not_a_member
from powerdialer.errors import PowerDialerError, ValidationError
from powerdialer.models import utcnow
from powerdialer.storage import Store
from powerdialer.storage import campaigns as campaign_sql
from powerdialer.storage import members as member_sql
from powerdialer.storage import presence as sql
from powerdialer.storage.payload import Payload, Writes
from powerdialer.storage.writer import GroupCommitter

READY, ON_CALL, WRAP_UP, PAUSED, OFFLINE = "ready", "on_call", "wrap_up", "paused", "offline"
STATES = (READY, ON_CALL, WRAP_UP, PAUSED, OFFLINE)
PAUSE_REASONS = ("break", "lunch", "meeting", "training", "technical", "other")
OFFLINE_AFTER = dt.timedelta(seconds=60)


@dataclass(frozen=True, slots=True)
class SetState(Payload["StateSet"]):
    lane: ClassVar[str] = "dialer"  # its own writer on PostgreSQL (storage/writer.py)
    project_id: int
    user_id: int
    campaign_id: int | None
    state: str
    reason: str | None
    now: dt.datetime

    @property
    def durable(self) -> bool:
        """Advisory: not fsynced on its own (the next heartbeat sends it again)."""
        return False


@dataclass(frozen=True, slots=True)
class Heartbeat(Payload[bool]):
    lane: ClassVar[str] = "dialer"
    project_id: int
    user_id: int
    now: dt.datetime

    @property
    def durable(self) -> bool:
        return False


@dataclass(frozen=True, slots=True)
class StateSet:
    state: str
    since: dt.datetime  # when this state began (earlier than now for a heartbeat)
    changed: bool  # a new state (else: the same one, heard of again)


@dataclass(frozen=True, slots=True)
class OperatorState:
    """A member as the supervisor sees it at ``now``."""

    user_id: int
    name: str
    email: str
    role: str
    state: str
    reason: str | None  # a pause's reason code
    campaign_id: int | None
    since: dt.datetime | None  # None: never seen on the operator screen
    seconds: int | None  # in this state at ``now``
    seen_at: dt.datetime | None


def check_state(state: object, reason: object, campaign_id: object) -> None:
    """Refuse what no database state makes valid, naming the field."""
    if not isinstance(state, str) or state not in STATES:
        raise ValidationError(
            f"state {state!r} is not an operator state: use one of {', '.join(STATES)}.",
            code="invalid_state",
            field="state",
        )
    if state == PAUSED:
        if not isinstance(reason, str) or reason not in PAUSE_REASONS:
            raise ValidationError(
                f"reason {reason!r} is not a pause reason: a pause needs one of "
                f"{', '.join(PAUSE_REASONS)}.",
                code="invalid_reason",
                field="reason",
            )
    elif reason is not None:
        raise ValidationError(
            f"reason is for a pause only: send null with the state {state}.",
            code="invalid_reason",
            field="reason",
        )
    if campaign_id is not None and (
        isinstance(campaign_id, bool) or not isinstance(campaign_id, int) or campaign_id <= 0
    ):
        raise ValidationError(
            f"campaign_id {campaign_id!r} is not a campaign id: send the campaign's id, or null.",
            code="invalid_campaign_id",
            field="campaign_id",
        )


async def set_state(
    writer: GroupCommitter,
    project_id: int,
    user_id: int,
    campaign_id: int | None,
    state: str,
    reason: str | None,
    now: dt.datetime | None = None,
) -> StateSet:
    """Set the member's state (also its heartbeat: the same state again moves ``seen_at``
    only).  ``ValidationError`` for a bad state/reason/campaign id; ``NotFound`` for a
    campaign or a user not the project's."""
    check_state(state, reason, campaign_id)
    return await writer.submit(
        SetState(project_id, user_id, campaign_id, state, reason, now or utcnow())
    )


async def heartbeat(
    writer: GroupCommitter, project_id: int, user_id: int, now: dt.datetime | None = None
) -> bool:
    """The member is still there: ``False`` if its state has gone stale (shown offline) or
    was never set, and the screen should send its state again."""
    return await writer.submit(Heartbeat(project_id, user_id, now or utcnow()))


def _fresh(seen_at: dt.datetime, now: dt.datetime) -> bool:
    return now - seen_at <= OFFLINE_AFTER


def apply_states(conn: Connection, items: Sequence[SetState]) -> list[StateSet | Exception]:
    results: list[StateSet | Exception] = []
    for item in items:
        try:
            if member_sql.role_of(conn, item.project_id, item.user_id) is None:
                raise not_a_member(item.user_id)
            if item.campaign_id is not None and (
                campaign_sql.get_campaign(conn, item.project_id, item.campaign_id) is None
            ):
                raise campaign_not_found(item.campaign_id)
            stored = sql.state_of(conn, item.project_id, item.user_id)
            same = stored is not None and (
                (stored.state, stored.reason, stored.campaign_id)
                == (item.state, item.reason, item.campaign_id)
                and _fresh(stored.seen_at, item.now)
            )
            if stored is not None and same:
                sql.touch(conn, item.project_id, item.user_id, item.now)
                results.append(StateSet(item.state, stored.since, changed=False))
            else:
                sql.put_state(
                    conn,
                    item.project_id,
                    item.user_id,
                    item.campaign_id,
                    item.state,
                    item.reason,
                    item.now,
                )
                results.append(StateSet(item.state, item.now, changed=True))
        except PowerDialerError as exc:
            results.append(exc)
    return results


def apply_heartbeats(conn: Connection, items: Sequence[Heartbeat]) -> list[bool | Exception]:
    results: list[bool | Exception] = []
    for item in items:
        stored = sql.state_of(conn, item.project_id, item.user_id)
        if stored is None or not _fresh(stored.seen_at, item.now):
            results.append(False)
            continue
        results.append(sql.touch(conn, item.project_id, item.user_id, item.now))
    return results


def list_states(store: Store, project_id: int, now: dt.datetime) -> list[OperatorState]:
    """Every member of the project with its state at ``now``, by name then email; one not
    heard of for ``OFFLINE_AFTER`` is ``offline`` since it was last heard of."""
    found = store.read(lambda conn: sql.member_states(conn, project_id))
    return [_as_seen(member, now) for member in found]


def _as_seen(member: sql.MemberState, now: dt.datetime) -> OperatorState:
    state, reason, since = member.state, member.reason, member.since
    if state is None or member.seen_at is None or since is None:
        state, reason, since = OFFLINE, None, None
    elif state != OFFLINE and not _fresh(member.seen_at, now):
        state, reason, since = OFFLINE, None, member.seen_at
    seconds = None if since is None else max(int((now - since).total_seconds()), 0)
    return OperatorState(
        user_id=member.user_id,
        name=member.name,
        email=member.email,
        role=member.role,
        state=state,
        reason=reason,
        campaign_id=member.campaign_id if state != OFFLINE else None,
        since=since,
        seconds=seconds,
        seen_at=member.seen_at,
    )


WRITES: Writes = {SetState: apply_states, Heartbeat: apply_heartbeats}
"""This module's writes, for the app's group-commit writer (``storage/payload.py``)."""

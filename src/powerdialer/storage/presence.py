"""SQL for operator presence (``dialer.presence``): a member's stored state, setting it (an
upsert, so two server processes setting one member's first state cannot collide), a
heartbeat, and the project's members with their states."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, and_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from powerdialer.storage.schema import memberships, operator_states, users


@dataclass(frozen=True, slots=True)
class StoredState:
    campaign_id: int | None
    state: str
    reason: str | None
    since: dt.datetime
    seen_at: dt.datetime


@dataclass(frozen=True, slots=True)
class MemberState:
    """A member of the project with its stored state (``state`` ``None``: never set)."""

    user_id: int
    email: str
    name: str
    role: str
    campaign_id: int | None
    state: str | None
    reason: str | None
    since: dt.datetime | None
    seen_at: dt.datetime | None


def state_of(conn: Connection, project_id: int, user_id: int) -> StoredState | None:
    row = conn.execute(
        select(
            operator_states.c.campaign_id,
            operator_states.c.state,
            operator_states.c.reason,
            operator_states.c.since,
            operator_states.c.seen_at,
        ).where(operator_states.c.project_id == project_id, operator_states.c.user_id == user_id)
    ).first()
    return None if row is None else StoredState(*row)


def put_state(
    conn: Connection,
    project_id: int,
    user_id: int,
    campaign_id: int | None,
    state: str,
    reason: str | None,
    now: dt.datetime,
) -> None:
    """A new state from ``now`` on (insert, or replace the stored one)."""
    values: dict[str, Any] = {
        "campaign_id": campaign_id,
        "state": state,
        "reason": reason,
        "since": now,
        "seen_at": now,
    }
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(operator_states).values(
        project_id=project_id, user_id=user_id, **values
    )
    conn.execute(
        statement.on_conflict_do_update(
            index_elements=[operator_states.c.project_id, operator_states.c.user_id],
            set_=values,
        )
    )


def touch(conn: Connection, project_id: int, user_id: int, now: dt.datetime) -> bool:
    """The member was heard of at ``now`` (never moves ``seen_at`` back); whether it has a
    stored state."""
    found = conn.execute(
        update(operator_states)
        .where(
            operator_states.c.project_id == project_id,
            operator_states.c.user_id == user_id,
            operator_states.c.seen_at < now,
        )
        .values(seen_at=now)
    ).rowcount
    if found:
        return True
    return state_of(conn, project_id, user_id) is not None


def member_states(conn: Connection, project_id: int) -> list[MemberState]:
    """Every member of the project with its stored state, by name then email."""
    query = (
        select(
            users.c.id,
            users.c.email,
            users.c.name,
            memberships.c.role,
            operator_states.c.campaign_id,
            operator_states.c.state,
            operator_states.c.reason,
            operator_states.c.since,
            operator_states.c.seen_at,
        )
        .join(memberships, memberships.c.user_id == users.c.id)
        .outerjoin(
            operator_states,
            and_(
                operator_states.c.project_id == memberships.c.project_id,
                operator_states.c.user_id == memberships.c.user_id,
            ),
        )
        .where(memberships.c.project_id == project_id)
        .order_by(users.c.name, users.c.email)
    )
    return [MemberState(*row) for row in conn.execute(query)]

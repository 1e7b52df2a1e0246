"""SQL for a project's members: who belongs to it, with which role, and leaving it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Connection, delete, func, select

from powerdialer.accounts.models import Role
from powerdialer.storage.schema import memberships, users


@dataclass(frozen=True, slots=True)
class Member:
    user_id: int
    email: str
    name: str
    role: Role
    since: dt.datetime


def list_members(conn: Connection, project_id: int) -> list[Member]:
    """The project's members, owners first, then by email."""
    query = (
        select(
            users.c.id, users.c.email, users.c.name, memberships.c.role, memberships.c.created_at
        )
        .join(memberships, memberships.c.user_id == users.c.id)
        .where(memberships.c.project_id == project_id)
        .order_by(memberships.c.role.desc(), users.c.email)  # "owner" > "operator"
    )
    return [Member(r.id, r.email, r.name, Role(r.role), r.created_at) for r in conn.execute(query)]


def role_of(conn: Connection, project_id: int, user_id: int) -> Role | None:
    """The user's role in the project, ``None`` if they are not a member (or do not exist)."""
    found = conn.execute(
        select(memberships.c.role).where(
            memberships.c.project_id == project_id, memberships.c.user_id == user_id
        )
    ).scalar_one_or_none()
    return Role(found) if found is not None else None


def count_owners(conn: Connection, project_id: int) -> int:
    query = select(func.count()).where(
        memberships.c.project_id == project_id, memberships.c.role == Role.OWNER.value
    )
    return int(conn.execute(query).scalar_one())


def remove_member(conn: Connection, project_id: int, user_id: int) -> bool:
    query = delete(memberships).where(
        memberships.c.project_id == project_id, memberships.c.user_id == user_id
    )
    return bool(conn.execute(query).rowcount)

"""SQL for web accounts: users, their project memberships, sessions and sign-in throttling
(the tables of migration 0003)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Connection, case, delete, func, insert, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from powerdialer.accounts.models import Role, User
from powerdialer.models import Project
from powerdialer.storage.schema import login_throttle, memberships, projects, sessions, users


def _user(row: Any) -> User:
    return User(
        id=row.id,
        email=row.email,
        name=row.name,
        locale=row.locale,
        created_at=row.created_at,
        password_changed_at=row.password_changed_at,
    )


# Users ------------------------------------------------------------------------------------


def insert_user(
    conn: Connection, email: str, password_hash: str, name: str, locale: str, now: dt.datetime
) -> User:
    row = conn.execute(
        insert(users)
        .values(
            email=email,
            password_hash=password_hash,
            name=name,
            locale=locale,
            created_at=now,
            password_changed_at=now,
        )
        .returning(*users.c)
    ).one()
    return _user(row)


def user_by_email(conn: Connection, email: str) -> tuple[User, str] | None:
    """The user and their password hash, or ``None``."""
    row = conn.execute(select(users).where(users.c.email == email)).first()
    return (_user(row), row.password_hash) if row else None


def user_by_id(conn: Connection, user_id: int) -> tuple[User, str] | None:
    row = conn.execute(select(users).where(users.c.id == user_id)).first()
    return (_user(row), row.password_hash) if row else None


def list_users(conn: Connection) -> list[User]:
    return [_user(r) for r in conn.execute(select(users).order_by(users.c.id))]


def count_users(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(users)).scalar_one())


def set_password_hash(
    conn: Connection, user_id: int, password_hash: str, now: dt.datetime | None
) -> None:
    """Store a new hash; ``now`` is given when the password itself changed (not a rehash)."""
    values: dict[str, Any] = {"password_hash": password_hash}
    if now is not None:
        values["password_changed_at"] = now
    conn.execute(update(users).where(users.c.id == user_id).values(**values))


def set_locale(conn: Connection, user_id: int, locale: str) -> None:
    conn.execute(update(users).where(users.c.id == user_id).values(locale=locale))


# Memberships ------------------------------------------------------------------------------


def upsert_membership(
    conn: Connection, project_id: int, user_id: int, role: str, now: dt.datetime
) -> None:
    changed = conn.execute(
        update(memberships)
        .where(memberships.c.project_id == project_id, memberships.c.user_id == user_id)
        .values(role=role)
    ).rowcount
    if not changed:
        conn.execute(
            insert(memberships).values(
                project_id=project_id, user_id=user_id, role=role, created_at=now
            )
        )


def memberships_of(conn: Connection, user_id: int) -> list[tuple[Project, Role]]:
    """The user's projects with their role there, by project id."""
    query = (
        select(projects, memberships.c.role)
        .join(memberships, memberships.c.project_id == projects.c.id)
        .where(memberships.c.user_id == user_id)
        .order_by(projects.c.id)
    )
    return [
        (Project(id=r.id, name=r.name, created_at=r.created_at), Role(r.role))
        for r in conn.execute(query)
    ]


# Sessions ---------------------------------------------------------------------------------


def insert_session(
    conn: Connection,
    token_hash: str,
    user_id: int,
    project_id: int | None,
    csrf_token: str,
    now: dt.datetime,
    expires_at: dt.datetime,
) -> None:
    conn.execute(
        insert(sessions).values(
            token_hash=token_hash,
            user_id=user_id,
            project_id=project_id,
            csrf_token=csrf_token,
            created_at=now,
            expires_at=expires_at,
        )
    )


def get_session(conn: Connection, token_hash: str, now: dt.datetime) -> Any | None:
    """The live session row (``user_id``, ``project_id``, ``csrf_token``, ``expires_at``)."""
    return conn.execute(
        select(sessions).where(sessions.c.token_hash == token_hash, sessions.c.expires_at > now)
    ).first()


def set_session_project(conn: Connection, token_hash: str, project_id: int) -> None:
    conn.execute(
        update(sessions).where(sessions.c.token_hash == token_hash).values(project_id=project_id)
    )


def delete_session(conn: Connection, token_hash: str) -> None:
    conn.execute(delete(sessions).where(sessions.c.token_hash == token_hash))


def delete_other_sessions(conn: Connection, user_id: int, keep_token_hash: str | None) -> int:
    query = delete(sessions).where(sessions.c.user_id == user_id)
    if keep_token_hash is not None:
        query = query.where(sessions.c.token_hash != keep_token_hash)
    return int(conn.execute(query).rowcount)


def delete_expired_sessions(conn: Connection, now: dt.datetime) -> None:
    conn.execute(delete(sessions).where(sessions.c.expires_at <= now))


# Sign-in throttling -----------------------------------------------------------------------


def throttle_rows(conn: Connection, keys: list[str]) -> dict[str, Any]:
    rows = conn.execute(select(login_throttle).where(login_throttle.c.key.in_(keys)))
    return {r.key: r for r in rows}


def reserve_attempt(
    conn: Connection, key: str, now: dt.datetime, window_start_before: dt.datetime
) -> int | None:
    """Count one attempt on ``key`` unless it is locked, in one statement: the attempts now
    counted in its window (this one included), or ``None`` when the key is locked (nothing
    is counted).  A window that started before ``window_start_before`` starts again.

    One ``INSERT … ON CONFLICT DO UPDATE … WHERE unlocked RETURNING``: concurrent attempts
    queue on the row (PostgreSQL's row lock, SQLite's write lock), each sees the count the
    one before it left, so the count *is* the reservation."""
    t = login_throttle
    dialect_insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    proposed = dialect_insert(t).values(key=key, failures=1, window_started_at=now)
    stale = t.c.window_started_at < window_start_before
    statement = proposed.on_conflict_do_update(
        index_elements=[t.c.key],
        set_={
            "failures": case((stale, 1), else_=t.c.failures + 1),
            "window_started_at": case(
                (stale, proposed.excluded.window_started_at), else_=t.c.window_started_at
            ),
        },
        where=or_(t.c.locked_until.is_(None), t.c.locked_until <= now),
    ).returning(t.c.failures)
    row = conn.execute(statement).first()
    return None if row is None else int(row[0])


def set_throttle_lock(conn: Connection, key: str, locked_until: dt.datetime) -> None:
    conn.execute(
        update(login_throttle).where(login_throttle.c.key == key).values(locked_until=locked_until)
    )


def release_attempt(conn: Connection, key: str, *, unlock: bool) -> None:
    """Take back one reserved attempt (it succeeded); ``unlock`` when its reservation set the
    lock (no other attempt can have been counted since)."""
    values: dict[str, Any] = {
        "failures": case((login_throttle.c.failures > 0, login_throttle.c.failures - 1), else_=0)
    }
    if unlock:
        values["locked_until"] = None
    conn.execute(update(login_throttle).where(login_throttle.c.key == key).values(**values))


def clear_throttle(conn: Connection, key: str) -> None:
    conn.execute(delete(login_throttle).where(login_throttle.c.key == key))


def delete_stale_throttle(conn: Connection, before: dt.datetime, now: dt.datetime) -> None:
    conn.execute(
        delete(login_throttle).where(
            login_throttle.c.window_started_at < before,
            (login_throttle.c.locked_until.is_(None)) | (login_throttle.c.locked_until < now),
        )
    )

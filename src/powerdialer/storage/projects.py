"""SQL for projects and their API keys."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from powerdialer.models import ApiKey, Project
from powerdialer.storage.dbapi import cursor, placeholders
from powerdialer.storage.schema import api_keys, projects


def _project(row: Any) -> Project:
    return Project(id=row.id, name=row.name, created_at=row.created_at)


def _key(row: Any) -> ApiKey:
    return ApiKey(
        id=row.id,
        project_id=row.project_id,
        key_id=row.key_id,
        name=row.name,
        created_at=row.created_at,
        revoked_at=row.revoked_at,
    )


def insert_project(conn: Connection, name: str, now: dt.datetime) -> Project:
    row = conn.execute(
        insert(projects).values(name=name, created_at=now).returning(*projects.c)
    ).one()
    return _project(row)


def get_project(conn: Connection, project_id: int) -> Project | None:
    row = conn.execute(select(projects).where(projects.c.id == project_id)).first()
    return _project(row) if row else None


def list_projects(conn: Connection) -> list[Project]:
    return [_project(r) for r in conn.execute(select(projects).order_by(projects.c.id))]


def count_projects(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(projects)).scalar_one())


def insert_key(
    conn: Connection, project_id: int, key_id: str, secret_hash: str, name: str, now: dt.datetime
) -> ApiKey:
    row = conn.execute(
        insert(api_keys)
        .values(
            project_id=project_id, key_id=key_id, secret_hash=secret_hash, name=name, created_at=now
        )
        .returning(*api_keys.c)
    ).one()
    return _key(row)


def list_keys(conn: Connection, project_id: int) -> list[ApiKey]:
    query = select(api_keys).where(api_keys.c.project_id == project_id).order_by(api_keys.c.id)
    return [_key(r) for r in conn.execute(query)]


def revoke_key(conn: Connection, project_id: int, key_id: str, now: dt.datetime) -> bool:
    result = conn.execute(
        update(api_keys)
        .where(
            api_keys.c.project_id == project_id,
            api_keys.c.key_id == key_id,
            api_keys.c.revoked_at.is_(None),
        )
        .values(revoked_at=now)
    )
    return result.rowcount > 0


def key_hashes(conn: Connection, pairs: set[tuple[int, str]]) -> dict[tuple[int, str], str]:
    """Stored secret hashes of the unrevoked keys among ``(project_id, key_id)`` pairs."""
    if not pairs:
        return {}
    key_ids = sorted({key_id for _, key_id in pairs})
    query = (
        "SELECT project_id, key_id, secret_hash FROM api_keys "  # noqa: S608 (placeholders only)
        f"WHERE key_id IN ({placeholders(conn.dialect.name, len(key_ids))}) "
        "AND revoked_at IS NULL"
    )
    cur = cursor(conn)
    cur.execute(query, key_ids)
    return {(p, k): h for p, k, h in cur.fetchall() if (p, k) in pairs}

"""SQL for a project's telephony settings and its members' extensions
(``telephony.settings``), and the one read a server-side call needs: the lease with its
number and its operator's extension (``telephony.calls``)."""

from __future__ import annotations

import datetime as dt
from typing import Any, NamedTuple

from sqlalchemy import Connection, and_, select

from powerdialer.storage.dialer import LEASED
from powerdialer.storage.schema import (
    campaign_rows,
    leases,
    memberships,
    operator_telephony,
    telephony_settings,
    users,
)

COLUMNS = tuple(c.name for c in telephony_settings.c if c.name not in ("project_id", "updated_at"))


def settings_row(conn: Connection, project_id: int) -> dict[str, Any] | None:
    row = (
        conn.execute(
            select(telephony_settings).where(telephony_settings.c.project_id == project_id)
        )
        .mappings()
        .first()
    )
    return None if row is None else dict(row)


def save_settings(
    conn: Connection, project_id: int, values: dict[str, Any], now: dt.datetime
) -> None:
    """Insert or replace the project's row (``values``: every column of :data:`COLUMNS`)."""
    assert set(values) == set(COLUMNS), "telephony settings are saved whole"
    t = telephony_settings
    changed = conn.execute(
        t.update().where(t.c.project_id == project_id).values(**values, updated_at=now)
    ).rowcount
    if not changed:
        conn.execute(t.insert().values(project_id=project_id, updated_at=now, **values))


class MemberPhone(NamedTuple):
    user_id: int
    email: str
    name: str
    role: str
    extension: str | None


def member_phones(conn: Connection, project_id: int) -> list[MemberPhone]:
    m, u, o = memberships.c, users.c, operator_telephony.c
    rows = conn.execute(
        select(m.user_id, u.email, u.name, m.role, o.extension)
        .join(users, u.id == m.user_id)
        .outerjoin(operator_telephony, and_(o.project_id == m.project_id, o.user_id == m.user_id))
        .where(m.project_id == project_id)
        .order_by(u.email)
    )
    return [MemberPhone(*row) for row in rows]


def extension_of(conn: Connection, project_id: int, user_id: int) -> str | None:
    o = operator_telephony.c
    return conn.execute(
        select(o.extension).where(o.project_id == project_id, o.user_id == user_id)
    ).scalar_one_or_none()


def is_member(conn: Connection, project_id: int, user_id: int) -> bool:
    m = memberships.c
    found = conn.execute(
        select(m.user_id).where(m.project_id == project_id, m.user_id == user_id)
    ).first()
    return found is not None


def set_extension(
    conn: Connection, project_id: int, user_id: int, extension: str | None, now: dt.datetime
) -> None:
    o = operator_telephony
    where = and_(o.c.project_id == project_id, o.c.user_id == user_id)
    if extension is None:
        conn.execute(o.delete().where(where))
        return
    if not conn.execute(
        o.update().where(where).values(extension=extension, updated_at=now)
    ).rowcount:
        conn.execute(
            o.insert().values(
                project_id=project_id, user_id=user_id, extension=extension, updated_at=now
            )
        )


class CallTarget(NamedTuple):
    lease_id: int
    operator_id: int
    phone_e164: str
    current: bool  # the row's open lease now
    extension: str | None  # the lease's operator's own phone


def call_target(conn: Connection, project_id: int, lease_id: int) -> CallTarget | None:
    """The lease (of this project only), its number, whether it is still the row's, and its
    operator's extension: what placing its call reads."""
    lz, r, o = leases.c, campaign_rows.c, operator_telephony.c
    row = conn.execute(
        select(lz.id, lz.operator_id, r.phone_e164, lz.ended_at, r.lease_id, r.status, o.extension)
        .join(campaign_rows, r.id == lz.row_id)
        .outerjoin(
            operator_telephony,
            and_(o.project_id == lz.project_id, o.user_id == lz.operator_id),
        )
        .where(lz.project_id == project_id, lz.id == lease_id)
    ).first()
    if row is None:
        return None
    current = row[3] is None and row[4] == row[0] and row[5] == LEASED
    return CallTarget(row[0], row[1], row[2], current, row[6])

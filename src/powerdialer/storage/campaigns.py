"""SQL for campaigns.  Every query is scoped by project: another project's campaign is
indistinguishable from one that does not exist."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, NamedTuple

from sqlalchemy import Connection, delete, func, insert, select, update

from powerdialer.models import Campaign, CampaignState
from powerdialer.storage.dbapi import cursor, placeholders
from powerdialer.storage.schema import campaign_rows, campaigns


def _campaign(row: Any) -> Campaign:
    return Campaign(
        id=row.id,
        project_id=row.project_id,
        name=row.name,
        state=CampaignState(row.state),
        duplicate_policy=row.duplicate_policy,
        created_at=row.created_at,
        updated_at=row.updated_at,
        require_consent=bool(row.require_consent),
        dialer_state=row.dialer_state,
        completed_at=row.completed_at,
    )


def insert_campaign(
    conn: Connection,
    project_id: int,
    name: str,
    now: dt.datetime,
    duplicate_policy: str = "skip",
    require_consent: bool = False,
) -> Campaign:
    row = conn.execute(
        insert(campaigns)
        .values(
            project_id=project_id,
            name=name,
            duplicate_policy=duplicate_policy,
            require_consent=require_consent,
            created_at=now,
            updated_at=now,
        )
        .returning(*campaigns.c)
    ).one()
    return _campaign(row)


def get_campaign(conn: Connection, project_id: int, campaign_id: int) -> Campaign | None:
    row = conn.execute(
        select(campaigns).where(campaigns.c.project_id == project_id, campaigns.c.id == campaign_id)
    ).first()
    return _campaign(row) if row else None


def list_campaigns(
    conn: Connection, project_id: int, state: CampaignState | None = None
) -> list[Campaign]:
    query = select(campaigns).where(campaigns.c.project_id == project_id)
    if state is not None:
        query = query.where(campaigns.c.state == state.value)
    return [_campaign(r) for r in conn.execute(query.order_by(campaigns.c.id))]


def set_state(
    conn: Connection, project_id: int, campaign_id: int, state: CampaignState, now: dt.datetime
) -> Campaign | None:
    return update_campaign(conn, project_id, campaign_id, {"state": state.value}, now)


def update_campaign(
    conn: Connection,
    project_id: int,
    campaign_id: int,
    values: Mapping[str, object],
    now: dt.datetime,
) -> Campaign | None:
    """Set ``values`` (any of name, state, duplicate_policy, require_consent) and
    ``updated_at``."""
    row = conn.execute(
        update(campaigns)
        .where(campaigns.c.project_id == project_id, campaigns.c.id == campaign_id)
        .values(**values, updated_at=now)
        .returning(*campaigns.c)
    ).first()
    return _campaign(row) if row else None


def delete_campaign(conn: Connection, project_id: int, campaign_id: int) -> bool:
    """Delete the campaign; its rows and import jobs go with it by ``ON DELETE CASCADE``
    (on SQLite only with ``PRAGMA foreign_keys=ON``, which storage.engine sets per
    connection)."""
    result = conn.execute(
        delete(campaigns).where(campaigns.c.project_id == project_id, campaigns.c.id == campaign_id)
    )
    return result.rowcount > 0


def row_counts(
    conn: Connection, project_id: int, campaign_id: int | None = None
) -> dict[int, dict[str, int]]:
    """``{campaign_id: {status: rows}}`` for one campaign, or for every campaign of the
    project in one grouped query (served by the (project, campaign, status, …) index)."""
    query = select(
        campaign_rows.c.campaign_id, campaign_rows.c.status, func.count().label("n")
    ).where(campaign_rows.c.project_id == project_id)
    if campaign_id is not None:
        query = query.where(campaign_rows.c.campaign_id == campaign_id)
    query = query.group_by(campaign_rows.c.campaign_id, campaign_rows.c.status)
    counts: dict[int, dict[str, int]] = {}
    for row in conn.execute(query):
        counts.setdefault(row.campaign_id, {})[row.status] = int(row.n)
    return counts


def project_of(conn: Connection, campaign_id: int) -> int | None:
    """The owning project of a campaign (admin CLI only: it has no project in hand)."""
    return conn.execute(
        select(campaigns.c.project_id).where(campaigns.c.id == campaign_id)
    ).scalar_one_or_none()


class WriteTarget(NamedTuple):
    """What a write of rows needs to know of the campaign it writes to."""

    project_id: int
    state: str
    duplicate_policy: str
    require_consent: bool = False  # rows without consent_basis and consent_at are refused


def write_targets(conn: Connection, ids: set[int]) -> dict[int, WriteTarget]:
    """``{campaign_id: WriteTarget}`` of the campaigns a batch of row writes names, in one
    driver-level query (it runs in the group-commit writer: see ``dbapi``).  Not scoped by
    project: the caller checks ownership (``campaigns.refusal``)."""
    if not ids:
        return {}
    sql = (
        "SELECT id, project_id, state, duplicate_policy, require_consent "  # noqa: S608
        f"FROM campaigns WHERE id IN ({placeholders(conn.dialect.name, len(ids))})"
    )
    cur = cursor(conn)
    cur.execute(sql, sorted(ids))
    return {i: WriteTarget(p, s, d, bool(c)) for i, p, s, d, c in cur.fetchall()}

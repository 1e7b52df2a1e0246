"""SQL for campaigns.  Every query is scoped by project: another project's campaign is
indistinguishable from one that does not exist."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Connection, insert, select, update

from powerdialer.models import Campaign, CampaignState
from powerdialer.storage.schema import campaigns


def _campaign(row: Any) -> Campaign:
    return Campaign(
        id=row.id,
        project_id=row.project_id,
        name=row.name,
        state=CampaignState(row.state),
        duplicate_policy=row.duplicate_policy,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def insert_campaign(conn: Connection, project_id: int, name: str, now: dt.datetime) -> Campaign:
    row = conn.execute(
        insert(campaigns)
        .values(project_id=project_id, name=name, created_at=now, updated_at=now)
        .returning(*campaigns.c)
    ).one()
    return _campaign(row)


def get_campaign(conn: Connection, project_id: int, campaign_id: int) -> Campaign | None:
    row = conn.execute(
        select(campaigns).where(campaigns.c.project_id == project_id, campaigns.c.id == campaign_id)
    ).first()
    return _campaign(row) if row else None


def list_campaigns(conn: Connection, project_id: int) -> list[Campaign]:
    query = select(campaigns).where(campaigns.c.project_id == project_id).order_by(campaigns.c.id)
    return [_campaign(r) for r in conn.execute(query)]


def set_state(
    conn: Connection, project_id: int, campaign_id: int, state: CampaignState, now: dt.datetime
) -> Campaign | None:
    row = conn.execute(
        update(campaigns)
        .where(campaigns.c.project_id == project_id, campaigns.c.id == campaign_id)
        .values(state=state.value, updated_at=now)
        .returning(*campaigns.c)
    ).first()
    return _campaign(row) if row else None


def project_of(conn: Connection, campaign_id: int) -> int | None:
    """The owning project of a campaign (admin CLI only: it has no project in hand)."""
    return conn.execute(
        select(campaigns.c.project_id).where(campaigns.c.id == campaign_id)
    ).scalar_one_or_none()

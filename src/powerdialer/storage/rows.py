"""SQL for campaign rows."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select

from powerdialer.models import Row, RowSource
from powerdialer.storage.schema import campaign_rows


def _row(r: Any) -> Row:
    return Row(
        id=r.id,
        project_id=r.project_id,
        campaign_id=r.campaign_id,
        fio=r.fio,
        phone_raw=r.phone_raw,
        phone_e164=r.phone_e164,
        source=RowSource(r.source),
        created_at=r.created_at,
        status=r.status,
        attempts=r.attempts,
        external_id=r.external_id,
    )


def list_rows(
    conn: Connection, project_id: int, campaign_id: int, *, limit: int, after_id: int = 0
) -> list[Row]:
    query = (
        select(campaign_rows)
        .where(
            campaign_rows.c.project_id == project_id,
            campaign_rows.c.campaign_id == campaign_id,
            campaign_rows.c.id > after_id,
        )
        .order_by(campaign_rows.c.id)
        .limit(limit)
    )
    return [_row(r) for r in conn.execute(query)]

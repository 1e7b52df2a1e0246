"""SQL for a campaign's dialing settings (rules, paused or running) and a project's own
outcomes: rare CRUD through ``Store.write``, not the writer."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from powerdialer.storage.schema import campaign_rows, campaigns, outcomes


def campaign_settings(conn: Connection, project_id: int, campaign_id: int) -> Any:
    c = campaigns.c
    return conn.execute(
        select(c.id, c.rules, c.dialer_state, c.completed_at, c.require_consent).where(
            c.project_id == project_id, c.id == campaign_id
        )
    ).first()


def set_rules(
    conn: Connection, project_id: int, campaign_id: int, rules: str | None, now: dt.datetime
) -> None:
    """Store the rules and forget every hold made under the old ones (the queue judges those
    rows afresh at the next lease)."""
    conn.execute(
        update(campaigns)
        .where(campaigns.c.project_id == project_id, campaigns.c.id == campaign_id)
        .values(rules=rules, updated_at=now)
    )
    r = campaign_rows.c
    conn.execute(
        update(campaign_rows)
        .where(r.project_id == project_id, r.campaign_id == campaign_id, r.held_until.isnot(None))
        .values(held_until=None, hold_reason=None)
    )


def set_dialer_state(
    conn: Connection, project_id: int, campaign_id: int, state: str, now: dt.datetime
) -> bool:
    done = conn.execute(
        update(campaigns)
        .where(campaigns.c.project_id == project_id, campaigns.c.id == campaign_id)
        .values(dialer_state=state, updated_at=now)
    )
    return bool(done.rowcount)


def list_outcomes(conn: Connection, project_id: int) -> list[Any]:
    o = outcomes.c
    return list(conn.execute(select(outcomes).where(o.project_id == project_id).order_by(o.code)))


def add_outcome(conn: Connection, project_id: int, now: dt.datetime, **values: Any) -> bool:
    o = outcomes.c
    found = conn.execute(
        select(o.code).where(o.project_id == project_id, o.code == values["code"])
    ).first()
    if found:
        return False
    conn.execute(insert(outcomes).values(project_id=project_id, created_at=now, **values))
    return True


def delete_outcome(conn: Connection, project_id: int, code: str) -> bool:
    o = outcomes.c
    done = conn.execute(delete(outcomes).where(o.project_id == project_id, o.code == code))
    return bool(done.rowcount)

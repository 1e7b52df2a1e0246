"""Changing a stored row's place in the dialer's queue: its ``priority`` and ``call_next``
(``PATCH /power-dialer/campaigns/{id}/rows/{row_id}``).  A rare CRUD write
(``Store.write``); the queue reads the new values at its next lease."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Connection

from powerdialer.campaigns import get_campaign
from powerdialer.errors import ValidationError
from powerdialer.models import utcnow
from powerdialer.rows.dialer_fields import parse_call_next, parse_priority
from powerdialer.rows.listing import row_not_found
from powerdialer.rows.models import RowRecord
from powerdialer.storage import Store, rows_edit
from powerdialer.storage import rows_read as sql


def update_row(
    store: Store,
    project_id: int,
    campaign_id: int,
    row_id: int,
    *,
    priority: object = None,
    call_next: object = None,
    now: dt.datetime | None = None,
) -> RowRecord:
    """Set the row's ``priority`` and/or ``call_next`` (``None``: keep it); the row as it is
    then.  Raises ``campaign_not_found`` / ``row_not_found`` (also for another project's)."""
    new_priority = parse_priority(priority)
    new_call_next = parse_call_next(call_next)
    if new_priority is None and new_call_next is None:
        raise ValidationError(
            "send priority (an integer from -1000 to 1000) and/or call_next (true or false), "
            'e.g. {"priority": 5, "call_next": true}.',
            code="invalid_field",
            field="priority",
            reason="missing",
        )
    when = now or utcnow()

    def run(conn: Connection) -> RowRecord:
        get_campaign(conn, project_id, campaign_id)
        if sql.get_row(conn, project_id, campaign_id, row_id) is None:
            raise row_not_found(row_id)
        rows_edit.set_dialer_fields(conn, project_id, [(row_id, new_priority, new_call_next)], when)
        found = sql.get_row(conn, project_id, campaign_id, row_id)
        assert found is not None  # this transaction saw it a moment ago
        return found

    return store.write(run)

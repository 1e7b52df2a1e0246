"""The ``row.added`` webhook events of a bulk request (``rows.write.apply_bulk``), built in
the writer's transaction and written to the outbox there (``webhooks.outbox``)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from powerdialer.rows.policies import RowOutcome
from powerdialer.webhooks import events, outbox


def rows_added(
    project_id: int, campaign_id: int, source: str, outcomes: Sequence[RowOutcome]
) -> list[outbox.Event]:
    """A request's ``row.added`` events: one with its counts (for subscriptions without the
    per-row flag) and one per row stored (for those with it); none if nothing was stored."""
    counted = Counter(o.status for o in outcomes)
    stored = [o for o in outcomes if o.status in ("inserted", "updated")]
    if not stored:
        return []
    found = [
        outbox.Event(
            project_id,
            events.ROW_ADDED,
            events.rows_data(
                campaign_id,
                source,
                inserted=counted["inserted"],
                updated=counted["updated"],
                duplicates=counted["duplicate"],
                rejected=counted["rejected"],
                row_ids=[o.id for o in stored],
            ),
            per_row=False,
        )
    ]
    for o in stored:
        inserted = o.status == "inserted"
        data = events.rows_data(
            campaign_id, source, inserted=int(inserted), updated=int(not inserted), row_ids=[o.id]
        )
        found.append(outbox.Event(project_id, events.ROW_ADDED, data, per_row=True))
    return found

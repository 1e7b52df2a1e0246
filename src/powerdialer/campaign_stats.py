"""A campaign's overview: how its rows grew, day by day, split by where they came from.

Counted from the rows the campaign has now (a deleted row leaves the history too); days are
UTC days.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Connection

from powerdialer.campaigns import get_campaign
from powerdialer.models import RowSource, utcnow
from powerdialer.storage import Store
from powerdialer.storage import campaign_stats as sql

DEFAULT_DAYS = 30


@dataclass(frozen=True)
class Growth:
    days: list[dt.date]
    added: dict[str, list[int]]  # source -> rows added on each day
    total: list[int]  # rows in the campaign at the end of each day

    @property
    def peak(self) -> int:
        return max(self.total, default=0)


def campaign_growth(
    store: Store,
    project_id: int,
    campaign_id: int,
    *,
    days: int = DEFAULT_DAYS,
    today: dt.date | None = None,
) -> Growth:
    """The last ``days`` days up to ``today`` (UTC), from the campaign's first day on."""

    def run(conn: Connection) -> tuple[dt.date, list[tuple[str, str, int]]]:
        campaign = get_campaign(conn, project_id, campaign_id)
        return campaign.created_at.date(), sql.added_per_day(conn, project_id, campaign_id)

    created, counted = store.read(run)
    last = today or utcnow().date()
    # Rows may predate the campaign (brought over from elsewhere with their dates).
    start = min([created, *(dt.date.fromisoformat(day) for day, _, _ in counted[:1])])
    first = min(max(start, last - dt.timedelta(days=days - 1)), last)
    span = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
    index = {day: i for i, day in enumerate(span)}
    added = {source.value: [0] * len(span) for source in RowSource}
    before = 0
    for day_text, source, count in counted:
        day = dt.date.fromisoformat(day_text)
        if day < first:
            before += count
        elif day in index:
            added.setdefault(source, [0] * len(span))[index[day]] += count
    total, running = [], before
    for i in range(len(span)):
        running += sum(series[i] for series in added.values())
        total.append(running)
    return Growth(span, added, total)

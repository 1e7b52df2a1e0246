"""The outbox: events written by the apply function that makes the change, in its
transaction (docs/architecture.md), with one delivery per subscription that asked for them.

A change rolled back takes its events with it; a change committed has them on disk before
anyone is answered.  The sender (``webhooks.sender``) posts them after the commit.

The hot compatible endpoint must pay ~nothing when nobody subscribed: ``wants`` answers from
a per-database cache of which projects have an enabled subscription for which types, read at
most once a second (``TTL``) and dropped at once by ``forget`` when this process changes a
subscription.  A subscription created by another instance is seen within ``TTL``.  The cache
only says whether to look: the subscriptions an event goes to are read in the transaction
(``storage.webhooks.enabled_of``), so a stale cache can cost a query, never a wrong delivery.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine

from powerdialer.storage import webhooks as sql
from powerdialer.webhooks import events

TTL = 1.0  # seconds a cached view of the subscriptions is used

_lock = threading.Lock()
View = dict[int, tuple[frozenset[str], frozenset[str]]]
"""Per project with an enabled subscription: the types asked for, and those a per-row
subscription asks for."""
_cache: weakref.WeakKeyDictionary[Engine, tuple[float, View]] = weakref.WeakKeyDictionary()
_NONE: tuple[frozenset[str], frozenset[str]] = (frozenset(), frozenset())


@dataclass(frozen=True, slots=True)
class Event:
    """An event to write.  ``per_row``: ``None`` goes to every subscription of the type;
    ``False`` to those without the per-row flag (a request's or job's ``row.added``);
    ``True`` to those with it (one row's).  ``subscription_id``: to that one only (a test
    event, whatever its types)."""

    project_id: int
    type: str
    data: dict[str, Any]
    per_row: bool | None = None
    subscription_id: int | None = None


def _view(conn: Connection, clock: Callable[[], float]) -> View:
    engine = conn.engine
    now = clock()
    with _lock:
        cached = _cache.get(engine)
    if cached is not None and now - cached[0] < TTL:
        return cached[1]
    view = sql.enabled_types(conn)
    with _lock:
        _cache[engine] = (now, view)
    return view


def wants(
    conn: Connection,
    project_id: int,
    kind: str,
    clock: Callable[[], float] = time.monotonic,
    *,
    per_row: bool = False,
) -> bool:
    """Whether the project has an enabled subscription for ``kind`` (``per_row``: one with
    the per-row flag; cached: see above)."""
    every, by_row = _view(conn, clock).get(project_id, _NONE)
    return kind in (by_row if per_row else every)


def wanted(conn: Connection, project_id: int) -> bool:
    """Whether the project has any enabled subscription (cached: see above): a caller with
    many events to describe builds them only then."""
    return bool(_view(conn, time.monotonic).get(project_id))


def forget(engine: Engine) -> None:
    """Drop the cached view (this process changed a subscription)."""
    with _lock:
        _cache.pop(engine, None)


def emit(conn: Connection, found: Sequence[Event], now: dt.datetime) -> list[str]:
    """Write the events that an enabled subscription asked for, with their deliveries, in
    the caller's transaction; the ids written."""
    view = _view(conn, time.monotonic)
    asked = [
        e
        for e in found
        if e.subscription_id is not None or e.type in view.get(e.project_id, _NONE)[0]
    ]
    if not asked:
        return []
    subscriptions = sql.enabled_of(conn, {e.project_id for e in asked})
    written: list[sql.EventValues] = []
    queued: list[sql.DeliveryValues] = []
    for event in asked:
        targets = [
            sub_id
            for sub_id, project_id, types, per_row in subscriptions
            if project_id == event.project_id
            and (
                sub_id == event.subscription_id
                if event.subscription_id is not None
                else event.type in types and (event.per_row is None or event.per_row == per_row)
            )
        ]
        if not targets:
            continue
        event_id = events.new_event_id()
        body = events.body(event_id, event.type, event.project_id, now, event.data)
        written.append((event_id, event.project_id, event.type, body))
        queued.extend((event.project_id, sub_id, event_id) for sub_id in targets)
    sql.insert_outbox(conn, written, queued, now)
    return [w[0] for w in written]


def emit_rows(
    conn: Connection,
    project_id: int,
    campaign_id: int,
    source: str,
    job_id: int | None,
    stored: Sequence[tuple[int, bool]],
    now: dt.datetime,
) -> int:
    """One ``row.added`` per row in ``stored`` (``(row_id, inserted)``, else updated) for
    the project's per-row subscriptions, in the caller's transaction: an import chunk's,
    written set-based (one body template, ids from one random read, multi-row inserts);
    how many events were written."""
    if not stored:
        return 0
    targets = [
        sub_id
        for sub_id, _project, types, per_row in sql.enabled_of(conn, {project_id})
        if per_row and events.ROW_ADDED in types
    ]
    if not targets:
        return 0
    ids = events.new_event_ids(len(stored))
    bodies = events.row_bodies(ids, stored, project_id, now, campaign_id, source, job_id)
    written = [(i, project_id, events.ROW_ADDED, b) for i, b in zip(ids, bodies, strict=True)]
    queued = [(project_id, sub_id, event_id) for event_id in ids for sub_id in targets]
    sql.insert_outbox(conn, written, queued, now)
    return len(written)

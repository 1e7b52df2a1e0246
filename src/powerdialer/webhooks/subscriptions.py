"""A project's webhook subscriptions, what the API and the UI call: create (the URL checked
against the safe-target rules, the secret shown once), change, delete, rotate the secret with
an overlap, the delivery log, a manual resend, and "send test event".

Every function is scoped by project: another project's subscription, event or delivery is
indistinguishable from one that does not exist.  Rare writes: ``Store.write``
(docs/architecture.md), each one dropping this process's outbox cache (``outbox.forget``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from powerdialer import outbound
from powerdialer.errors import Conflict, NotFound, ValidationError
from powerdialer.models import utcnow
from powerdialer.storage import Store
from powerdialer.storage import webhooks as sql
from powerdialer.webhooks import events, outbox, signing

MAX_SUBSCRIPTIONS = 20  # per project
DEFAULT_OVERLAP = dt.timedelta(hours=24)
MAX_OVERLAP = dt.timedelta(days=7)
LOG_LIMIT = 50


@dataclass(frozen=True, slots=True)
class Created:
    subscription: sql.Subscription
    secret: str  # shown once


@dataclass(frozen=True, slots=True)
class Attempt:
    attempted_at: dt.datetime
    status_code: int | None
    response_ms: int | None
    response_head: str | None
    error: str | None


@dataclass(frozen=True, slots=True)
class Delivery:
    row: sql.DeliveryRow
    attempts: list[Attempt]


def webhook_not_found(sub_id: object) -> NotFound:
    return NotFound(
        f"webhook {sub_id} is not a webhook subscription of this project: list them with "
        "GET /power-dialer/webhooks.",
        code="webhook_not_found",
        field="webhook_id",
    )


def event_not_found(event_id: object) -> NotFound:
    return NotFound(
        f"event {event_id} is not an event of this project: see a webhook's deliveries for "
        "the ids.",
        code="webhook_event_not_found",
        field="event_id",
    )


def delivery_not_found(delivery_id: object) -> NotFound:
    return NotFound(
        f"delivery {delivery_id} is not a webhook delivery of this project.",
        code="delivery_not_found",
        field="delivery_id",
    )


def parse_types(value: object, field: str = "event_types") -> list[str]:
    if not isinstance(value, list | tuple) or not value:
        raise ValidationError(
            f"{field} must be a non-empty list of event types, from: "
            f"{', '.join(events.EVENT_TYPES)}.",
            code="invalid_event_types",
            field=field,
        )
    unknown = [str(v) for v in value if v not in events.EVENT_TYPES]
    if unknown:
        raise ValidationError(
            f"{field}: {', '.join(unknown)[:200]} is not an event type; use "
            f"{', '.join(events.EVENT_TYPES)}.",
            code="invalid_event_types",
            field=field,
        )
    return sorted({str(v) for v in value})


async def check_target(url: object, policy: outbound.Policy, field: str = "url") -> str:
    """The URL if it may be a subscription's: well formed, and every address its host
    resolves to now is public or allowed (checked again at every new connection)."""
    target = outbound.check_url(url, field)
    try:
        await outbound.resolve(target, policy)
    except outbound.OutboundRefused as exc:
        raise ValidationError(
            f"{field} is refused: {exc}.", code="url_refused", field=field
        ) from None
    assert isinstance(url, str)  # check_url refuses anything else
    return url.strip()


async def create(
    store: Store,
    project_id: int,
    url: object,
    types: object,
    *,
    per_row: bool,
    policy: outbound.Policy,
    now: dt.datetime | None = None,
) -> Created:
    kinds = parse_types(types)  # first: a URL's check may resolve its name
    checked = await check_target(url, policy)
    when = now or utcnow()
    secret = signing.new_secret()

    def run(conn: Any) -> int:
        if len(sql.list_subscriptions(conn, project_id)) >= MAX_SUBSCRIPTIONS:
            raise Conflict(
                f"a project has at most {MAX_SUBSCRIPTIONS} webhook subscriptions: delete one.",
                code="too_many_webhooks",
                field="url",
            )
        return sql.create_subscription(conn, project_id, checked, kinds, per_row, secret, when)

    sub_id = store.write(run)
    outbox.forget(store.engine)
    return Created(get(store, project_id, sub_id), secret)


def get(store: Store, project_id: int, sub_id: int) -> sql.Subscription:
    found = store.read(lambda conn: sql.get_subscription(conn, project_id, sub_id))
    if found is None:
        raise webhook_not_found(sub_id)
    return found


def list_all(store: Store, project_id: int) -> list[sql.Subscription]:
    return store.read(lambda conn: sql.list_subscriptions(conn, project_id))


async def change(
    store: Store,
    project_id: int,
    sub_id: int,
    *,
    policy: outbound.Policy,
    url: object = None,
    types: object = None,
    per_row: bool | None = None,
    enabled: bool | None = None,
    now: dt.datetime | None = None,
) -> sql.Subscription:
    """Change what is given; ``enabled=True`` turns a disabled subscription back on (its
    failure count starts again; its queued deliveries are sent)."""
    when = now or utcnow()
    values: dict[str, Any] = {"updated_at": when}
    if url is not None:
        values["url"] = await check_target(url, policy)
    if types is not None:
        values["event_types"] = parse_types(types)
    if per_row is not None:
        values["per_row"] = per_row
    if enabled is not None:
        values["enabled"] = enabled
        if enabled:
            values.update(
                disabled_at=None, disabled_reason=None, consecutive_failures=0, failing_since=None
            )
        else:
            values.update(disabled_at=when, disabled_reason="disabled by a user")
    if not store.write(lambda conn: sql.update_subscription(conn, project_id, sub_id, values)):
        raise webhook_not_found(sub_id)
    outbox.forget(store.engine)
    return get(store, project_id, sub_id)


def delete(store: Store, project_id: int, sub_id: int) -> None:
    if not store.write(lambda conn: sql.delete_subscription(conn, project_id, sub_id)):
        raise webhook_not_found(sub_id)
    outbox.forget(store.engine)


def rotate(
    store: Store,
    project_id: int,
    sub_id: int,
    *,
    overlap: dt.timedelta = DEFAULT_OVERLAP,
    now: dt.datetime | None = None,
) -> tuple[str, dt.datetime]:
    """A new secret (shown once); the current one keeps signing beside it for ``overlap``.
    Answers the new secret and when the old one stops."""
    if not dt.timedelta(0) <= overlap <= MAX_OVERLAP:
        raise ValidationError(
            f"overlap_seconds must be 0 to {int(MAX_OVERLAP.total_seconds())}.",
            code="invalid_field",
            field="overlap_seconds",
        )
    when = now or utcnow()
    secret = signing.new_secret()
    until = when + overlap

    def run(conn: Any) -> bool:
        if sql.get_subscription(conn, project_id, sub_id) is None:
            return False
        sql.rotate_secret(conn, project_id, sub_id, secret, when, until)
        return True

    if not store.write(run):
        raise webhook_not_found(sub_id)
    return secret, until


def secret_expiries(
    store: Store, project_id: int, sub_id: int, now: dt.datetime | None = None
) -> list[tuple[dt.datetime, dt.datetime | None]]:
    get(store, project_id, sub_id)
    when = now or utcnow()
    rows = store.read(lambda conn: sql.secret_expiries(conn, project_id, sub_id, when))
    return [(r[0], r[1]) for r in rows]


def _with_attempts(
    store: Store, project_id: int, rows: Sequence[sql.DeliveryRow]
) -> list[Delivery]:
    ids = [r.id for r in rows]
    found: dict[int, list[Attempt]] = {i: [] for i in ids}
    if ids:
        for a in store.read(lambda conn: sql.attempts_of(conn, project_id, ids)):
            found[a[0]].append(Attempt(*a[1:]))
    return [Delivery(r, found[r.id]) for r in rows]


def deliveries(
    store: Store, project_id: int, sub_id: int, limit: int = LOG_LIMIT
) -> list[Delivery]:
    """A subscription's latest deliveries, newest first, each with its attempts."""
    get(store, project_id, sub_id)
    rows = store.read(lambda conn: sql.recent_deliveries(conn, project_id, sub_id, limit))
    return _with_attempts(store, project_id, rows)


def event(store: Store, project_id: int, event_id: str) -> tuple[Any, list[Delivery]]:
    """An event (its stored body) and its deliveries with their attempts."""
    found = store.read(lambda conn: sql.event_of(conn, project_id, event_id))
    if found is None:
        raise event_not_found(event_id)
    rows = store.read(lambda conn: sql.deliveries_of_event(conn, project_id, event_id))
    return found, _with_attempts(store, project_id, rows)


def resend(store: Store, project_id: int, delivery_id: int, now: dt.datetime | None = None) -> None:
    """Queue a delivery again, due now (delivered or given up alike), with the same event id:
    a receiver that deduplicates drops it if it had it."""
    when = now or utcnow()
    if not store.write(lambda conn: sql.resend(conn, project_id, delivery_id, when)):
        raise delivery_not_found(delivery_id)


def send_test(store: Store, project_id: int, sub_id: int, now: dt.datetime | None = None) -> str:
    """Queue a ``webhook.test`` event to this subscription only; its event id."""
    sub = get(store, project_id, sub_id)
    if not sub.enabled:
        raise Conflict(
            f"webhook {sub_id} is disabled ({sub.disabled_reason}): enable it first.",
            code="webhook_disabled",
            field="webhook_id",
        )
    when = now or utcnow()
    data = {"webhook_id": sub_id, "message": "a test event from powerdialer"}
    test = outbox.Event(project_id, events.TEST, data, subscription_id=sub_id)
    written = store.write(lambda conn: outbox.emit(conn, [test], when))
    if not written:  # disabled between the read and the write
        raise webhook_not_found(sub_id)
    return written[0]

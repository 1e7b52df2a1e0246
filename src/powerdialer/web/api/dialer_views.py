"""How the dialer routes show a lease, its contact and "nothing to hand out"."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import orjson

from powerdialer.dialer.queue import Leased, NoContact
from powerdialer.errors import NotFound
from powerdialer.models import utcnow
from powerdialer.storage import Store
from powerdialer.storage import leases as lease_sql
from powerdialer.web.api.schemas.dialer import ContactPublic, LeasePublic, NoContactPublic


def lease_of(found: Leased) -> LeasePublic:
    return LeasePublic(
        lease_id=found.lease_id,
        operator_id=found.operator_id,
        leased_at=found.leased_at,
        expires_at=found.expires_at,
        resumed=found.resumed,
    )


def none_of(found: NoContact) -> NoContactPublic:
    return NoContactPublic(code=found.code, message=found.message, next_at=found.next_at)


def contact_of(
    store: Store, project_id: int, found: Leased, now: dt.datetime | None = None
) -> ContactPublic:
    row = store.read(lambda conn: lease_sql.row_of(conn, project_id, found.row_id))
    if row is None:  # deleted in the moment since it was leased (its lease went with it)
        raise NotFound(
            f"row {found.row_id} was deleted as it was handed out: ask for the next contact.",
            code="row_not_found",
            field="row_id",
        )
    local = (now or utcnow()).astimezone(ZoneInfo(found.zones[0]))
    return ContactPublic(
        id=row.id,
        campaign_id=row.campaign_id,
        fio=row.fio,
        phone_e164=row.phone_e164,
        phone_raw=row.phone_raw,
        external_id=row.external_id,
        fields=orjson.loads(row.extra) if row.extra else {},
        attempts=row.attempts,
        last_outcome=row.last_outcome,
        zones=list(found.zones),
        local_time=local.isoformat(timespec="seconds"),
    )

"""How the dialer routes show a lease, its contact and "nothing to hand out"."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import orjson

from powerdialer.dialer.queue import Leased, NoContact
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


def contact_of(found: Leased, now: dt.datetime) -> ContactPublic:
    """The leased row as the operator sees it (read by the writer with the lease: no database
    call here, on the event loop)."""
    row = found.contact
    local = now.astimezone(ZoneInfo(found.zones[0]))
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

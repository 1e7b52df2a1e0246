"""How the dialer routes show a lease, its contact and "nothing to hand out"."""

from __future__ import annotations

import datetime as dt

from powerdialer.dialer import control
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
    return ContactPublic(**control.contact_fields(found, now))

"""How the dialer routes show a lease, its contact and "nothing to hand out", and the two
calls an operator makes all day (next, outcome) from a validated body to their answer: the
FastAPI routes (``web/api/dialer.py``) and the framework-free edge (``web/dialer_edge.py``)
share them, so both answer alike."""

from __future__ import annotations

import datetime as dt

from powerdialer.dialer import control
from powerdialer.dialer.queue import Leased, NoContact
from powerdialer.dialer.wrapup import Record, Recorded
from powerdialer.projects import KeyProof
from powerdialer.web.api.schemas.dialer import (
    ContactPublic,
    LeasePublic,
    NextAnswer,
    NoContactPublic,
    OutcomeBody,
    RecordedPublic,
)
from powerdialer.web.services import Services

ProvenKey = tuple[int, KeyProof]
"""A project's id and the key a request of it was verified with."""


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


async def next_answer(
    services: Services, proven: ProvenKey, campaign_id: int, operator_id: int
) -> NextAnswer:
    """``proven``: the project and the key the request was verified with, which the lease's
    transaction checks again (the key came through the verifier's cache)."""
    now = services.clock()
    project_id, proof = proven
    found = await control.next_contact(
        services.writer, project_id, campaign_id, operator_id, now, proof
    )
    if not isinstance(found, Leased):
        return NextAnswer(lease=None, contact=None, none=none_of(found))
    return NextAnswer(lease=lease_of(found), contact=contact_of(found, now), none=None)


async def record_answer(
    services: Services, proven: ProvenKey, lease_id: int, body: OutcomeBody
) -> RecordedPublic:
    project_id, proof = proven
    record = Record(
        project_id,
        lease_id,
        body.operator_id,
        body.outcome,
        services.clock(),
        note=body.note,
        duration_seconds=body.duration_seconds,
        callback_at=body.callback_at,
        callback_personal=body.callback_scope == "personal",
        added_by=proof.key_id,
        proof=proof,
    )
    return recorded_of(await control.record(services.writer, record))


def recorded_of(found: Recorded) -> RecordedPublic:
    return RecordedPublic(
        attempt_id=found.attempt_id,
        row_id=found.row_id,
        outcome=found.outcome,
        final_state=found.final_state,
        next_attempt_at=found.next_attempt_at,
        callback_moved=found.callback_moved,
        campaign_completed=found.campaign_completed,
    )

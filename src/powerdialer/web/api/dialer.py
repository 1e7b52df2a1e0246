"""Routes: the power dialer — an operator's next contact, its lease, its outcome; a
campaign's rules, pause and resume, history and "why is nothing dialing?".

The operator's calls go to the group-commit writer (``dialer.control``: one payload each);
the rest are plain ``def`` reads and rare writes in FastAPI's thread pool.  Every call is
scoped by the authenticated project: another project's campaign, lease or operator answers
exactly like a missing one.  The operator is named in the body (``operator_id``, a member's
user id): the caller is a project's key, which may act for any of its members.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from powerdialer.dialer import control
from powerdialer.dialer.wrapup import Record
from powerdialer.models import MAX_ID
from powerdialer.web.api.deps import Authed, CampaignId, ServicesDep
from powerdialer.web.api.dialer_views import (
    contact_of,
    lease_of,
    next_answer,
    record_answer,
    recorded_of,
)
from powerdialer.web.api.routing import ApiRoute
from powerdialer.web.api.schemas.dialer import (
    NextAnswer,
    OperatorBody,
    OutcomeBody,
    RecordedPublic,
    Released,
    SkipBody,
)
from powerdialer.web.api.schemas.error_codes import import_errors

router = APIRouter(prefix="/power-dialer", tags=["dialer"], route_class=ApiRoute)

LeaseId = Annotated[
    int, Path(gt=0, le=MAX_ID, description="The lease_id that next answered.", examples=[31])
]
_LEASE_ERRORS = ("lease_not_found", "lease_not_yours", "lease_ended", "invalid_field")


@router.post(
    "/campaigns/{campaign_id}/dialer/next",
    summary="Lease the next contact to an operator",
    response_model=NextAnswer,
    responses=import_errors(
        "campaign_not_found", "campaign_archived", "operator_not_found", "invalid_field"
    ),
)
async def next_contact(
    campaign_id: CampaignId, body: OperatorBody, auth: Authed, services: ServicesDep
) -> NextAnswer:
    """The next contact in queue order (call next, priority, due time, insertion order) that
    may be called now, leased to the operator for the campaign's `lease_seconds` (10 minutes
    by default). An operator who already holds a lease in the campaign gets that one again
    (`resumed: true`). With nothing to hand out, `lease` and `contact` are null and `none`
    says why."""
    return await next_answer(services, auth.proven, campaign_id, body.operator_id)


@router.post(
    "/leases/{lease_id}/renew",
    summary="Renew a lease while on a call",
    response_model=NextAnswer,
    responses=import_errors(*_LEASE_ERRORS),
)
async def renew_lease(
    lease_id: LeaseId, body: OperatorBody, auth: Authed, services: ServicesDep
) -> NextAnswer:
    """Extend the lease to `lease_seconds` from now. A lease that ran out can be renewed while
    nobody else has taken the row."""
    now = services.clock()
    found = await control.renew(services.writer, auth.project_id, lease_id, body.operator_id, now)
    return NextAnswer(
        lease=lease_of(found),
        contact=contact_of(found, now),
        none=None,
    )


@router.post(
    "/leases/{lease_id}/release",
    summary="Give a contact back without calling it",
    response_model=Released,
    responses=import_errors(*_LEASE_ERRORS),
)
async def release_lease(
    lease_id: LeaseId, body: OperatorBody, auth: Authed, services: ServicesDep
) -> Released:
    """The row goes back to the queue at once, in its place; no attempt is recorded."""
    await control.release(
        services.writer, auth.project_id, lease_id, body.operator_id, services.clock()
    )
    return Released(released=True)


@router.post(
    "/leases/{lease_id}/skip",
    summary="Skip a contact, with a reason",
    response_model=RecordedPublic,
    responses=import_errors(*_LEASE_ERRORS),
)
async def skip_lease(
    lease_id: LeaseId, body: SkipBody, auth: Authed, services: ServicesDep
) -> RecordedPublic:
    """The outcome `skip`: recorded in the history with its reason, no call counted; the row
    comes back after the `skip` retry delay (15 minutes by default)."""
    record = Record(
        auth.project_id,
        lease_id,
        body.operator_id,
        "skip",
        services.clock(),
        note=body.reason,
        added_by=auth.key_id,
    )
    return recorded_of(await control.record(services.writer, record))


@router.post(
    "/leases/{lease_id}/outcome",
    summary="Record a call's outcome",
    response_model=RecordedPublic,
    responses=import_errors(
        *_LEASE_ERRORS,
        "outcome_not_found",
        "skip_reason_required",
        "callback_at_required",
        "invalid_callback_at",
    ),
)
async def record_outcome(
    lease_id: LeaseId, body: OutcomeBody, auth: Authed, services: ServicesDep
) -> RecordedPublic:
    """Ends the lease and writes the attempt to the history (immutable). Built-in outcomes:
    answered, no_answer, busy, voicemail, failed, wrong_number, callback (with `callback_at`;
    `callback_scope` personal or anyone), do_not_call (also lists the number), not_interested,
    skip (needs a `note`). The answer says when the row is due again or its final state."""
    return await record_answer(services, auth.proven, lease_id, body)

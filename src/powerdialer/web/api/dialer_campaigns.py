"""Routes: a campaign's dialing — its rules, pause and resume, "why is nothing dialing?" and
its call history.  Plain ``def`` routes (FastAPI's thread pool) over ``Store`` reads and rare
writes; every one scoped by the authenticated project (another project's campaign is 404)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Response
from starlette.concurrency import run_in_threadpool
from starlette.responses import StreamingResponse

from powerdialer.dialer import control, explain, history
from powerdialer.dialer.rules import Rules, parse_rules
from powerdialer.models import MAX_ID
from powerdialer.web.api.deps import Authed, CampaignId, RowId, ServicesDep, StoreDep
from powerdialer.web.api.routing import ApiRoute
from powerdialer.web.api.schemas.dialer_reports import (
    AttemptList,
    AttemptPublic,
    DialingPublic,
    ExplanationPublic,
)
from powerdialer.web.api.schemas.error_codes import import_errors
from powerdialer.web.exports import SlotResponse, busy_response

router = APIRouter(prefix="/power-dialer", tags=["dialer"], route_class=ApiRoute)


@router.get(
    "/campaigns/{campaign_id}/dialer/rules",
    summary="Read a campaign's dialing rules",
    response_model=Rules,
    responses=import_errors("campaign_not_found", "invalid_field"),
)
def get_rules(campaign_id: CampaignId, auth: Authed, store: StoreDep) -> Rules:
    """Every rule with its value, the defaults included (docs/dialer.md)."""
    return control.get_rules(store, auth.project_id, campaign_id)


@router.put(
    "/campaigns/{campaign_id}/dialer/rules",
    summary="Set a campaign's dialing rules",
    response_model=Rules,
    responses=import_errors("campaign_not_found", "invalid_rules", "invalid_field"),
)
def put_rules(
    campaign_id: CampaignId,
    body: Annotated[
        dict[str, Any],
        Body(
            description="Rules (the schema of the answer); what is left out takes its default.",
            openapi_examples={
                "collections": {
                    "summary": "Ukrainian debt collection, 4 attempts, 30 minutes apart",
                    "value": {
                        "max_attempts": 4,
                        "retry": {"busy": {"delay_minutes": 5, "max": 3}},
                        "number_caps": {"per_day": 2},
                        "min_gap_minutes": 30,
                        "hours": {"profile": "ua_collections"},
                    },
                }
            },
        ),
    ],
    auth: Authed,
    store: StoreDep,
) -> Rules:
    """Replace the rules whole: what is left out takes its default. Applies from the next
    lease (rows held under the old rules are judged afresh)."""
    return control.set_rules(store, auth.project_id, campaign_id, parse_rules(body))


@router.post(
    "/campaigns/{campaign_id}/dialer/pause",
    summary="Pause dialing a campaign",
    response_model=DialingPublic,
    responses=import_errors("campaign_not_found", "invalid_field"),
)
def pause(campaign_id: CampaignId, auth: Authed, store: StoreDep) -> DialingPublic:
    """No contact is handed out until it is resumed; leases already given run their course."""
    control.set_dialing(store, auth.project_id, campaign_id, control.PAUSED)
    return DialingPublic(dialer_state="paused")


@router.post(
    "/campaigns/{campaign_id}/dialer/resume",
    summary="Resume dialing a campaign",
    response_model=DialingPublic,
    responses=import_errors("campaign_not_found", "invalid_field"),
)
def resume(campaign_id: CampaignId, auth: Authed, store: StoreDep) -> DialingPublic:
    control.set_dialing(store, auth.project_id, campaign_id, control.RUNNING)
    return DialingPublic(dialer_state="running")


@router.get(
    "/campaigns/{campaign_id}/dialer/explain",
    summary="Why is nothing dialing? Rows by what decides them now",
    response_model=ExplanationPublic,
    responses=import_errors("campaign_not_found", "invalid_field"),
)
def explain_campaign(
    campaign_id: CampaignId,
    auth: Authed,
    services: ServicesDep,
    at: Annotated[
        dt.datetime | None,
        Query(
            description="Judge at this instant instead of now (e.g. the campaign's start).",
            examples=["2026-12-03T09:00:00+02:00"],
        ),
    ] = None,
) -> ExplanationPublic:
    """Every row counted once under what decides it: callable_now, leased, outside_hours,
    no_common_window, cooling_down, capped, do_not_call, final. Works paused or before the
    start date, so a campaign can be checked before it runs."""
    when = (at.astimezone(dt.UTC) if at.tzinfo else at.replace(tzinfo=dt.UTC)) if at else None
    found = explain.explain(services.store, auth.project_id, campaign_id, when or services.clock())
    return ExplanationPublic.of(found)


@router.get(
    "/campaigns/{campaign_id}/attempts",
    summary="A campaign's call history",
    response_model=AttemptList,
    responses=import_errors("campaign_not_found", "invalid_field"),
)
def campaign_attempts(
    campaign_id: CampaignId,
    auth: Authed,
    store: StoreDep,
    after: Annotated[
        int, Query(ge=0, le=MAX_ID, description="An attempt id: the page after it.")
    ] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> AttemptList:
    """Attempts oldest first (immutable: who, when, outcome, note, duration)."""
    found = control.attempts(
        store, auth.project_id, campaign_id=campaign_id, after=after, limit=limit
    )
    return _attempts(found, limit)


@router.get(
    "/campaigns/{campaign_id}/rows/{row_id}/attempts",
    summary="A row's call history",
    response_model=AttemptList,
    responses=import_errors("campaign_not_found", "row_not_found", "invalid_field"),
)
def row_attempts(
    campaign_id: CampaignId,
    row_id: RowId,
    auth: Authed,
    store: StoreDep,
    after: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> AttemptList:
    found = control.attempts(
        store, auth.project_id, campaign_id=campaign_id, row_id=row_id, after=after, limit=limit
    )
    return _attempts(found, limit)


def _attempts(found: list[Any], limit: int) -> AttemptList:
    items = [AttemptPublic.model_validate(row, from_attributes=True) for row in found]
    return AttemptList(items=items, next_after=items[-1].id if len(items) == limit else None)


@router.get(
    "/campaigns/{campaign_id}/attempts/export",
    summary="Export a campaign's call history as CSV",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "Every attempt, oldest first, as an attachment.",
            "content": {"text/csv": {"example": "\ufeffattempt_id,row_id,phone_e164,…\r\n"}},
        },
        **import_errors("campaign_not_found", "invalid_field", "too_many_exports"),
    },
)
async def export_attempts(campaign_id: CampaignId, auth: Authed, services: ServicesDep) -> Response:
    """Columns: attempt_id, row_id, phone_e164, operator_id, outcome, note, duration_seconds,
    counted, reached, final_state, callback_at, leased_at, recorded_at (UTC), lease_id. UTF-8
    with a byte-order mark; streamed, and counted against the key's open downloads like the
    rows' export (429 `too_many_exports` past the cap)."""
    await run_in_threadpool(history.require_campaign, services.store, auth.project_id, campaign_id)
    holder = ("key", auth.project_id, auth.key_id)
    slot = services.exports.take(holder)
    if slot is None:
        return busy_response(services.exports, holder)
    return SlotResponse(
        history.csv_chunks(services.store, auth.project_id, campaign_id),
        slot,
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="campaign-{campaign_id}-attempts.csv"'
        },
    )

"""The operator's screen (``/dialer``) and the JSON calls its script makes, for the signed-in
member as the operator: next, renew, release, skip, outcome.

The same domain calls as the key-based API (``web/api/dialer.py`` → ``dialer.control``), each
one writer payload; only the caller differs: the operator is the session's user, the project
the session's current one, so another project's campaign or lease answers exactly as a missing
one.  Every call is an unsafe request with the session's CSRF token in ``X-CSRF-Token``
(``FormDep``), also the release sent with ``fetch(..., {keepalive: true})`` when the page is
left.  Answers are JSON; errors the UI's shape ``{"code", "error", "field"}`` in the user's
language, with the API's status (404, 409, 422).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal, TypeVar

import orjson
from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field
from pydantic import ValidationError as PydanticError
from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse, Response

from powerdialer import campaigns
from powerdialer.dialer import control
from powerdialer.dialer.queue import Leased
from powerdialer.dialer.wrapup import MAX_DURATION, MAX_NOTE, Record
from powerdialer.errors import PowerDialerError
from powerdialer.models import MAX_ID, CampaignState
from powerdialer.telephony import settings as telephony_settings
from powerdialer.telephony.base import Method, ScreenTelephony
from powerdialer.web.responses import status_for
from powerdialer.web.ui.messages import error_text
from powerdialer.web.ui.pages import FormDep, ObjectId, Page, PageDep
from powerdialer.web.ui.routes import operator_labels, softphone
from powerdialer.web.ui.routes import operator_views as views
from powerdialer.web.ui.routes import presence as presence_routes
from powerdialer.web.ui.routing import UIRoute

router = APIRouter(route_class=UIRoute, include_in_schema=False)

SCREEN = "/dialer"


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SkipBody(_Body):
    reason: str = Field(min_length=1, max_length=MAX_NOTE)


class OutcomeBody(_Body):
    outcome: str = Field(min_length=1, max_length=64)
    note: str | None = Field(default=None, max_length=MAX_NOTE)
    duration_seconds: int | None = Field(default=None, ge=0, le=MAX_DURATION)
    callback_at: dt.datetime | None = None
    callback_scope: Literal["personal", "anyone"] = "anyone"
    # The screen's "record, then the next contact of this campaign" in one round trip: the
    # same two domain calls as outcome then next, one request fewer between the keypress and
    # the next contact (docs/ui.md).
    next_campaign_id: int | None = Field(default=None, gt=0, le=MAX_ID)


B = TypeVar("B", bound=_Body)


def telephony_of(page: Page) -> ScreenTelephony:
    """The project's way of placing calls as the screen sees it (no secrets)."""
    return telephony_settings.screen_settings(page.store, page.project_id)


def _problem(page: Page, code: str, text: str, status: int, field: str | None) -> JSONResponse:
    return JSONResponse({"code": code, "error": text, "field": field}, status_code=status)


def _domain_problem(page: Page, exc: PowerDialerError) -> JSONResponse:
    return _problem(page, exc.code, error_text(page.i18n, exc), status_for(exc), exc.field)


async def _body(page: Page, model: type[B]) -> B | JSONResponse:
    """The JSON body as ``model``, or the 422 naming the first bad field."""
    raw = await page.request.body()
    try:
        data = orjson.loads(raw or b"{}")
    except orjson.JSONDecodeError:
        return _problem(page, "malformed_json", page._("The request is not valid JSON."), 400, None)
    try:
        return model.model_validate(data)
    except PydanticError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or None
        text = page._("%(field)s: %(reason)s") % {"field": where, "reason": first["msg"]}
        return _problem(page, "invalid_field", text, 422, where)


def _json(data: dict[str, Any], status: int = 200) -> Response:
    return Response(orjson.dumps(data), status_code=status, media_type="application/json")


@router.get(SCREEN)
def screen(page: PageDep, campaign: int | None = None) -> Response:
    """The screen: pick a campaign, Start; the rest is operator.js calling the JSON below."""
    page.extra["here"] = SCREEN
    active = campaigns.list_campaigns(page.store, page.project_id, CampaignState.ACTIVE)
    outcomes = control.list_outcomes(page.store, page.project_id)
    telephony = telephony_of(page)
    config = {
        "operator_id": page.session.user.id,
        "campaign": campaign if any(c.id == campaign for c in active) else None,
        "outcomes": operator_labels.outcome_buttons(page.i18n, outcomes),
        "outcome_labels": operator_labels.outcome_labels(page.i18n, outcomes),
        "pause_reasons": operator_labels.pause_reasons(page.i18n),
        "telephony": views.telephony_view(telephony),
        "presence_url": presence_routes.PATH,
        "text": operator_labels.screen_text(page.i18n),
    }
    response = page.render(
        "operator.html",
        nav="operator",
        active_campaigns=active,
        chosen=config["campaign"],
        config=config,
        telephony=telephony,
        softphone_scope=softphone.softphone_scope(page.session.user.id),
    )
    # The browser softphone needs a WebSocket to the SIP server and the microphone.
    return softphone.allow_softphone(response) if telephony.method is Method.SOFTPHONE else response


@router.post(SCREEN + "/campaigns/{campaign_id}/next")
async def next_contact(page: FormDep, campaign_id: ObjectId) -> Response:
    """The next contact (or the same one again, ``resumed``, for a reload), the row's
    earlier attempts and the campaign's screen rules; with nothing to hand out, ``none``."""
    try:
        return _json(await _next_answer(page, campaign_id))
    except PowerDialerError as exc:
        return _domain_problem(page, exc)


async def _next_answer(page: Page, campaign_id: int) -> dict[str, Any]:
    now = page.services.clock()
    found = await control.next_contact(
        page.services.writer, page.project_id, campaign_id, page.session.user.id, now
    )
    rules, history, telephony = await run_in_threadpool(_reads, page, campaign_id, found)
    answer: dict[str, Any] = {"campaign": views.screen_rules(rules), "history": history}
    if isinstance(found, Leased):
        answer["lease"] = views.lease_view(found)
        answer["contact"] = views.contact_view(found, now, page.i18n, telephony)
        answer["none"] = None
    else:
        answer.update(lease=None, contact=None, none=views.none_view(found))
    return answer


def _reads(page: Page, campaign_id: int, found: object) -> tuple[Any, list[Any], ScreenTelephony]:
    """What the screen shows beside the lease: the campaign's rules, the row's attempts and
    the project's way of calling (reads, in the thread pool)."""
    rules = control.get_rules(page.store, page.project_id, campaign_id)
    if not isinstance(found, Leased):
        return rules, [], ScreenTelephony()
    rows = control.attempts(page.store, page.project_id, row_id=found.row_id, limit=100)
    shown = [views.attempt_view(row) for row in rows[-views.HISTORY_SHOWN :]]
    return rules, shown, telephony_of(page)


@router.post(SCREEN + "/leases/{lease_id}/renew")
async def renew(page: FormDep, lease_id: ObjectId) -> Response:
    try:
        found = await control.renew(
            page.services.writer,
            page.project_id,
            lease_id,
            page.session.user.id,
            page.services.clock(),
        )
    except PowerDialerError as exc:
        return _domain_problem(page, exc)
    return _json({"lease": views.lease_view(found)})


@router.post(SCREEN + "/leases/{lease_id}/release")
async def release(page: FormDep, lease_id: ObjectId) -> Response:
    """Also what the page sends when it is left (``pagehide``, ``keepalive``)."""
    try:
        await control.release(
            page.services.writer,
            page.project_id,
            lease_id,
            page.session.user.id,
            page.services.clock(),
        )
    except PowerDialerError as exc:
        return _domain_problem(page, exc)
    return _json({"released": True})


@router.post(SCREEN + "/leases/{lease_id}/skip")
async def skip(page: FormDep, lease_id: ObjectId) -> Response:
    body = await _body(page, SkipBody)
    if isinstance(body, JSONResponse):
        return body
    record = Record(
        page.project_id,
        lease_id,
        page.session.user.id,
        "skip",
        page.services.clock(),
        note=body.reason,
    )
    return await _record(page, record)


@router.post(SCREEN + "/leases/{lease_id}/outcome")
async def outcome(page: FormDep, lease_id: ObjectId) -> Response:
    body = await _body(page, OutcomeBody)
    if isinstance(body, JSONResponse):
        return body
    record = Record(
        page.project_id,
        lease_id,
        page.session.user.id,
        body.outcome,
        page.services.clock(),
        note=body.note or None,
        duration_seconds=body.duration_seconds,
        callback_at=body.callback_at,
        callback_personal=body.callback_scope == "personal",
        added_by=page.session.user.email,
    )
    return await _record(page, record, body.next_campaign_id)


async def _record(page: Page, record: Record, next_campaign_id: int | None = None) -> Response:
    try:
        recorded = await control.record(page.services.writer, record)
    except PowerDialerError as exc:
        return _domain_problem(page, exc)
    answer = views.recorded_view(recorded)
    if next_campaign_id is not None:
        try:
            answer["next"] = await _next_answer(page, next_campaign_id)
        except PowerDialerError as exc:  # recorded all the same: the screen asks again
            answer["next"] = None
            answer["next_error"] = {"code": exc.code, "error": error_text(page.i18n, exc)}
    return _json(answer)

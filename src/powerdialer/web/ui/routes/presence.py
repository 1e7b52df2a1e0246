"""``POST /dialer/presence``: the operator screen sets the signed-in member's state (and sends
it again as its heartbeat), with the session cookie and the ``X-CSRF-Token`` header like the
UI's other script calls.

Body: ``{"campaign_id": int | null, "state": "ready" | "on_call" | "wrap_up" | "paused" |
"offline", "reason": "break" | "lunch" | … | null}`` (``reason`` with ``paused`` only).
Answers 204; a bad field 422 ``{"code": "invalid_<field>", "error": …}``; a campaign not the
project's 404 ``campaign_not_found``; malformed JSON 400 ``invalid_json``.  The project is
the session's current one, or ``?projectId=`` (a project the user is a member of, else 404).
"""

from __future__ import annotations

import orjson
from fastapi import APIRouter
from starlette.responses import Response

from powerdialer.dialer import presence
from powerdialer.errors import NotFound, ValidationError
from powerdialer.web.ui.i18n import N_
from powerdialer.web.ui.messages import error_text
from powerdialer.web.ui.pages import FormDep, Page, parse_id
from powerdialer.web.ui.routing import UIRoute, json_error

router = APIRouter(route_class=UIRoute, include_in_schema=False)

PATH = "/dialer/presence"

_TEXTS = {
    "invalid_json": N_("The request is not a JSON object: reload the page."),
    "invalid_state": N_(
        "state must be one of ready, on_call, wrap_up, paused, offline: reload the page."
    ),
    "invalid_reason": N_(
        "reason: a pause needs one of break, lunch, meeting, training, technical, other; "
        "other states take none."
    ),
    "invalid_campaign_id": N_("campaign_id must be a campaign's id, or null."),
    "campaign_not_found": N_("There is no such campaign."),
    "operator_not_found": N_("You are not a member of this project."),
}


def _problem(page: Page, code: str, status_code: int, fallback: str) -> Response:
    text = _TEXTS.get(code)
    return json_error(code, page._(text) if text else fallback, status_code)


@router.post(PATH)
async def set_presence(page: FormDep, projectId: str | None = None) -> Response:
    scoped = page if projectId is None else page.for_project(parse_id(projectId))
    project_id = scoped.project_id
    try:
        body = orjson.loads(await page.request.body())
    except orjson.JSONDecodeError:
        body = None
    if not isinstance(body, dict):
        return _problem(scoped, "invalid_json", 400, "invalid JSON")
    try:
        await presence.set_state(
            scoped.services.writer,
            project_id,
            scoped.session.user.id,
            body.get("campaign_id"),
            body.get("state", ""),
            body.get("reason"),
            now=scoped.services.clock(),
        )
    except ValidationError as exc:
        return _problem(scoped, exc.code, 422, error_text(scoped.i18n, exc))
    except NotFound as exc:
        return _problem(scoped, exc.code, 404, exc.message)
    return Response(status_code=204)

"""The operator screen's server-side call: ``POST /dialer/leases/{lease_id}/call`` (session and
CSRF, from the screen's script).  The lease must be the signed-in member's, in the project
the session is in; the project's originator rings their phone, then the contact.

Answers (JSON): ``{"ok": true}``; on the provider's refusal ``{"ok": false, "error":
"<provider's words>", "released": true}`` (the attempt is recorded as ``provider_failed``
and the row is back in the queue); a lease that is not theirs, has ended or is another
project's, and a project or member not set up for it, get the UI's error shape
``{"code", "error"}`` with 404 or 409.
"""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import JSONResponse, Response

from powerdialer.errors import PowerDialerError
from powerdialer.telephony import calls, service
from powerdialer.web.responses import status_for
from powerdialer.web.ui.messages import error_text
from powerdialer.web.ui.pages import FormDep, ObjectId
from powerdialer.web.ui.routing import UIRoute, json_error

router = APIRouter(route_class=UIRoute, include_in_schema=False)


@router.post("/dialer/leases/{lease_id}/call")
async def place_call(page: FormDep, lease_id: ObjectId) -> Response:
    services = page.services
    settings = services.settings
    try:
        placed = await calls.place_call(
            services.store,
            services.writer,
            service.secret_box(settings.secret_key),
            page.project_id,
            lease_id,
            page.session.user.id,
            now=services.clock(),
            allow=service.allowed(settings.outbound_allow),
        )
    except PowerDialerError as exc:
        return json_error(exc.code, error_text(page.i18n, exc), status_for(exc))
    if placed.ok:
        return JSONResponse({"ok": True})
    return JSONResponse({"ok": False, "error": placed.error, "released": placed.released})

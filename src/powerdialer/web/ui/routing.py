"""``UIRoute``: every UI route's answer gets the security headers, a ``?lang=`` choice is
remembered in a cookie, and the UI's exceptions (:mod:`.errors`) become pages — a sign-in
redirect, a 404 that never says whose data it was, a 403 — or, for app.js, JSON."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse, RedirectResponse, Response

from powerdialer.accounts.models import WebSession
from powerdialer.errors import NotFound
from powerdialer.web import exports
from powerdialer.web.responses import RETRY_AFTER_SECONDS, storage_failure
from powerdialer.web.ui import security
from powerdialer.web.ui.errors import (
    CsrfRefused,
    Forbidden,
    LoginRequired,
    NoProject,
    PageNotFound,
    TooManyExports,
)
from powerdialer.web.ui.i18n import N_
from powerdialer.web.ui.pages import lang_links, resolve_i18n, ui_state


def _error_page(request: Request, template: str, status_code: int) -> Response:
    session: WebSession | None = getattr(request.state, "session", None)
    i18n = resolve_i18n(request, session)
    context = {
        "i18n": i18n,
        "session": session,
        "page": None,
        "csrf_token": session.csrf_token if session else None,
        "membership": session.current if session else None,
        "lang_urls": lang_links(request),
        "status_code": status_code,
    }
    return ui_state(request).templates.render(request, template, context, status_code=status_code)


def _wants_json(request: Request) -> bool:
    """app.js asks for JSON; a browser's own navigation gets pages."""
    return "application/json" in request.headers.get("accept", "")


def _login_redirect(request: Request) -> Response:
    target = request.url.path
    if request.url.query:
        target += "?" + request.url.query
    if request.method != "GET":
        target = "/"
    return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)


def json_error(code: str, text: str, status_code: int) -> JSONResponse:
    """The UI's one error shape for app.js: ``{"code", "error"}``, the machine code and a
    sentence in the user's language."""
    return JSONResponse({"code": code, "error": text}, status_code=status_code)


def _json_error(request: Request, code: str, message: str, status_code: int) -> Response:
    i18n = resolve_i18n(request, getattr(request.state, "session", None))
    return json_error(code, i18n.gettext(message), status_code)


def handle_ui_error(request: Request, exc: Exception) -> Response | None:
    """The page (or, for app.js, the JSON) for one of the UI's exceptions; ``None`` for any
    other exception, which then propagates."""
    wants_json = _wants_json(request)
    if storage_failure(exc) is not None:
        # The API's 503 storage_unavailable, in the UI's words: nothing was saved, retry.
        message = N_("The server could not save this just now: try again in a moment.")
        if wants_json:
            answer = _json_error(request, "storage_unavailable", message, 503)
        else:
            answer = _error_page(request, "errors/unavailable.html", 503)
        answer.headers["retry-after"] = str(RETRY_AFTER_SECONDS)
        return answer
    if isinstance(exc, LoginRequired):
        if wants_json:
            return _json_error(
                request, "signed_out", N_("Your session has ended: sign in again."), 401
            )
        return _login_redirect(request)
    if isinstance(exc, PageNotFound | NotFound | RequestValidationError):
        # A malformed id in the URL is "not found" too, like another project's campaign.
        if wants_json:
            return _json_error(request, "not_found", N_("Not found"), 404)
        return _error_page(request, "errors/404.html", 404)
    if isinstance(exc, Forbidden):
        if wants_json:
            return _json_error(request, "forbidden", N_("Not allowed"), 403)
        return _error_page(request, "errors/403.html", 403)
    if isinstance(exc, NoProject):
        return _error_page(request, "errors/no_project.html", 403)
    if isinstance(exc, CsrfRefused):
        if wants_json:
            return _json_error(request, "csrf", N_("The form has expired"), 403)
        return _error_page(request, "errors/csrf.html", 403)
    if isinstance(exc, TooManyExports):
        if wants_json:
            response = _json_error(request, "too_many_exports", BUSY, 429)
        else:
            response = _error_page(request, "errors/busy.html", 429)
        response.headers["Retry-After"] = str(exports.RETRY_AFTER_SECONDS)
        return response
    return None


BUSY = N_("Several downloads are already running: wait until one finishes, then try again.")


class UIRoute(APIRoute):
    """Every UI route: errors become pages, every answer gets the security headers, and a
    ``?lang=`` choice is remembered in a cookie."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def wrapped(request: Request) -> Response:
            try:
                response = await handler(request)
            except Exception as exc:
                handled = await run_in_threadpool(handle_ui_error, request, exc)
                if handled is None:
                    raise
                response = handled
            asked = getattr(request.state, "set_lang", None)
            if asked is not None:
                security.set_cookie(
                    request, response, security.LANG_COOKIE, asked, max_age=365 * 86400
                )
            security.add_security_headers(response)
            return response

        return wrapped

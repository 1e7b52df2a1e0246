"""Signing in and out.  The sign-in form has no session yet, so its CSRF token is a
double-submit cookie; wrong passwords are throttled by
:func:`powerdialer.accounts.sessions.sign_in`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response

from powerdialer.accounts import sessions, users
from powerdialer.accounts.passwords import MAX_PASSWORD
from powerdialer.web.ui import security
from powerdialer.web.ui.errors import CsrfRefused
from powerdialer.web.ui.pages import (
    NOTICES,
    FormDep,
    lang_links,
    optional_session,
    resolve_i18n,
    ui_services,
    ui_state,
)
from powerdialer.web.ui.routing import UIRoute

router = APIRouter(route_class=UIRoute, include_in_schema=False)


def safe_next(target: str | None) -> str:
    """Only a path on this site: never ``//evil.example`` or ``https://…``."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return "/"
    return target


def _login_page(
    request: Request,
    *,
    email: str = "",
    error: str | None = None,
    status_code: int = 200,
    next_url: str = "/",
) -> Response:
    i18n = resolve_i18n(request, None)
    token = request.cookies.get(security.LOGIN_CSRF_COOKIE) or security.new_login_csrf()
    notice = NOTICES.get(request.query_params.get("notice", ""))
    response = ui_state(request).templates.render(
        request,
        "login.html",
        {
            "i18n": i18n,
            "page": None,
            "session": None,
            "login_csrf": token,
            "email": email,
            "error": error,
            "next_url": safe_next(next_url),
            "notice": i18n.gettext(notice) if notice else None,
            "lang_urls": lang_links(request, "/login"),
        },
        status_code=status_code,
    )
    security.set_cookie(request, response, security.LOGIN_CSRF_COOKIE, token, max_age=3600)
    return response


@router.get("/login")
def login_form(request: Request, next: str = "/") -> Response:
    if optional_session(request) is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return _login_page(request, next_url=next)


@router.post("/login")
async def login(
    request: Request,
    email: Annotated[str, Form(max_length=400)] = "",
    password: Annotated[str, Form(max_length=MAX_PASSWORD)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    if not security.tokens_match(csrf_token, request.cookies.get(security.LOGIN_CSRF_COOKIE)):
        raise CsrfRefused
    i18n = resolve_i18n(request, None)
    client_ip = request.client.host if request.client else "unknown"
    try:
        signed_in = await run_in_threadpool(
            sessions.sign_in, ui_services(request).store, email, password, client_ip
        )
    except sessions.SignInRefused as refused:
        if refused.retry_after is not None:
            minutes = max(1, (refused.retry_after + 59) // 60)
            message = i18n.ngettext(
                "Too many failed attempts. Try again in %(num)d minute.",
                "Too many failed attempts. Try again in %(num)d minutes.",
                minutes,
            ) % {"num": minutes}
            response = _login_page(
                request, email=email, error=message, status_code=429, next_url=next
            )
            response.headers["retry-after"] = str(refused.retry_after)
            return response
        message = i18n.gettext("The email or the password is wrong.")
        return _login_page(request, email=email, error=message, status_code=401, next_url=next)
    response = RedirectResponse(safe_next(next), status_code=303)
    lifetime = int(sessions.SESSION_LIFETIME.total_seconds())
    security.set_cookie(
        request, response, security.SESSION_COOKIE, signed_in.token, max_age=lifetime
    )
    chosen = users.normalize_locale(request.cookies.get(security.LANG_COOKIE))
    user = signed_in.session.user
    if chosen is not None and chosen != user.locale:
        # The language picked on the sign-in page becomes the user's.
        await run_in_threadpool(users.set_locale, ui_services(request).store, user.id, chosen)
    elif chosen is None:
        security.set_cookie(
            request, response, security.LANG_COOKIE, user.locale, max_age=365 * 86400
        )
    response.delete_cookie(security.LOGIN_CSRF_COOKIE, path="/")
    return response


@router.post("/logout")
def logout(page: FormDep) -> Response:
    sessions.sign_out(page.store, page.session)
    response = RedirectResponse("/login?notice=signed_out", status_code=303)
    response.delete_cookie(security.SESSION_COOKIE, path="/")
    return response

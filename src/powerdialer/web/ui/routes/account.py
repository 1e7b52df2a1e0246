"""The signed-in user's own page: password change (ends their other sessions) and language.
The current password it asks for is throttled like a sign-in
(:mod:`powerdialer.accounts.throttling`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form
from starlette.responses import RedirectResponse, Response

from powerdialer.accounts import sessions
from powerdialer.accounts.passwords import MAX_PASSWORD
from powerdialer.errors import ValidationError
from powerdialer.web.ui.messages import error_text
from powerdialer.web.ui.pages import FormDep, PageDep
from powerdialer.web.ui.routing import UIRoute

router = APIRouter(route_class=UIRoute, include_in_schema=False)


@router.get("/account")
def account_page(page: PageDep) -> Response:
    return page.render("account.html", nav="account")


@router.post("/account/password")
def change_password(
    page: FormDep,
    current_password: Annotated[str, Form(max_length=MAX_PASSWORD)] = "",
    new_password: Annotated[str, Form(max_length=MAX_PASSWORD + 1)] = "",
    repeat_password: Annotated[str, Form(max_length=MAX_PASSWORD + 1)] = "",
) -> Response:
    page.extra["here"] = "/account"
    if new_password != repeat_password:
        error = page._("The new passwords do not match.")
        return page.render("account.html", status_code=422, nav="account", error=error)
    request = page.request
    client_ip = request.client.host if request.client else "unknown"
    try:
        sessions.change_password(
            page.store, page.session, current_password, new_password, client_ip
        )
    except sessions.PasswordCheckLocked as locked:
        minutes = max(1, (locked.retry_after + 59) // 60)
        error = page.i18n.ngettext(
            "Too many failed attempts. Try again in %(num)d minute.",
            "Too many failed attempts. Try again in %(num)d minutes.",
            minutes,
        ) % {"num": minutes}
        response = page.render("account.html", status_code=429, nav="account", error=error)
        response.headers["retry-after"] = str(locked.retry_after)
        return response
    except ValidationError as exc:
        return page.render(
            "account.html", status_code=422, nav="account", error=error_text(page.i18n, exc)
        )
    return RedirectResponse("/account?notice=password_changed", status_code=303)

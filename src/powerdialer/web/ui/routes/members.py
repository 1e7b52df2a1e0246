"""Settings → Team: the project's members, managed by its owners (operators cannot open it).

Adding someone who has no account creates one with a generated password, shown on the
answer page only (rendered, not redirected: it is stored nowhere but as a hash); they sign in
with it and change it on their account page.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form
from starlette.responses import RedirectResponse, Response

from powerdialer.accounts import members
from powerdialer.accounts.models import Role
from powerdialer.errors import NotFound, PowerDialerError
from powerdialer.web.ui.errors import PageNotFound
from powerdialer.web.ui.messages import error_text
from powerdialer.web.ui.pages import FormDep, ObjectId, Page, PageDep
from powerdialer.web.ui.routing import UIRoute

router = APIRouter(route_class=UIRoute, include_in_schema=False)

PAGE = "/settings/team"


def render_team(page: Page, *, status_code: int = 200, **context: object) -> Response:
    page.extra["here"] = PAGE
    team = members.list_members(page.store, page.project_id)
    return page.render(
        "team.html",
        status_code=status_code,
        nav="team",
        members=team,
        roles=[Role.OPERATOR, Role.OWNER],
        me=page.session.user.id,
        **context,
    )


def _role(raw: str) -> Role:
    try:
        return Role(raw)
    except ValueError:
        raise PageNotFound from None


@router.get(PAGE)
def team_page(page: PageDep) -> Response:
    page.require_owner()
    return render_team(page)


@router.post(PAGE)
def add_member(
    page: FormDep,
    email: Annotated[str, Form(max_length=400)] = "",
    name: Annotated[str, Form(max_length=400)] = "",
    role: Annotated[str, Form(max_length=16)] = Role.OPERATOR.value,
) -> Response:
    page.require_owner()
    try:
        added = members.add_member(page.store, page.project_id, email, _role(role), name)
    except PowerDialerError as exc:
        typed = {"email": email, "name": name, "role": role}
        return render_team(page, status_code=422, error=error_text(page.i18n, exc), typed=typed)
    return render_team(page, added=added)


@router.post(f"{PAGE}/{{user_id}}/role")
def change_role(
    page: FormDep, user_id: ObjectId, role: Annotated[str, Form(max_length=16)] = ""
) -> Response:
    page.require_owner()
    try:
        members.set_role(page.store, page.project_id, user_id, _role(role))
    except NotFound:
        raise PageNotFound from None
    except PowerDialerError as exc:
        return render_team(page, status_code=409, error=error_text(page.i18n, exc))
    return RedirectResponse(f"{PAGE}?notice=role_changed", status_code=303)


@router.post(f"{PAGE}/{{user_id}}/remove")
def remove_member(page: FormDep, user_id: ObjectId) -> Response:
    page.require_owner()
    try:
        members.remove_member(
            page.store, page.project_id, user_id, acting_user_id=page.session.user.id
        )
    except NotFound:
        raise PageNotFound from None
    except PowerDialerError as exc:
        return render_team(page, status_code=409, error=error_text(page.i18n, exc))
    return RedirectResponse(f"{PAGE}?notice=member_removed", status_code=303)

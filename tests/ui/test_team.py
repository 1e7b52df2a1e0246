"""Settings → Team: owners list, add, re-role and remove members of their project; operators
and other projects' owners cannot; the project always keeps an owner."""

from __future__ import annotations

import re

import httpx
import pytest

from powerdialer.accounts import members
from powerdialer.accounts.models import Role
from powerdialer.storage import Store
from powerdialer.web.app import PowerDialerApp
from tests.ui.conftest import User, browser_for, csrf_of, form_post, sign_in, text_of

pytestmark = pytest.mark.anyio

TEAM = "/settings/team"


def roles(store: Store, user: User) -> dict[str, Role]:
    return {m.email: m.role for m in members.list_members(store, user.project_id)}


def user_id(store: Store, project_id: int, email: str) -> int:
    (found,) = [m.user_id for m in members.list_members(store, project_id) if m.email == email]
    return found


async def test_an_owner_sees_the_team_and_an_operator_cannot(
    as_anna: httpx.AsyncClient, as_oleh: httpx.AsyncClient, anna: User, oleh: User
) -> None:
    page = await as_anna.get(TEAM)
    assert page.status_code == 200
    text = text_of(page.text)
    assert "anna@example.com (ви)" in text
    assert "oleh@example.com" in text
    assert 'href="/settings/team"' in (await as_anna.get("/settings")).text
    assert (await as_oleh.get(TEAM)).status_code == 403
    assert 'href="/settings/team"' not in (await as_oleh.get("/settings")).text


async def test_adding_someone_new_creates_an_account_shown_once(
    app: PowerDialerApp, as_anna: httpx.AsyncClient, store: Store, anna: User
) -> None:
    answer = await form_post(
        as_anna, TEAM, TEAM, {"email": " Nadia@Example.com ", "name": "Надія", "role": "operator"}
    )
    assert answer.status_code == 200
    password = re.search(r'<code id="new-password">([^<]+)</code>', answer.text)
    assert password
    assert roles(store, anna)["nadia@example.com"] is Role.OPERATOR
    # The password is on that answer only: the team page does not show it again.
    assert password.group(1) not in (await as_anna.get(TEAM)).text
    async with browser_for(app, None) as browser:
        signed_in = await sign_in(browser, "nadia@example.com", password.group(1))
        assert signed_in.status_code == 303
        campaigns = await browser.get("/settings/softphone/power-dialer")
        assert "Owner leads" in campaigns.text  # she works in Anna's project now


async def test_adding_an_existing_user_gives_them_the_project(
    as_anna: httpx.AsyncClient, store: Store, anna: User, mallory: User
) -> None:
    answer = await form_post(as_anna, TEAM, TEAM, {"email": mallory.email, "role": "owner"})
    assert answer.status_code == 200
    assert 'id="new-password"' not in answer.text
    assert "вже має обліковий запис" in answer.text
    assert roles(store, anna)[mallory.email] is Role.OWNER
    again = await form_post(as_anna, TEAM, TEAM, {"email": mallory.email, "role": "owner"})
    assert again.status_code == 422
    assert "Ця людина вже в проєкті" in again.text


async def test_a_bad_email_is_explained_and_kept(as_anna: httpx.AsyncClient) -> None:
    answer = await form_post(as_anna, TEAM, TEAM, {"email": "not-an-email", "name": "<b>X</b>"})
    assert answer.status_code == 422
    assert "Введіть адресу електронної пошти" in answer.text
    assert 'value="not-an-email"' in answer.text
    assert "<b>X</b>" not in answer.text  # what was typed comes back escaped
    assert "&lt;b&gt;X&lt;/b&gt;" in answer.text


async def test_roles_change_but_the_last_owner_stays(
    as_anna: httpx.AsyncClient, store: Store, anna: User, oleh: User
) -> None:
    oleh_id = user_id(store, anna.project_id, oleh.email)
    anna_id = user_id(store, anna.project_id, anna.email)
    promoted = await form_post(as_anna, TEAM, f"{TEAM}/{oleh_id}/role", {"role": "owner"})
    assert promoted.status_code == 303
    assert roles(store, anna)[oleh.email] is Role.OWNER
    demoted = await form_post(as_anna, TEAM, f"{TEAM}/{oleh_id}/role", {"role": "operator"})
    assert demoted.status_code == 303
    last = await form_post(as_anna, TEAM, f"{TEAM}/{anna_id}/role", {"role": "operator"})
    assert last.status_code == 409
    assert "У проєкті має бути власник" in last.text
    assert roles(store, anna)[anna.email] is Role.OWNER


async def test_a_member_is_removed_but_not_oneself(
    as_anna: httpx.AsyncClient, app: PowerDialerApp, store: Store, anna: User, oleh: User
) -> None:
    async with browser_for(app, oleh) as as_oleh:
        assert (await as_oleh.get("/settings/softphone/power-dialer")).status_code == 200
        oleh_id = user_id(store, anna.project_id, oleh.email)
        removed = await form_post(as_anna, TEAM, f"{TEAM}/{oleh_id}/remove")
        assert removed.status_code == 303
        assert oleh.email not in roles(store, anna)
        # His session loses the project at once.
        after = await as_oleh.get("/settings/softphone/power-dialer")
        assert "Owner leads" not in after.text
    anna_id = user_id(store, anna.project_id, anna.email)
    itself = await form_post(as_anna, TEAM, f"{TEAM}/{anna_id}/remove")
    assert itself.status_code == 409
    assert anna.email in roles(store, anna)


async def test_an_operator_cannot_change_the_team(
    as_oleh: httpx.AsyncClient, store: Store, anna: User, oleh: User
) -> None:
    anna_id = user_id(store, anna.project_id, anna.email)
    csrf = csrf_of((await as_oleh.get("/account")).text)
    for action, data in (
        (TEAM, {"email": "x@example.com", "role": "owner"}),
        (f"{TEAM}/{anna_id}/role", {"role": "operator"}),
        (f"{TEAM}/{anna_id}/remove", {}),
    ):
        answer = await as_oleh.post(action, data={"csrf_token": csrf, **data})
        assert answer.status_code == 403, action
    assert roles(store, anna) == {anna.email: Role.OWNER, oleh.email: Role.OPERATOR}


async def test_another_projects_owner_cannot_touch_this_team(
    as_mallory: httpx.AsyncClient, store: Store, anna: User, oleh: User, mallory: User
) -> None:
    oleh_id = user_id(store, anna.project_id, oleh.email)
    page = await as_mallory.get(TEAM)
    assert oleh.email not in page.text  # her own project's team only
    for action, data in (
        (f"{TEAM}/{oleh_id}/role", {"role": "owner"}),
        (f"{TEAM}/{oleh_id}/remove", {}),
    ):
        answer = await form_post(as_mallory, TEAM, action, data)
        assert answer.status_code == 404, action
    assert roles(store, anna)[oleh.email] is Role.OPERATOR


async def test_changes_need_the_sessions_csrf_token(
    as_anna: httpx.AsyncClient, store: Store, anna: User, oleh: User
) -> None:
    oleh_id = user_id(store, anna.project_id, oleh.email)
    answer = await as_anna.post(f"{TEAM}/{oleh_id}/remove", data={"csrf_token": "forged"})
    assert answer.status_code == 403
    assert oleh.email in roles(store, anna)

"""Isolation: a signed-in user of another project reaches none of the owner's data through any
UI route — every attempt is a 404 that names nothing, and nothing changes.  A test also checks
that this table covers every UI route, so a new route cannot skip it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from fastapi.routing import APIRoute

from powerdialer import campaigns, projects
from powerdialer.accounts import members
from powerdialer.importing import jobs
from powerdialer.outbound import Policy, parse_allow
from powerdialer.storage import Store
from powerdialer.web.app import PowerDialerApp
from powerdialer.webhooks import subscriptions
from tests.conftest import Persona, stored_rows
from tests.dialer.helpers import next_for, set_rules
from tests.ui.conftest import API_PAGE, LIST, User, csrf_of

pytestmark = pytest.mark.anyio


@dataclass(frozen=True)
class Target:
    """The owner's things the stranger aims at."""

    project: int
    campaign: int
    row: int
    job: int
    key: str
    mine_project: int  # the stranger's own project, to pair with the owner's ids
    member: int = 0  # a user id of a member of the owner's project
    webhook: int = 0  # the owner's webhook, with one delivery
    delivery: int = 0
    lease: int = 0  # a lease of the owner's campaign, held by that member


@pytest.fixture
async def target(
    store: Store, owner: Persona, stranger: Persona, client: httpx.AsyncClient, anna: User
) -> Target:
    answer = await client.post(
        "/power-dialer/campaigns/campaign-rows", json=owner.row(fio="Секрет"), headers=owner.headers
    )
    assert answer.json() == {"result": True}
    from powerdialer.rows import listing
    from powerdialer.rows.models import RowFilter

    row = listing.list_rows(store, owner.project_id, owner.campaign_id, RowFilter()).items[0]
    job = jobs.create_job(
        store,
        owner.project_id,
        owner.campaign_id,
        filename="leads.csv",
        file_path="/nonexistent/leads.csv",
        keep_valid=False,
    )
    key = projects.list_keys(store, owner.project_id)[0].key_id
    (member,) = [m.user_id for m in members.list_members(store, owner.project_id)]
    hook = await subscriptions.create(
        store,
        owner.project_id,
        "http://127.0.0.1:9/hook",
        ["row.added"],
        per_row=False,
        policy=Policy(allow=parse_allow("127.0.0.1/32")),
    )
    hook_id = hook.subscription.id
    subscriptions.send_test(store, owner.project_id, hook_id)
    [delivery] = subscriptions.deliveries(store, owner.project_id, hook_id)
    await set_rules(client, owner)
    lease = (await next_for(client, owner, member))["lease"]["lease_id"]
    return Target(
        owner.project_id,
        owner.campaign_id,
        row.id,
        job.id,
        key,
        stranger.project_id,
        member,
        hook_id,
        delivery.row.id,
        lease,
    )


def attempts(t: Target) -> Iterator[tuple[str, str, str]]:
    """(method, route path as declared, URL) of every way at the owner's data."""
    c, p, mine = t.campaign, t.project, t.mine_project
    for action in ("rename", "consent", "archive", "unarchive", "delete"):
        route = f"{LIST}/campaigns/{{campaign_id}}/{action}"
        yield "POST", route, f"{LIST}/campaigns/{c}/{action}"
    screen = f"{LIST}/campaigns/{{campaign_id}}/screen"  # the operator screen's rules
    yield "GET", screen, f"{LIST}/campaigns/{c}/screen"
    yield "POST", screen, f"{LIST}/campaigns/{c}/screen"
    for ext in ("csv", "xlsx"):
        yield (
            "GET",
            f"{LIST}/campaigns/{{campaign_id}}/export.{ext}",
            f"{LIST}/campaigns/{c}/export.{ext}",
        )
    for project in (p, mine):
        query = f"projectId={project}&editCampaign={c}"
        yield "GET", "/campaign/edit", f"/campaign/edit?{query}&campaignName=x"
        yield "GET", "/campaign/overview", f"/campaign/overview?{query}"
        yield "POST", "/campaign/rows/add", f"/campaign/rows/add?{query}"
        yield "POST", "/campaign/rows/delete", f"/campaign/rows/delete?{query}"
        preview = "/ui/campaigns/{campaign_id}/imports/preview"
        yield "POST", preview, f"/ui/campaigns/{c}/imports/preview?projectId={project}"
        start = "/ui/campaigns/{campaign_id}/imports"
        yield "POST", start, f"/ui/campaigns/{c}/imports?projectId={project}"
        yield "GET", "/ui/imports/{job_id}", f"/ui/imports/{t.job}?projectId={project}"
        rejected = "/ui/imports/{job_id}/rejected.csv"
        yield "GET", rejected, f"/ui/imports/{t.job}/rejected.csv?projectId={project}"
    yield "POST", f"{API_PAGE}/keys/{{key_id}}/revoke", f"{API_PAGE}/keys/{t.key}/revoke"
    # The live view and presence name a project; in one's own, the view shows only its own
    # figures and presence refuses the owner's campaign (tests/ui/test_live.py, test_presence.py).
    for route in ("/dialer/live", "/dialer/live.json"):
        yield "GET", route, f"{route}?projectId={p}"
    yield "POST", "/dialer/presence", f"/dialer/presence?projectId={p}"
    for action in ("role", "remove"):
        route = f"/settings/team/{{user_id}}/{action}"
        yield "POST", route, f"/settings/team/{t.member}/{action}"
    yield "POST", "/session/project", "/session/project"
    # The operator screen's calls (tests/ui/test_operator_api.py).
    yield "POST", "/dialer/campaigns/{campaign_id}/next", f"/dialer/campaigns/{c}/next"
    for action in ("renew", "release", "skip", "outcome"):
        yield "POST", f"/dialer/leases/{{lease_id}}/{action}", f"/dialer/leases/{t.lease}/{action}"
    extension = "/settings/softphone/calls/extensions/{user_id}"
    yield "POST", extension, f"/settings/softphone/calls/extensions/{t.member}"
    # The owner's member's real lease (also aimed at in tests/test_telephony_calls.py).
    yield "POST", "/dialer/leases/{lease_id}/call", f"/dialer/leases/{t.lease}/call"
    hooks = "/settings/integration/webhooks"
    for action in ("delete", "test", "rotate", "enable"):
        yield "POST", f"{hooks}/{{sub_id}}/{action}", f"{hooks}/{t.webhook}/{action}"
    resend = f"{hooks}/deliveries/{{delivery_id}}/resend"
    yield "POST", resend, f"{hooks}/deliveries/{t.delivery}/resend"


# Routes with no owner id to aim at: they only ever show or change the signed-in user's own
# things (checked by the listing tests below and in test_auth.py / test_pages.py).
OWN_ONLY = {
    ("GET", "/"),
    ("GET", "/settings"),
    ("GET", "/settings/softphone"),
    ("GET", "/settings/integration"),
    ("GET", "/login"),
    ("POST", "/login"),
    ("POST", "/logout"),
    ("GET", "/account"),
    ("POST", "/account/password"),
    ("GET", "/account/softphone"),  # only the page; the SIP account is in the browser
    ("GET", LIST),
    ("POST", f"{LIST}/campaigns"),
    ("GET", API_PAGE),
    ("POST", f"{API_PAGE}/keys"),
    ("GET", f"{API_PAGE}/keys"),  # a redirect to the page
    ("GET", "/settings/team"),  # the current project's team (tests/ui/test_team.py)
    ("POST", "/settings/team"),
    # The current project's do-not-call list (tests/ui/test_dnc_ui.py).
    ("GET", "/settings/dnc"),
    ("POST", "/settings/dnc"),
    ("POST", "/settings/dnc/remove"),
    ("POST", "/settings/dnc/import"),
    ("GET", "/settings/dnc/export.csv"),
    ("GET", "/dialer"),  # the operator screen: the current project's campaigns only
    # The current project's call settings (tests/test_telephony_ui.py).
    ("GET", "/settings/softphone/calls"),
    ("POST", "/settings/softphone/calls"),
    # The current project's webhooks (tests/ui/test_webhooks_ui.py).
    ("GET", "/settings/integration/webhooks"),
    ("POST", "/settings/integration/webhooks"),
}


def ui_routes(app: PowerDialerApp) -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()

    def walk(routes: list[object]) -> None:
        for route in routes:
            inner = getattr(route, "original_router", None)
            if inner is not None:
                walk(inner.routes)
            elif isinstance(route, APIRoute) and route.endpoint.__module__.startswith(
                "powerdialer.web.ui."
            ):
                found.update((method, route.path) for method in route.methods)

    walk(list(app.api.routes))
    return found


async def test_every_ui_route_is_in_the_isolation_table(app: PowerDialerApp) -> None:
    fake = Target(1, 2, 3, 4, "abc", 5)
    covered = {(method, route) for method, route, _ in attempts(fake)} | OWN_ONLY
    assert ui_routes(app) == covered


async def test_no_ui_route_reaches_another_projects_data(
    as_mallory: httpx.AsyncClient, target: Target, store: Store, owner: Persona
) -> None:
    token = csrf_of((await as_mallory.get(LIST)).text)
    before_rows = stored_rows(store, owner)
    for method, _route, url in attempts(target):
        if url == "/session/project":
            data = {"csrf_token": token, "project_id": str(target.project)}
            answer = await as_mallory.post(url, data=data)
        elif method == "POST" and url.startswith("/dialer/"):
            body: dict[str, str] = {}
            if url.endswith("/skip"):
                body = {"reason": "hijack"}
            elif url.endswith("/outcome"):
                body = {"outcome": "do_not_call", "note": "hijack"}
            headers = {"X-CSRF-Token": token, "Accept": "application/json"}
            answer = await as_mallory.post(url, json=body, headers=headers)
        elif method == "POST" and "/ui/" in url:
            files = {"file": ("leads.csv", b"phone\n380930000001\n")}
            answer = await as_mallory.post(
                url, files=files, headers={"X-CSRF-Token": token, "Accept": "application/json"}
            )
        elif method == "POST":
            data = {
                "csrf_token": token,
                "name": "Hijacked",
                "phone_number": "380930000009",
                "row_id": str(target.row),
                "delete_one": str(target.row),
                "role": "operator",
            }
            answer = await as_mallory.post(url, data=data)
        else:
            answer = await as_mallory.get(url)
        assert answer.status_code == 404, f"{method} {url}: {answer.status_code}"
        assert "Owner leads" not in answer.text, url
        assert "Секрет" not in answer.text, url
    summary = campaigns.campaign_summary(store, target.project, target.campaign)
    assert summary.campaign.name == "Owner leads"
    assert summary.campaign.state.value == "active"
    assert stored_rows(store, owner) == before_rows
    assert all(k.revoked_at is None for k in projects.list_keys(store, target.project))
    team = members.list_members(store, target.project)
    assert [(m.user_id, m.role.value) for m in team] == [(target.member, "owner")]


async def test_the_stranger_lists_only_their_own_campaigns_and_keys(
    as_mallory: httpx.AsyncClient, target: Target, store: Store
) -> None:
    listing = await as_mallory.get(LIST)
    assert "Stranger leads" in listing.text
    assert "Owner leads" not in listing.text
    api_page = await as_mallory.get(API_PAGE)
    assert f"pd_{target.key}" not in api_page.text
    assert f'<code id="api-project-id">{target.mine_project}</code>' in api_page.text
    # An owner's campaign id in ?campaign= does not put it in the examples.
    chosen = await as_mallory.get(f"{API_PAGE}?campaign={target.campaign}")
    assert f"campaignId {target.campaign})" not in chosen.text
    assert f'"campaignId": {target.campaign},' not in chosen.text


async def test_malformed_ids_in_urls_are_not_found_too(
    as_anna: httpx.AsyncClient, anna: User
) -> None:
    for url in (
        "/campaign/edit?projectId=abc&editCampaign=1",
        f"/campaign/edit?projectId={anna.project_id}&editCampaign=-1",
        f"/campaign/edit?projectId={anna.project_id}&editCampaign=99999999999999999999999",
        f"/campaign/edit?projectId={anna.project_id}",
        "/campaign/edit",
        f"/campaign/overview?projectId={anna.project_id}&editCampaign=0",
        f"{LIST}/campaigns/abc/export.csv",
        f"{LIST}/campaigns/99999999999999999999/export.csv",
        f"/ui/imports/xyz?projectId={anna.project_id}",
    ):
        answer = await as_anna.get(url)
        assert answer.status_code == 404, url
        assert "Не знайдено" in answer.text

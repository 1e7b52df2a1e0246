"""``GET /metrics``: off by default (404, no request id, the compatible endpoint dispatched
directly); on, its counters move with requests, the route label is the template, the
writer's and the dialer's hooks count, and a token is required when one is set.

The metrics are the process's (a metric name is registered once), so each test compares
the numbers before and after its own requests."""

from __future__ import annotations

import httpx
import pytest

from powerdialer.storage import Store
from powerdialer.telemetry import routes
from powerdialer.web.app import PowerDialerApp
from tests.clock import Clock
from tests.conftest import COMPAT, Persona, StartApp, client_of
from tests.dialer.helpers import WEDNESDAY_10_KYIV, add_rows, due_at, next_for, operator, outcome
from tests.telemetry.scrape import label_values, value

pytestmark = pytest.mark.anyio
REQUESTS = "powerdialer_http_requests_total"


async def scrape(client: httpx.AsyncClient, **headers: str) -> str:
    answer = await client.get("/metrics", headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain")
    return answer.text


async def test_off_by_default_metrics_is_404_and_the_hot_path_is_untouched(
    app: PowerDialerApp, client: httpx.AsyncClient, owner: Persona
) -> None:
    assert app._direct_compat is app._compat  # no wrapper in front of the compatible path
    assert (await client.get("/metrics")).status_code == 404
    stored = await client.post(COMPAT, json=owner.row(), headers=owner.headers)
    assert stored.json() == {"result": True}
    assert "x-request-id" not in stored.headers
    other = await client.get("/power-dialer/campaigns", headers=owner.headers)
    assert "x-request-id" not in other.headers


async def test_counters_move_with_requests_labelled_by_route_template(
    started_app: StartApp, owner: Persona
) -> None:
    async with started_app(metrics=True) as app, client_of(app) as client:
        assert app._direct_compat is None  # every request passes the telemetry wrapper
        before = await scrape(client)
        for phone in ("380930000001", "380930000002", "380930000003"):
            answer = await client.post(COMPAT, json=owner.row(phone), headers=owner.headers)
            assert answer.json() == {"result": True}
            assert len(answer.headers["x-request-id"]) == 32
        refused = await client.post(COMPAT, json=owner.row(), headers={"Auth-key": "nope"})
        assert refused.status_code == 401
        campaign = f"/power-dialer/campaigns/{owner.campaign_id}"
        assert (await client.get(campaign, headers=owner.headers)).status_code == 200
        bulk = await client.post(
            f"/power-dialer/campaigns/{owner.campaign_id}/rows",
            json={"rows": [{"phone_number": "380930000004"}, {"phone_number": "380930000005"}]},
            headers=owner.headers,
        )
        assert bulk.status_code == 200, bulk.text
        assert (await client.get("/no/such/path/42")).status_code == 404
        await client.request("BREW", "/no/such/path/43")  # a method nobody answers
        after = await scrape(client)

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert moved(REQUESTS, route=COMPAT, method="POST", status="200") == 3
    assert moved(REQUESTS, route=COMPAT, method="POST", status="401") == 1
    template = "/power-dialer/campaigns/{campaign_id}"
    assert moved(REQUESTS, route=template, method="GET", status="200") == 1
    assert moved(REQUESTS, route="other", method="GET", status="404") == 1
    assert moved(REQUESTS, route="other", method="OTHER") == 1  # not "BREW": labels stay few
    assert moved(REQUESTS, route="/metrics", method="GET", status="200") == 1  # the first
    duration = "powerdialer_http_request_duration_seconds_count"
    assert moved(duration, route=COMPAT, method="POST") == 4
    assert moved("powerdialer_writer_batch_size_count") >= 1  # three rows, one batch or more
    assert moved("powerdialer_writer_batch_size_sum") >= 3
    assert "powerdialer_writer_queue_depth" in after
    assert moved("powerdialer_rows_stored_total", source="compat") == 3
    assert moved("powerdialer_rows_stored_total", source="api") == 2
    bulk_route = "/power-dialer/campaigns/{campaign_id}/rows"
    assert moved(REQUESTS, route=bulk_route, method="POST", status="200") == 1


async def test_a_thousand_lease_ids_are_one_route_label(
    started_app: StartApp, owner: Persona
) -> None:
    async with started_app(metrics=True) as app, client_of(app) as client:
        for lease_id in range(1, 1001):
            answer = await outcome(client, owner, lease_id, 1, "no_answer")
            assert answer.status_code == 404, answer.text
        text = await scrape(client)
    assert value(text, REQUESTS, route=routes.OUTCOME, status="404") >= 1000
    for route in label_values(text, REQUESTS, "route"):
        assert not any(ch.isdigit() for ch in route), route  # templates, never raw paths


async def test_leases_and_outcomes_are_counted(
    started_app: StartApp, owner: Persona, store: Store
) -> None:
    async with started_app(metrics=True) as app, client_of(app) as client:
        app.services.clock = Clock(start=WEDNESDAY_10_KYIV).now
        anna = operator(store, owner, "anna")
        await add_rows(client, owner, "380930000001")
        due_at(store, WEDNESDAY_10_KYIV)
        before = await scrape(client)
        lease = (await next_for(client, owner, anna))["lease"]
        recorded = await outcome(client, owner, lease["lease_id"], anna, "no_answer")
        assert recorded.status_code == 200, recorded.text
        after = await scrape(client)
    leases = "powerdialer_leases_total"
    assert value(after, leases) - value(before, leases) == 1
    outcomes = "powerdialer_outcomes_total"
    assert value(after, outcomes, outcome="no_answer") - value(before, outcomes) == 1
    next_route = routes.NEXT
    assert value(after, REQUESTS, route=next_route) - value(before, REQUESTS, route=next_route) == 1


async def test_a_token_is_required_when_set(started_app: StartApp) -> None:
    token = "s3cret-token"
    async with started_app(metrics=True, metrics_token=token) as app, client_of(app) as client:
        bare = await client.get("/metrics")
        assert bare.status_code == 401
        assert bare.json()["error"]["field"] == "Authorization"
        assert bare.headers["www-authenticate"] == "Bearer"
        wrong = await client.get("/metrics", headers={"Authorization": "Bearer s3cret"})
        assert wrong.status_code == 401
        basic = await client.get("/metrics", headers={"Authorization": "Basic s3cret-token"})
        assert basic.status_code == 401
        text = await scrape(client, Authorization="Bearer s3cret-token")
        assert REQUESTS in text
        assert (await client.post("/metrics")).status_code == 405


async def test_an_incoming_request_id_is_echoed_when_well_formed(
    started_app: StartApp, owner: Persona
) -> None:
    async with started_app(metrics=True) as app, client_of(app) as client:
        for given, echoed in (
            ("abc.DEF_123-x", True),
            ("a" * 64, True),
            ("a" * 65, False),
            ("has space", False),
            ("semi;colon", False),
        ):
            answer = await client.post(
                COMPAT, json=owner.row(), headers={**owner.headers, "X-Request-ID": given}
            )
            assert answer.status_code == 200
            got = answer.headers["x-request-id"]
            assert (got == given) is echoed, (given, got)
            if not echoed:
                assert len(got) == 32
                assert all(c in "0123456789abcdef" for c in got)

"""Every error status of the compatible endpoint and of the API, asked for by a real request
to the app in process and checked whole (tests/error_shapes.py): each answer is the one shape,
whichever layer made it (the raw endpoint, a middleware, FastAPI's own 404 and 405 and
validation, a domain error).  503 ``storage_unavailable`` is in test_error_shape.py, with a
database that really takes no writes; the web UI's answers are in tests/ui."""

from __future__ import annotations

import httpx
import pytest

from powerdialer import campaigns
from powerdialer.models import CampaignState
from powerdialer.storage import Store
from powerdialer.web.middleware.bodylimit import DEFAULT_BODY_BYTES
from tests.clock import Clock
from tests.conftest import COMPAT, Persona, StartApp, client_of
from tests.error_shapes import api_error

pytestmark = pytest.mark.anyio

JSON = {"content-type": "application/json"}


def archive(store: Store, persona: Persona) -> None:
    campaigns.set_campaign_state(
        store, persona.project_id, persona.campaign_id, CampaignState.ARCHIVED
    )


async def test_the_compatible_endpoint_answers_every_error_in_its_one_shape(
    client: httpx.AsyncClient, owner: Persona, stranger: Persona, store: Store
) -> None:
    async def post(
        body: object = None, *, content: bytes | None = None, headers: dict[str, str] | None = None
    ) -> httpx.Response:
        sent = {**owner.headers, **(headers or {})}
        return await client.post(COMPAT, json=body, content=content, headers=sent)

    api_error(await post(content=b'{"campaignId": ', headers=JSON), 400, "malformed_json")
    api_error(await post([1, 2]), 400, "invalid_body")
    no_key = await client.post(COMPAT, json=owner.row(), headers={"x-project-id": "1"})
    api_error(no_key, 401, "missing_auth_key")
    wrong = {"x-project-id": str(owner.project_id), "Auth-key": stranger.key}
    api_error(await client.post(COMPAT, json=owner.row(), headers=wrong), 401, "invalid_auth_key")
    missing = await post({**owner.row(), "campaignId": 999_999})
    assert api_error(missing, 404, "campaign_not_found")["field"] == "campaignId"
    api_error(await client.get(COMPAT, headers=owner.headers), 405, "method_not_allowed")
    archive(store, stranger)
    archived = await client.post(COMPAT, json=stranger.row(), headers=stranger.headers)
    api_error(archived, 409, "campaign_archived")
    api_error(await post(owner.row(fio="x" * 20_000)), 413, "body_too_large")
    bad = api_error(await post(owner.row("12")), 422, "invalid_phone_number")
    assert (bad["field"], bad["reason"]) == ("phone_number", "too_short")


async def test_the_api_answers_every_error_in_the_same_shape(
    client: httpx.AsyncClient, owner: Persona, stranger: Persona, store: Store
) -> None:
    base = "/power-dialer/campaigns"
    rows = f"{base}/{owner.campaign_id}/rows"
    mine = owner.headers
    malformed = await client.post(base, content=b'{"name": ', headers={**mine, **JSON})
    api_error(malformed, 400, "malformed_json")
    api_error(await client.get(base), 401, "missing_project_id")
    wrong = {"x-project-id": str(owner.project_id), "Auth-key": stranger.key}
    api_error(await client.get(base, headers=wrong), 401, "invalid_auth_key")
    api_error(await client.get(f"{base}/999999", headers=mine), 404, "campaign_not_found")
    api_error(await client.get("/power-dialer/nowhere", headers=mine), 404, "not_found")
    api_error(await client.put(base, json={}, headers=mine), 405, "method_not_allowed")
    archive(store, stranger)
    theirs = f"{base}/{stranger.campaign_id}/rows"
    body = {"rows": [{"phone_number": "380930000001"}]}
    archived = await client.post(theirs, json=body, headers=stranger.headers)
    api_error(archived, 409, "campaign_archived")
    big = b"{" + b" " * DEFAULT_BODY_BYTES + b"}"
    api_error(await client.post(base, content=big, headers={**mine, **JSON}), 413, "body_too_large")
    unnamed = await client.post(base, json={"name": 5}, headers=mine)
    assert api_error(unnamed, 422, "invalid_field")["field"] == "name"
    api_error(await client.post(rows, json={"rows": []}, headers=mine), 422, "invalid_rows")


async def test_a_rate_limited_request_is_429_in_the_same_shape_on_both_surfaces(
    started_app: StartApp, owner: Persona, clock: Clock
) -> None:
    async with started_app(rate_limit_per_second=1, rate_limit_burst=1) as app:
        app.services.limiter.clock = clock.monotonic  # no token comes back while the test runs
        async with client_of(app) as client:
            assert (await client.post(COMPAT, json=owner.row(), headers=owner.headers)).is_success
            compat = await client.post(COMPAT, json=owner.row(), headers=owner.headers)
            api = await client.get("/power-dialer/campaigns", headers=owner.headers)
    for answer in (compat, api):
        api_error(answer, 429, "rate_limited")
        assert int(answer.headers["retry-after"]) >= 1


async def test_an_export_past_the_open_downloads_is_429_in_the_same_shape(
    started_app: StartApp, owner: Persona
) -> None:
    async with started_app(max_exports=1) as app, client_of(app) as client:
        held = app.services.exports.take("another download")  # the process's only slot
        assert held is not None
        url = f"/power-dialer/campaigns/{owner.campaign_id}/export?format=csv"
        api_error(await client.get(url, headers=owner.headers), 429, "too_many_exports")
        held.release()
        assert (await client.get(url, headers=owner.headers)).status_code == 200

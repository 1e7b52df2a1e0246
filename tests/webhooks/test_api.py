"""The webhook routes: subscriptions CRUD, the secret shown once, refused URLs, rotation, the
delivery log, resend and test event; another project's webhooks, events and deliveries are
404 on every route; every event body in the OpenAPI document's webhooks."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from standardwebhooks.webhooks import Webhook

from powerdialer.webhooks import events
from tests.clock import Clock
from tests.conftest import Persona, StartApp
from tests.webhooks.receiver import receiver
from tests.webhooks.test_delivery import add_row, sending

pytestmark = pytest.mark.anyio


async def create(client: httpx.AsyncClient, persona: Persona, url: str, **extra: Any) -> Any:
    body = {"url": url, "event_types": ["row.added"], **extra}
    return await client.post("/power-dialer/webhooks", json=body, headers=persona.headers)


async def test_refused_urls_are_422_naming_the_field(started_app: StartApp, owner: Persona) -> None:
    async with started_app(webhook_sender=False) as app:
        from tests.conftest import client_of

        async with client_of(app) as client:
            for url in ("http://127.0.0.1:8080/x", "http://169.254.169.254/", "http://[::1]/"):
                answer = await create(client, owner, url)
                assert answer.status_code == 422, answer.text
                error = answer.json()["error"]
                assert (error["code"], error["field"]) == ("url_refused", "url")
            answer = await create(client, owner, "ftp://crm.example.com/x")
            assert answer.json()["error"]["code"] == "invalid_url"
            answer = await client.post(
                "/power-dialer/webhooks",
                json={"url": "https://crm.example.com/x", "event_types": ["row.deleted"]},
                headers=owner.headers,
            )
            assert answer.status_code == 422
            assert answer.json()["error"]["field"] == "event_types.0"
            listed = await client.get("/power-dialer/webhooks", headers=owner.headers)
            assert listed.json() == {"items": []}  # nothing half-made


async def test_the_life_of_a_webhook(started_app: StartApp, clock: Clock, owner: Persona) -> None:
    async with receiver(500) as target, sending(started_app, clock) as (app, client):
        answer = await create(client, owner, target.url)
        assert answer.status_code == 201, answer.text
        made = answer.json()
        secret = made.pop("secret")
        assert secret.startswith("whsec_")
        hook = f"/power-dialer/webhooks/{made['id']}"
        read = (await client.get(hook, headers=owner.headers)).json()
        assert read == made  # the secret is never shown again
        listed = (await client.get("/power-dialer/webhooks", headers=owner.headers)).json()
        assert listed["items"] == [made]
        # A test event, failed once, then resent from the log.
        queued = await client.post(f"{hook}/test", headers=owner.headers)
        assert queued.status_code == 202
        event_id = queued.json()["event_id"]
        await app.services.webhooks.tick(clock.now())
        log = (await client.get(f"{hook}/deliveries", headers=owner.headers)).json()["items"]
        [delivery] = log
        assert (delivery["event_id"], delivery["event_type"]) == (event_id, "webhook.test")
        assert delivery["status"] == "pending"
        assert delivery["log"][0]["status_code"] == 500
        assert delivery["log"][0]["response_head"].startswith("nope")
        again = await client.post(
            f"/power-dialer/webhook-deliveries/{delivery['id']}/resend", headers=owner.headers
        )
        assert again.status_code == 202
        await app.services.webhooks.tick(clock.now())
        event = (
            await client.get(f"/power-dialer/webhook-events/{event_id}", headers=owner.headers)
        ).json()
        assert event["body"]["type"] == "webhook.test"
        assert event["deliveries"][0]["status"] == "delivered"
        assert [a["status_code"] for a in event["deliveries"][0]["log"]] == [500, 200]
        Webhook(secret).verify(target.got[-1].body, target.got[-1].headers)
        # Rotation: the next delivery carries both signatures.
        rotated = await client.post(
            f"{hook}/rotate-secret", json={"overlap_seconds": 3600}, headers=owner.headers
        )
        assert rotated.status_code == 200, rotated.text
        new = rotated.json()["secret"]
        await add_row(client, owner, "380930000001")
        await app.services.webhooks.tick(clock.now())
        last = target.got[-1]
        assert len(last.headers["webhook-signature"].split(" ")) == 2
        for key in (secret, new):
            Webhook(key).verify(last.body, last.headers)
        # Disable, enable, delete.
        off = await client.patch(hook, json={"enabled": False}, headers=owner.headers)
        assert off.json()["enabled"] is False
        disabled = await client.post(f"{hook}/test", headers=owner.headers)
        assert disabled.status_code == 409
        assert disabled.json()["error"]["code"] == "webhook_disabled"
        on = await client.patch(hook, json={"enabled": True}, headers=owner.headers)
        assert on.json()["enabled"] is True
        assert on.json()["disabled_reason"] is None
        gone = await client.delete(hook, headers=owner.headers)
        assert gone.status_code == 204
        assert (await client.get(hook, headers=owner.headers)).status_code == 404


async def test_another_projects_webhooks_are_not_found(
    started_app: StartApp, clock: Clock, owner: Persona, stranger: Persona
) -> None:
    async with receiver() as target, sending(started_app, clock) as (app, client):
        made = (await create(client, owner, target.url)).json()
        hook = f"/power-dialer/webhooks/{made['id']}"
        event_id = (await client.post(f"{hook}/test", headers=owner.headers)).json()["event_id"]
        await app.services.webhooks.tick(clock.now())
        log = (await client.get(f"{hook}/deliveries", headers=owner.headers)).json()["items"]
        delivery = log[0]["id"]
        them = stranger.headers
        calls = [
            ("GET", hook, None),
            ("PATCH", hook, {"enabled": False}),
            ("DELETE", hook, None),
            ("POST", f"{hook}/rotate-secret", {}),
            ("GET", f"{hook}/deliveries", None),
            ("POST", f"{hook}/test", None),
            ("GET", f"/power-dialer/webhook-events/{event_id}", None),
            ("POST", f"/power-dialer/webhook-deliveries/{delivery}/resend", None),
        ]
        for method, url, body in calls:
            answer = await client.request(method, url, json=body, headers=them)
            assert answer.status_code == 404, (method, url, answer.text)
        listed = await client.get("/power-dialer/webhooks", headers=them)
        assert listed.json() == {"items": []}
        # And the owner's webhook is as it was.
        assert (await client.get(hook, headers=owner.headers)).json()["enabled"] is True
        for bad in ("/power-dialer/webhooks/0", "/power-dialer/webhook-events/evt_x"):
            assert (await client.get(bad, headers=owner.headers)).status_code == 422


async def test_the_openapi_document_shows_every_event_body(
    client: httpx.AsyncClient,
) -> None:
    schema = (await client.get("/openapi.json")).json()
    assert set(schema["webhooks"]) == set(events.EVENT_TYPES)
    row = schema["webhooks"]["row.added"]["post"]
    assert "requestBody" in row

"""Signatures in the Standard Webhooks layout: the specification's published test vector, a
tampered body and an old timestamp refused, both secrets signing during a rotation."""

from __future__ import annotations

import datetime as dt

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from powerdialer.outbound import Policy, parse_allow
from powerdialer.storage import Store
from powerdialer.storage import webhooks as sql
from powerdialer.webhooks import signing, subscriptions
from tests.clock import Clock
from tests.conftest import Persona

pytestmark = pytest.mark.anyio

# The specification's test vector (standard-webhooks/spec, and every library's tests).
VECTOR_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
VECTOR_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
VECTOR_TIME = dt.datetime.fromtimestamp(1614265330, dt.UTC)
VECTOR_BODY = '{"test": 2432232314}'
VECTOR_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_the_published_test_vector() -> None:
    assert signing.signature(VECTOR_SECRET, VECTOR_ID, VECTOR_TIME, VECTOR_BODY) == VECTOR_SIGNATURE
    headers = dict(signing.headers([VECTOR_SECRET], VECTOR_ID, VECTOR_TIME, VECTOR_BODY))
    assert headers["webhook-id"] == VECTOR_ID
    assert headers["webhook-timestamp"] == "1614265330"
    assert headers["webhook-signature"] == VECTOR_SIGNATURE


def test_a_receiver_verifies_a_fresh_delivery_and_refuses_a_tampered_or_old_one() -> None:
    secret = signing.new_secret()
    now = dt.datetime.now(dt.UTC)
    body = '{"id":"evt_1","type":"row.added"}'
    headers = dict(signing.headers([secret], "evt_1", now, body))
    assert Webhook(secret).verify(body, headers)["id"] == "evt_1"
    with pytest.raises(WebhookVerificationError, match="No matching signature"):
        Webhook(secret).verify(body.replace("row", "raw"), headers)
    old = dict(signing.headers([secret], "evt_1", now - dt.timedelta(minutes=6), body))
    with pytest.raises(WebhookVerificationError, match="too old"):
        Webhook(secret).verify(body, old)
    with pytest.raises(WebhookVerificationError):
        Webhook(signing.new_secret()).verify(body, headers)  # another secret


def test_secrets_are_random_and_in_the_whsec_form() -> None:
    first, second = signing.new_secret(), signing.new_secret()
    assert first != second
    assert first.startswith("whsec_")
    assert len(first) <= 64
    Webhook(first)  # the library reads it


async def test_during_a_rotation_both_secrets_sign_then_only_the_new_one(
    store: Store, owner: Persona, clock: Clock
) -> None:
    created = await subscriptions.create(
        store,
        owner.project_id,
        "http://127.0.0.1:9/hook",
        ["row.added"],
        per_row=False,
        policy=Policy(allow=parse_allow("127.0.0.1/32")),
        now=clock.now(),
    )
    sub_id = created.subscription.id
    new, until = subscriptions.rotate(
        store, owner.project_id, sub_id, overlap=dt.timedelta(hours=1), now=clock.now()
    )
    assert until == clock.now() + dt.timedelta(hours=1)
    keys = store.read(lambda conn: sql.secrets_of(conn, [sub_id], clock.now()))[sub_id]
    assert keys == [new, created.secret]
    body = '{"id":"evt_2"}'
    now = dt.datetime.now(dt.UTC)
    headers = dict(signing.headers(keys, "evt_2", now, body))
    assert len(headers["webhook-signature"].split(" ")) == 2
    for secret in (created.secret, new):  # a receiver holding either verifies
        Webhook(secret).verify(body, headers)
    clock.advance(hours=1)
    keys = store.read(lambda conn: sql.secrets_of(conn, [sub_id], clock.now()))[sub_id]
    assert keys == [new]
    # A second rotation within the overlap: the oldest secret stops at once.
    clock.advance(hours=1)
    newer, _ = subscriptions.rotate(store, owner.project_id, sub_id, now=clock.now())
    newest, _ = subscriptions.rotate(store, owner.project_id, sub_id, now=clock.now())
    keys = store.read(lambda conn: sql.secrets_of(conn, [sub_id], clock.now()))[sub_id]
    assert keys == [newest, newer]

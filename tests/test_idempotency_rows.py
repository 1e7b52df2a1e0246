"""``Idempotency-Key`` in the row's own transaction on the compatible and bulk endpoints: the
claim, the row and the saved answer are ONE writer payload; a replay returns the saved
answer; an answer a retry should act on leaves no claim; a claim left by a dead process is
taken over once its lease has passed, and a running request's renewal keeps it."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from sqlalchemy import update

from powerdialer.storage import Store
from powerdialer.storage.schema import campaigns
from powerdialer.web.app import PowerDialerApp
from powerdialer.web.middleware import idempotency_writes
from powerdialer.web.middleware.idempotency_writes import IN_PROGRESS_LEASE, IdempotencyOp
from tests.clock import Clock
from tests.conftest import COMPAT, Persona
from tests.test_idempotency import bulk_path, key_rows, one_row, post, row_count

pytestmark = pytest.mark.anyio


def taken(app: PowerDialerApp) -> int:
    """Live payloads the writer has taken so far (its own count)."""
    return int(app.services.writer._taken)


async def test_a_keyed_compatible_row_is_one_write_and_its_retry_is_replayed(
    app: PowerDialerApp, client: httpx.AsyncClient, owner: Persona, store: Store
) -> None:
    before = taken(app)
    first = await post(client, owner, "k-1", owner.row("380930000001"), path=COMPAT)
    assert first.status_code == 200
    assert first.json() == {"result": True}
    assert taken(app) - before == 1  # claim, row and answer: one payload
    again = await post(client, owner, "k-1", owner.row("380930000001"), path=COMPAT)
    assert again.status_code == 200
    assert again.content == first.content
    assert again.headers["idempotent-replayed"] == "true"
    assert row_count(store) == 1
    [saved] = key_rows(store)
    assert saved["status_code"] == 200
    assert saved["response_body"] == b'{"result":true}'


async def test_a_keyed_bulk_request_is_one_write_and_its_retry_is_replayed(
    app: PowerDialerApp, client: httpx.AsyncClient, owner: Persona, store: Store
) -> None:
    body = {"rows": [{"phone_number": "380930000001"}, {"phone_number": "12"}]}
    before = taken(app)
    first = await post(client, owner, "b-1", body)
    assert first.status_code == 200
    assert first.json()["inserted"] == 1
    assert first.json()["rejected"] == 1
    assert taken(app) - before == 1
    again = await post(client, owner, "b-1", body)
    assert again.status_code == 200
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    assert row_count(store) == 1
    reused = await post(client, owner, "b-1", one_row("380930000002"))
    assert reused.status_code == 422
    assert reused.json()["error"]["code"] == "idempotency_key_reused"
    assert row_count(store) == 1


async def test_an_answer_a_retry_should_act_on_leaves_no_claim(
    client: httpx.AsyncClient, owner: Persona, store: Store
) -> None:
    def archive(state: bool) -> None:
        store.write(
            lambda conn: conn.execute(
                update(campaigns)
                .where(campaigns.c.id == owner.campaign_id)
                .values(state="archived" if state else "active")
            )
        )

    archive(True)
    refused = await post(client, owner, "a-1", owner.row("380930000001"), path=COMPAT)
    assert refused.status_code == 409
    refused_bulk = await post(client, owner, "a-2", one_row())
    assert refused_bulk.status_code == 409
    assert key_rows(store) == []  # released in the same transaction
    archive(False)
    stored = await post(client, owner, "a-1", owner.row("380930000001"), path=COMPAT)
    assert stored.status_code == 200
    assert "idempotent-replayed" not in stored.headers
    assert row_count(store) == 1


async def test_one_key_sent_at_once_many_times_stores_one_row(
    client: httpx.AsyncClient, owner: Persona, store: Store
) -> None:
    answers = await asyncio.gather(
        *(post(client, owner, "same", owner.row("380930000001"), path=COMPAT) for _ in range(20))
    )
    assert {a.status_code for a in answers} == {200}
    assert sum("idempotent-replayed" in a.headers for a in answers) == 19
    assert row_count(store) == 1


async def test_a_dead_claim_is_taken_over_after_its_lease_and_a_renewed_one_is_not(
    app: PowerDialerApp, owner: Persona, clock: Clock
) -> None:
    def claim(key: str) -> IdempotencyOp:
        return IdempotencyOp(
            "claim", owner.project_id, key, "same", presented_key=owner.key, now=clock.now()
        )

    submit = app.services.writer.submit
    assert await submit(claim("dead")) is None
    assert await submit(claim("alive")) is None
    lease = IN_PROGRESS_LEASE.total_seconds()
    clock.advance(seconds=lease - 1)
    await submit(claim("alive").renewed(now=clock.now()))  # its request still runs
    held = await submit(claim("dead"))
    assert held is not None
    assert held.status_code is None  # within its lease: still the first request's
    clock.advance(seconds=2)
    assert await submit(claim("dead")) is None  # lease passed: taken over, in seconds
    alive = await submit(claim("alive"))
    assert alive is not None  # renewed: held a lease from the renewal on
    assert alive.status_code is None
    clock.advance(seconds=lease)
    assert await submit(claim("alive")) is None  # no renewal since: taken over
    assert lease <= 30
    assert lease >= idempotency_writes.RENEW_EVERY * 3


async def test_a_renewal_of_a_claim_taken_over_changes_nothing(
    app: PowerDialerApp, owner: Persona, clock: Clock
) -> None:
    def claim(fingerprint: str) -> IdempotencyOp:
        return IdempotencyOp(
            "claim", owner.project_id, "k", fingerprint, presented_key=owner.key, now=clock.now()
        )

    submit = app.services.writer.submit
    assert await submit(claim("first")) is None
    clock.advance(seconds=IN_PROGRESS_LEASE.total_seconds() + 1)
    assert await submit(claim("first")) is None  # taken over by a retry of the same request
    late = claim("other")
    assert await submit(late.renewed(now=clock.now())) is None  # not its claim: no effect
    clock.advance(seconds=IN_PROGRESS_LEASE.total_seconds() - 1)
    held = await submit(claim("first"))
    assert held is not None
    assert held.fingerprint == "first"


async def test_another_projects_key_of_the_same_name_is_its_own(
    client: httpx.AsyncClient, owner: Persona, stranger: Persona, store: Store
) -> None:
    mine = await post(client, owner, "shared", owner.row("380930000001"), path=COMPAT)
    theirs = await post(client, stranger, "shared", stranger.row("380930000001"), path=COMPAT)
    assert mine.status_code == theirs.status_code == 200
    assert "idempotent-replayed" not in theirs.headers
    assert row_count(store) == 2
    bulk = await post(client, stranger, "shared", one_row(), path=bulk_path(stranger))
    assert bulk.status_code == 422  # its own key, used for the compatible row just now
    assert bulk.json()["error"]["code"] == "idempotency_key_reused"


async def test_a_refused_compatible_row_saves_its_own_answer_not_the_usual_one(
    client: httpx.AsyncClient, owner: Persona, store: Store
) -> None:
    first = await post(client, owner, "bad", owner.row("12"), path=COMPAT)
    assert first.status_code in (400, 422)
    assert first.json()["error"]["code"] == "invalid_phone_number"
    [saved] = key_rows(store)
    assert (saved["status_code"], saved["response_body"]) == (first.status_code, first.content)
    again = await post(client, owner, "bad", owner.row("12"), path=COMPAT)
    assert again.headers["idempotent-replayed"] == "true"
    assert (again.status_code, again.content) == (first.status_code, first.content)
    assert row_count(store) == 0


async def test_a_keyed_row_whose_client_leaves_mid_body_claims_nothing(
    app: PowerDialerApp, owner: Persona, store: Store
) -> None:
    """The endpoint's own keyed branch reads the body itself: a client gone before its body
    ends leaves no claim (an empty body's 400 kept for the key would answer its retry)."""
    messages = [
        {"type": "http.request", "body": b'{"campaignId": ', "more_body": True},
        {"type": "http.disconnect"},
    ]
    answers: list[dict[str, object]] = []

    async def receive() -> dict[str, object]:
        return messages.pop(0)

    async def send(message: dict[str, object]) -> None:
        answers.append(message)

    headers = [(k.lower().encode(), v.encode()) for k, v in owner.headers.items()]
    scope = {
        "type": "http",
        "method": "POST",
        "path": COMPAT,
        "query_string": b"",
        "headers": [*headers, (b"idempotency-key", b"gone-1")],
    }
    await app(scope, receive, send)
    assert answers == []
    assert key_rows(store) == []
    assert row_count(store) == 0

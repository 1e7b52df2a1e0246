"""``Idempotency-Key`` on every POST: replay, reuse, in progress, expiry, scope per project,
never a replay to a caller without a valid key, only final answers kept."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import hashlib
from typing import Any

import httpx
import pytest
from sqlalchemy import func, insert, select, update

from powerdialer.models import utcnow
from powerdialer.settings import Settings
from powerdialer.storage import Store
from powerdialer.storage import rows_write as bulk_sql
from powerdialer.storage.schema import campaign_rows, campaigns, idempotency_keys
from powerdialer.web.app import PowerDialerApp, create_app
from powerdialer.web.middleware import idempotency, idempotency_rows, idempotency_writes
from tests.clock import Clock
from tests.conftest import COMPAT, Persona, StartApp, client_of

pytestmark = pytest.mark.anyio


def bulk_path(persona: Persona) -> str:
    return f"/power-dialer/campaigns/{persona.campaign_id}/rows"


def one_row(number: str = "380930000001") -> dict[str, Any]:
    return {"rows": [{"phone_number": number}]}


async def post(
    client: httpx.AsyncClient,
    persona: Persona,
    key: str | None,
    body: object,
    path: str | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    sent = {**persona.headers, **(headers or {})}
    if key is not None:
        sent["Idempotency-Key"] = key
    return await client.post(path or bulk_path(persona), json=body, headers=sent)


def row_count(store: Store) -> int:
    query = select(func.count()).select_from(campaign_rows)
    return int(store.read(lambda conn: conn.execute(query).scalar_one()))


def key_rows(store: Store) -> list[dict[str, Any]]:
    query = select(idempotency_keys).order_by(idempotency_keys.c.id)
    return [dict(r._mapping) for r in store.read(lambda conn: conn.execute(query).all())]


def set_keys(store: Store, **values: Any) -> None:
    store.write(lambda conn: conn.execute(update(idempotency_keys).values(**values)))


def assert_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text[:500]
    body = response.json()
    assert body["result"] is False
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    return body["error"]  # type: ignore[no-any-return]


# --- replay -------------------------------------------------------------------------------


async def test_a_retry_gets_the_first_answer_byte_for_byte_without_acting_again(
    client: httpx.AsyncClient, owner: Persona, store: Store
) -> None:
    body = {"rows": [{"phone_number": "380930000001"}, {"phone_number": "12"}]}
    first = await post(client, owner, "k-1", body)
    assert first.status_code == 200
    assert "idempotent-replayed" not in first.headers
    assert first.json()["inserted"] == 1
    # Had it acted again, the number would now be a duplicate.
    again = await post(client, owner, "k-1", body)
    assert again.status_code == 200
    assert again.content == first.content
    assert again.headers["content-type"] == first.headers["content-type"]
    assert again.headers["idempotent-replayed"] == "true"
    assert row_count(store) == 1


async def test_the_compatible_endpoint_honours_the_key_too(
    client: httpx.AsyncClient, owner: Persona, store: Store
) -> None:
    first = await post(client, owner, "compat-1", owner.row(), path=COMPAT)
    again = await post(client, owner, "compat-1", owner.row(), path=COMPAT)
    assert first.content == again.content == b'{"result":true}'
    assert again.headers["idempotent-replayed"] == "true"
    assert row_count(store) == 1
    assert [r["status_code"] for r in key_rows(store)] == [200]


async def test_final_client_errors_are_replayed_too(
    client: httpx.AsyncClient, owner: Persona, store: Store
) -> None:
    body = {"campaignId": owner.campaign_id, "phone_number": "12"}
    first = await post(client, owner, "bad-1", body, path=COMPAT)
    again = await post(client, owner, "bad-1", body, path=COMPAT)
    assert_error(first, 422, "invalid_phone_number")
    assert again.status_code == 422
    assert again.content == first.content
    assert again.headers["idempotent-replayed"] == "true"


async def test_requests_without_the_header_keep_nothing(
    client: httpx.AsyncClient, owner: Persona, store: Store
) -> None:
    await post(client, owner, None, one_row())
    await post(client, owner, None, owner.row(), path=COMPAT)
    assert key_rows(store) == []


async def test_the_header_on_a_get_is_ignored(
    client: httpx.AsyncClient, owner: Persona, store: Store
) -> None:
    response = await client.get(
        "/power-dialer/limits", headers={**owner.headers, "Idempotency-Key": "g"}
    )
    assert response.status_code == 200
    assert "idempotent-replayed" not in response.headers
    assert key_rows(store) == []


# --- refusals -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "change",
    [
        {"body": one_row("380930000002")},
        {"path": "/power-dialer/campaigns/campaign-rows"},
        {"query": "?x=1"},
    ],
)
async def test_the_same_key_with_another_request_is_refused(
    client: httpx.AsyncClient, owner: Persona, store: Store, change: dict[str, str]
) -> None:
    await post(client, owner, "k", one_row())
    path = change.get("path", bulk_path(owner)) + change.get("query", "")
    response = await post(client, owner, "k", change.get("body", one_row()), path=path)
    error = assert_error(response, 422, "idempotency_key_reused")
    assert error["field"] == "Idempotency-Key"
    assert row_count(store) == 1


@pytest.mark.parametrize("key", ["", "   ", "x" * 256, "ключ", "a\tb"])
async def test_a_malformed_key_answers_400(
    client: httpx.AsyncClient, owner: Persona, store: Store, key: str
) -> None:
    headers = [(k.encode(), v.encode()) for k, v in owner.headers.items()]
    headers.append((b"idempotency-key", key.encode()))
    response = await client.post(bulk_path(owner), json=one_row(), headers=headers)
    assert_error(response, 400, "invalid_idempotency_key")
    assert row_count(store) == 0


async def test_a_key_of_255_printable_characters_is_fine(
    client: httpx.AsyncClient, owner: Persona
) -> None:
    key = "".join(chr(32 + i % 95) for i in range(255)).strip() + "z"
    assert (await post(client, owner, key[-255:], one_row())).status_code == 200


async def test_a_second_request_while_the_first_runs_answers_409_with_retry_after(
    client: httpx.AsyncClient, owner: Persona, store: Store
) -> None:
    body = one_row()
    print_ = idempotency.fingerprint(
        "POST", bulk_path(owner), b"", hashlib.sha256(_json(body)).hexdigest()
    )
    now = utcnow()
    store.write(
        lambda conn: conn.execute(
            insert(idempotency_keys).values(
                project_id=owner.project_id,
                key="running",
                fingerprint=print_,
                created_at=now,
                expires_at=now + dt.timedelta(hours=24),
            )
        )
    )
    response = await post(client, owner, "running", body)
    assert_error(response, 409, "idempotency_in_progress")
    assert response.headers["retry-after"] == "1"
    assert row_count(store) == 0
    # A first request abandoned (its process died) is taken over after the lease.
    set_keys(store, created_at=now - idempotency_writes.IN_PROGRESS_LEASE - dt.timedelta(seconds=1))
    taken = await post(client, owner, "running", body)
    assert taken.status_code == 200
    assert "idempotent-replayed" not in taken.headers
    assert row_count(store) == 1


def _json(body: object) -> bytes:
    # What httpx sends for json=...: compact separators, ASCII-escaped.
    import json

    return json.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()


async def test_concurrent_requests_with_one_key_act_once(
    client: httpx.AsyncClient, owner: Persona, store: Store
) -> None:
    body = {"rows": [{"phone_number": f"38093{n:07d}"} for n in range(200)]}
    answers = await asyncio.gather(*(post(client, owner, "same", body) for _ in range(16)))
    acted = [a for a in answers if a.status_code == 200 and "idempotent-replayed" not in a.headers]
    assert len(acted) == 1
    assert acted[0].json()["inserted"] == 200
    for answer in answers:
        if answer.status_code == 200:
            assert answer.content == acted[0].content
        else:
            assert_error(answer, 409, "idempotency_in_progress")
    assert row_count(store) == 200


# --- scope and credentials ----------------------------------------------------------------


async def test_keys_are_scoped_per_project(
    client: httpx.AsyncClient, owner: Persona, stranger: Persona, store: Store
) -> None:
    mine = await post(client, owner, "shared-key", one_row())
    theirs = await post(client, stranger, "shared-key", one_row("380930000002"))
    assert mine.status_code == theirs.status_code == 200
    assert "idempotent-replayed" not in theirs.headers
    assert theirs.json()["inserted"] == 1
    assert row_count(store) == 2


async def test_a_replay_never_goes_to_a_caller_without_a_valid_key_of_the_project(
    client: httpx.AsyncClient, owner: Persona, stranger: Persona, store: Store
) -> None:
    first = await post(client, owner, "secret-answer", one_row())
    assert first.status_code == 200
    for headers in (
        {"x-project-id": str(owner.project_id), "Auth-key": stranger.key},
        {"x-project-id": str(owner.project_id), "Auth-key": owner.key[:-2] + "xx"},
        {"x-project-id": str(owner.project_id)},
        {},
    ):
        response = await client.post(
            bulk_path(owner),
            json=one_row(),
            headers={**headers, "Idempotency-Key": "secret-answer"},
        )
        assert response.status_code == 401, response.text
        assert "idempotent-replayed" not in response.headers
        assert str(first.json()["results"][0]["id"]) not in response.text
    # The stranger's own project with the same key is another key altogether.
    theirs = await post(client, stranger, "secret-answer", one_row(), path=bulk_path(owner))
    assert_error(theirs, 404, "campaign_not_found")
    assert "idempotent-replayed" not in theirs.headers


# --- what is kept -------------------------------------------------------------------------


async def test_a_401_is_not_kept_so_the_retry_acts(
    client: httpx.AsyncClient, owner: Persona, store: Store
) -> None:
    wrong = {"x-project-id": str(owner.project_id), "Auth-key": owner.key[:-2] + "xx"}
    denied = await client.post(
        bulk_path(owner), json=one_row(), headers={**wrong, "Idempotency-Key": "k"}
    )
    assert denied.status_code == 401
    assert key_rows(store) == []
    retry = await post(client, owner, "k", one_row())
    assert retry.status_code == 200
    assert "idempotent-replayed" not in retry.headers
    assert row_count(store) == 1


async def test_a_409_of_an_archived_campaign_is_not_kept(
    client: httpx.AsyncClient, owner: Persona, store: Store
) -> None:
    def archive(state: str) -> None:
        query = update(campaigns).where(campaigns.c.id == owner.campaign_id).values(state=state)
        store.write(lambda conn: conn.execute(query))

    archive("archived")
    assert_error(await post(client, owner, "k", one_row()), 409, "campaign_archived")
    archive("active")
    retry = await post(client, owner, "k", one_row())
    assert retry.status_code == 200
    assert "idempotent-replayed" not in retry.headers


async def test_a_5xx_is_not_kept_so_the_retry_acts(
    client: httpx.AsyncClient, owner: Persona, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = bulk_sql.insert_new

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(bulk_sql, "insert_new", broken)
    assert_error(await post(client, owner, "k", one_row()), 503, "storage_unavailable")
    assert key_rows(store) == []
    monkeypatch.setattr(bulk_sql, "insert_new", real)
    retry = await post(client, owner, "k", one_row())
    assert retry.status_code == 200
    assert "idempotent-replayed" not in retry.headers
    assert row_count(store) == 1


async def test_a_429_is_not_kept_so_the_retry_acts(
    started_app: StartApp, owner: Persona, store: Store, clock: Clock
) -> None:
    async with started_app(rate_limit_per_second=2, rate_limit_burst=1) as app:
        app.services.limiter.clock = clock.monotonic  # time stands still until we move it
        async with client_of(app) as client:
            assert (await post(client, owner, "a", one_row())).status_code == 200
            limited = await post(client, owner, "b", one_row("380930000002"))
            assert_error(limited, 429, "rate_limited")
            clock.advance(seconds=0.6)  # a token back
            retry = await post(client, owner, "b", one_row("380930000002"))
            assert retry.status_code == 200
            assert "idempotent-replayed" not in retry.headers
    assert row_count(store) == 2


async def test_a_body_over_the_limit_answers_413_and_is_not_kept(
    client: httpx.AsyncClient, owner: Persona, store: Store
) -> None:
    body = owner.row(fio="x" * 20_000)
    assert_error(await post(client, owner, "big", body, path=COMPAT), 413, "body_too_large")
    assert key_rows(store) == []


async def test_an_answer_too_large_to_keep_is_not_replayed_nor_repeated(
    client: httpx.AsyncClient, owner: Persona, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(idempotency, "REPLAY_MAX_BYTES", 100)
    monkeypatch.setattr(idempotency_rows, "REPLAY_MAX_BYTES", 100)  # bulk saves in its write
    body = {"rows": [{"phone_number": f"38093{n:07d}"} for n in range(10)]}
    first = await post(client, owner, "huge", body)
    assert first.status_code == 200
    assert first.json()["inserted"] == 10  # streamed to the client whole
    again = await post(client, owner, "huge", body)
    error = assert_error(again, 409, "idempotency_not_replayable")
    assert "200" in error["message"]
    assert row_count(store) == 10


# --- expiry -------------------------------------------------------------------------------


async def test_an_expired_key_acts_again(
    client: httpx.AsyncClient, owner: Persona, store: Store
) -> None:
    first = await post(client, owner, "old", one_row())
    assert first.json()["inserted"] == 1
    [kept] = key_rows(store)
    assert kept["expires_at"] - kept["created_at"] == dt.timedelta(hours=24)
    set_keys(store, expires_at=utcnow() - dt.timedelta(seconds=1))
    again = await post(client, owner, "old", one_row())
    assert again.status_code == 200
    assert "idempotent-replayed" not in again.headers
    assert again.json()["duplicates"] == 1  # it acted: the number was there already


async def test_expired_keys_are_purged_as_keys_are_claimed(
    app: PowerDialerApp, client: httpx.AsyncClient, owner: Persona, stranger: Persona, store: Store
) -> None:
    await post(client, owner, "stale-1", one_row("380930000001"))
    await post(client, owner, "stale-2", one_row("380930000002"))
    await post(client, stranger, "theirs", one_row("380930000003"))
    set_keys(store, expires_at=utcnow() - dt.timedelta(seconds=1))
    # The app purged on its first claim for the project; the next purge is due later.
    app._keyed.app._purged.clear()  # behind KeyAuthMiddleware
    await post(client, owner, "fresh", one_row("380930000004"))
    remaining = {(r["project_id"], r["key"]) for r in key_rows(store)}
    assert remaining == {(owner.project_id, "fresh"), (stranger.project_id, "theirs")}


async def test_a_claim_judges_the_lease_and_the_expiry_by_the_time_it_is_given(
    app: PowerDialerApp, owner: Persona, clock: Clock
) -> None:
    def claim() -> idempotency_writes.IdempotencyOp:
        return idempotency_writes.IdempotencyOp(
            "claim", owner.project_id, "k", "same", presented_key=owner.key, now=clock.now()
        )

    submit = app.services.writer.submit
    assert await submit(claim()) is None  # a new key: this request owns it
    clock.advance(seconds=idempotency_writes.IN_PROGRESS_LEASE.total_seconds())
    running = await submit(claim())
    assert running is not None
    assert running.status_code is None  # still the first one's
    clock.advance(seconds=1)
    assert await submit(claim()) is None  # abandoned past its lease: taken over
    saved = dataclasses.replace(claim(), kind="save", status_code=200, body=b"{}")
    await submit(saved)
    clock.advance(hours=24, seconds=-1)
    kept = await submit(claim())
    assert kept is not None
    assert kept.status_code == 200  # replayed up to its last second
    clock.advance(seconds=1)
    assert await submit(claim()) is None  # expired: the key acts again


def test_a_projects_expired_keys_are_purged_once_a_minute_at_most(
    settings: Settings, clock: Clock
) -> None:
    app = create_app(settings)  # never started: only the middleware's own decision is asked
    middleware = idempotency.IdempotencyMiddleware(app, app.services)
    due = [middleware._purge_due(7, now=clock.monotonic())]
    clock.advance(seconds=idempotency.PURGE_EVERY_SECONDS - 1)
    due += [
        middleware._purge_due(7, now=clock.monotonic()),
        middleware._purge_due(8, now=clock.monotonic()),
    ]
    clock.advance(seconds=1)
    due.append(middleware._purge_due(7, now=clock.monotonic()))
    assert due == [True, False, True, True]  # project 8 has its own minute


def test_the_ttl_is_at_least_a_day() -> None:
    with pytest.raises(ValueError, match="at least 24"):
        Settings.from_env({"POWERDIALER_IDEMPOTENCY_TTL_HOURS": "1"})


async def test_the_ttl_follows_the_setting(
    started_app: StartApp, owner: Persona, store: Store
) -> None:
    async with started_app(idempotency_ttl_hours=48) as app, client_of(app) as client:
        await post(client, owner, "k", one_row())
    [kept] = key_rows(store)
    assert kept["expires_at"] - kept["created_at"] == dt.timedelta(hours=48)

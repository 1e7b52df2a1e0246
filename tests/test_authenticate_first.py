"""Authenticate before spending anything: a request whose API key does not verify is answered
before its body is read, spooled, counted against a rate limit or recorded as an idempotency
claim; buckets are keyed by the verified project and key; a repeated credential header is
refused the same way on every surface."""

from __future__ import annotations

import asyncio
import dataclasses
import tempfile
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from powerdialer import keys
from powerdialer.settings import Settings
from powerdialer.storage import Store
from powerdialer.storage.schema import idempotency_keys
from powerdialer.web.api.openapi import PUBLIC_PATHS
from powerdialer.web.app import PowerDialerApp
from tests.conftest import COMPAT, Persona, StartApp, client_of

pytestmark = pytest.mark.anyio

CHUNK = 64 * 1024
BIG = 8 * 1024 * 1024  # past every body limit but the uploads'


def wrong_secret(persona: Persona) -> str:
    """The persona's key id (public: it is shown in lists) with a secret that is not its own."""
    key_id, _secret = keys.split_key(persona.key) or ("", "")
    return f"{keys.PREFIX}{key_id}_{'x' * 43}"


@dataclasses.dataclass
class Answer:
    status: int
    headers: dict[bytes, bytes]
    body: bytes
    bytes_read: int  # how much of the request body the application took
    files_seen: set[str]  # anything found on disk in the watched folders while it ran


async def call(
    app: PowerDialerApp,
    method: str,
    path: str,
    headers: list[tuple[str, str]],
    *,
    size: int = BIG,
    chunked: bool = False,
    body: bytes | None = None,
    watch: tuple[Path, ...] = (),
) -> Answer:
    """One request straight through the ASGI interface, the way uvicorn hands it over: the
    body is offered in 64 KiB messages as the application asks for them, and we count what it
    took.  ``watch``: folders listed at every read, to catch a spool on disk."""
    payload = body if body is not None else b"x" * size
    raw = [(n.lower().encode("latin-1"), v.encode("latin-1")) for n, v in headers]
    if chunked:
        raw.append((b"transfer-encoding", b"chunked"))
    else:
        raw.append((b"content-length", str(len(payload)).encode()))
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": raw,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }
    read = 0
    seen: set[str] = set()
    sent: list[dict[str, Any]] = []
    done = asyncio.Event()

    def look() -> None:
        for folder in watch:
            if folder.exists():
                seen.update(str(p) for p in folder.rglob("*") if p.is_file())

    async def receive() -> dict[str, Any]:
        nonlocal read
        look()
        if read >= len(payload):
            await done.wait()  # the client would still be connected
            return {"type": "http.disconnect"}
        chunk = payload[read : read + CHUNK]
        read += len(chunk)
        return {"type": "http.request", "body": chunk, "more_body": read < len(payload)}

    async def send(message: dict[str, Any]) -> None:
        look()
        sent.append(message)
        if message["type"] == "http.response.body" and not message.get("more_body", False):
            done.set()

    await asyncio.wait_for(app(scope, receive, send), timeout=30)
    start = next(m for m in sent if m["type"] == "http.response.start")
    body_out = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return Answer(start["status"], dict(start["headers"]), body_out, read, seen)


def error_of(answer: Answer) -> dict[str, Any]:
    import orjson

    payload = orjson.loads(answer.body)
    assert payload["result"] is False
    assert payload["error"]["message"]
    return payload["error"]  # type: ignore[no-any-return]


def multipart(size: int) -> tuple[str, bytes]:
    boundary = "pdboundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="leads.csv"\r\n'
        "Content-Type: text/csv\r\n\r\nphone_number,fio\r\n"
    ).encode()
    rows = b"380930000000,Ivan\r\n" * (size // 19)
    tail = f"\r\n--{boundary}--\r\n".encode()
    return f"multipart/form-data; boundary={boundary}", head + rows + tail


def surfaces(persona: Persona) -> dict[str, tuple[str, str, list[tuple[str, str]]]]:
    """Every kind of keyed POST: name -> (method, path, extra headers)."""
    return {
        "compatible": ("POST", COMPAT, []),
        "campaign create": ("POST", "/power-dialer/campaigns", []),
        "bulk rows": ("POST", f"/power-dialer/campaigns/{persona.campaign_id}/rows", []),
        "import": ("POST", f"/power-dialer/campaigns/{persona.campaign_id}/imports", []),
        "preview": ("POST", "/power-dialer/imports/preview", []),
    }


CREDENTIALS = {
    "no key": lambda p: [("x-project-id", str(p.project_id))],
    "wrong secret": lambda p: [("x-project-id", str(p.project_id)), ("Auth-key", wrong_secret(p))],
    "another project's key": lambda p: [
        ("x-project-id", str(p.project_id + 1000)),
        ("Auth-key", p.key),
    ],
}


@pytest.mark.parametrize(
    "surface", ["compatible", "campaign create", "bulk rows", "import", "preview"]
)
@pytest.mark.parametrize("credentials", list(CREDENTIALS))
@pytest.mark.parametrize("idempotent", [False, True], ids=["plain", "idempotency-key"])
@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
async def test_an_unauthenticated_body_is_refused_before_any_of_it_is_read(
    app: PowerDialerApp,
    owner: Persona,
    surface: str,
    credentials: str,
    idempotent: bool,
    chunked: bool,
) -> None:
    method, path, extra = surfaces(owner)[surface]
    headers = [*CREDENTIALS[credentials](owner), *extra]
    if idempotent:
        headers.append(("Idempotency-Key", "k-1"))
    answer = await call(app, method, path, headers, chunked=chunked)
    assert answer.status == 401
    assert error_of(answer)["code"] in ("missing_auth_key", "invalid_auth_key")
    assert answer.bytes_read == 0
    assert b"ratelimit-remaining" not in answer.headers


async def test_every_keyed_operation_is_listed_for_the_check_below(app: PowerDialerApp) -> None:
    operations = keyed_operations(app)
    assert ("POST", COMPAT) in operations
    assert len(operations) >= 12


def keyed_operations(app: PowerDialerApp) -> list[tuple[str, str]]:
    """Every operation of the OpenAPI document that takes a key, with ids filled in."""
    found = []
    for path, item in app.api.openapi()["paths"].items():
        if path in PUBLIC_PATHS:
            continue
        concrete = path
        for name in ("campaign_id", "row_id", "job_id"):
            concrete = concrete.replace("{" + name + "}", "1")
        found.extend((method.upper(), concrete) for method in item)
    return found


async def test_every_operation_that_takes_a_key_refuses_a_stranger_before_reading(
    app: PowerDialerApp, owner: Persona
) -> None:
    for method, path in keyed_operations(app):
        headers = CREDENTIALS["wrong secret"](owner)
        answer = await call(app, method, path, headers, size=2 * 1024 * 1024)
        assert (method, path, answer.status) == (method, path, 401)
        assert (method, path, answer.bytes_read) == (method, path, 0)


@pytest.fixture
def temp_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Python's temporary folder (where a spooled body would go) moved where we can watch."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


@pytest.mark.parametrize("idempotent", [False, True], ids=["plain", "idempotency-key"])
@pytest.mark.parametrize("surface", ["import", "preview"])
async def test_an_unauthenticated_upload_leaves_nothing_on_disk(
    app: PowerDialerApp,
    owner: Persona,
    settings: Settings,
    temp_dir: Path,
    surface: str,
    idempotent: bool,
) -> None:
    method, path, _ = surfaces(owner)[surface]
    content_type, body = multipart(3 * 1024 * 1024)  # past the 1 MiB in-memory spool
    headers = [*CREDENTIALS["wrong secret"](owner), ("Content-Type", content_type)]
    if idempotent:
        headers.append(("Idempotency-Key", "upload-1"))
    data_dir = Path(settings.data_dir) / "imports"
    before = {str(p) for p in data_dir.rglob("*") if p.is_file()}
    answer = await call(app, method, path, headers, body=body, watch=(data_dir, temp_dir))
    assert answer.status == 401
    assert answer.bytes_read == 0
    assert answer.files_seen - before == set()


async def test_the_same_upload_with_the_key_is_stored(app: PowerDialerApp, owner: Persona) -> None:
    """The check above is not passing because uploads are refused altogether."""
    content_type, body = multipart(64 * 1024)
    headers = [*owner.headers.items(), ("Content-Type", content_type)]
    answer = await call(app, "POST", "/power-dialer/imports/preview", headers, body=body)
    assert answer.status == 200, answer.body[:300]
    assert answer.bytes_read == len(body)


# --- rate limits and idempotency keys of the verified key -------------------------------


@pytest.fixture
async def limited(started_app: StartApp) -> Any:
    """The app with a small budget that does not refill during a test (one token a day)."""
    budget = {"rate_limit_per_second": 1 / 86400, "rate_limit_burst": 3}
    async with started_app(**budget) as app, client_of(app) as client:
        yield client


async def test_a_stranger_who_knows_the_key_id_cannot_spend_its_owners_budget(
    limited: httpx.AsyncClient, owner: Persona
) -> None:
    forged = {"x-project-id": str(owner.project_id), "Auth-key": wrong_secret(owner)}
    for _ in range(10):
        compat = await limited.post(COMPAT, json=owner.row(), headers=forged)
        api = await limited.get("/power-dialer/campaigns", headers=forged)
        for answer in (compat, api):
            assert answer.status_code == 401
            assert answer.json()["error"]["code"] == "invalid_auth_key"
            assert "ratelimit-remaining" not in answer.headers
    mine = await limited.post(COMPAT, json=owner.row(), headers=owner.headers)
    assert mine.json() == {"result": True}
    assert mine.headers["ratelimit-remaining"] == "2"


async def test_the_api_and_the_compatible_endpoint_share_the_keys_budget(
    limited: httpx.AsyncClient, owner: Persona, stranger: Persona
) -> None:
    """One bucket per verified (project id, key id), whichever surface is called."""
    answers = [
        await limited.post(COMPAT, json=owner.row("380930000001"), headers=owner.headers),
        await limited.get("/power-dialer/campaigns", headers=owner.headers),
        # The same project id spelt with a leading zero is the same project.
        await limited.get(
            "/power-dialer/campaigns",
            headers={**owner.headers, "x-project-id": f"0{owner.project_id}"},
        ),
        await limited.post(COMPAT, json=owner.row("380930000002"), headers=owner.headers),
    ]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert [a.headers["ratelimit-remaining"] for a in answers] == ["2", "1", "0", "0"]
    other = await limited.get("/power-dialer/campaigns", headers=stranger.headers)
    assert other.status_code == 200


async def test_a_wrong_secret_claims_no_idempotency_key(
    client: httpx.AsyncClient, owner: Persona, store: Store
) -> None:
    forged = {
        "x-project-id": str(owner.project_id),
        "Auth-key": wrong_secret(owner),
        "Idempotency-Key": "order-42",
    }
    path = f"/power-dialer/campaigns/{owner.campaign_id}/rows"
    body = {"rows": [{"phone_number": "380930000001"}]}
    assert (await client.post(path, json=body, headers=forged)).status_code == 401
    count = select(func.count()).select_from(idempotency_keys)
    assert store.read(lambda conn: conn.execute(count).scalar_one()) == 0
    mine = await client.post(
        path, json=body, headers={**owner.headers, "Idempotency-Key": "order-42"}
    )
    assert mine.status_code == 200
    assert mine.json()["inserted"] == 1
    assert "idempotent-replayed" not in mine.headers


# --- repeated credential headers --------------------------------------------------------


def _pairs(persona: Persona, header: str, order: str) -> list[tuple[str, str]]:
    good = {"x-project-id": str(persona.project_id), "Auth-key": persona.key}
    other = {"x-project-id": str(persona.project_id + 1), "Auth-key": wrong_secret(persona)}
    if header == "Authorization":
        return [*good.items(), ("Authorization", "Bearer a"), ("Authorization", "Bearer b")]
    repeated = [(header, good[header]), (header, other[header])]
    if order == "wrong first":
        repeated.reverse()
    rest = [(n, v) for n, v in good.items() if n != header]
    return [*rest, *repeated]


@pytest.mark.parametrize("header", ["x-project-id", "Auth-key", "Authorization"])
@pytest.mark.parametrize("order", ["right first", "wrong first"])
async def test_a_repeated_credential_header_is_refused_alike_on_every_surface(
    app: PowerDialerApp, owner: Persona, header: str, order: str
) -> None:
    content_type, upload = multipart(1024)
    requests = {
        "compatible": ("POST", COMPAT, [], b'{"campaignId": 1, "phone_number": "380930000000"}'),
        "api": ("GET", "/power-dialer/campaigns", [], b""),
        "import": (
            "POST",
            f"/power-dialer/campaigns/{owner.campaign_id}/imports",
            [("Content-Type", content_type)],
            upload,
        ),
    }
    errors = {}
    for name, (method, path, extra, body) in requests.items():
        answer = await call(app, method, path, [*_pairs(owner, header, order), *extra], body=body)
        assert (name, answer.status) == (name, 400)
        assert answer.bytes_read == 0
        errors[name] = error_of(answer)
    assert errors["compatible"] == errors["api"] == errors["import"]
    assert errors["api"]["code"] == "duplicate_header"
    assert errors["api"]["field"] == header
    assert header in errors["api"]["message"]


async def test_one_copy_of_each_header_is_fine(app: PowerDialerApp, owner: Persona) -> None:
    headers = [*owner.headers.items(), ("Authorization", "Bearer ignored")]
    answer = await call(app, "GET", "/power-dialer/campaigns", headers, body=b"")
    assert answer.status == 200


# --- the verifier -----------------------------------------------------------------------


def test_an_unknown_key_id_is_compared_like_a_wrong_secret() -> None:
    """``compare_digest`` is constant-time for equal lengths: the stand-in hash an unknown key
    is compared with is as long as a real one."""
    real = keys.generate_key()
    assert len(keys.MISSING_HASH) == len(real.secret_hash)
    assert not keys.hash_matches(keys.hash_secret("x"), None)
    assert not keys.hash_matches(keys.MISSING_HASH, None)  # even the stand-in itself
    assert not keys.hash_matches(keys.hash_secret("x"), real.secret_hash)


async def test_the_hot_path_cache_still_compares_every_secret(store: Store, owner: Persona) -> None:
    from powerdialer.web.middleware.keyauth import KeyVerifier

    verifier = KeyVerifier(lambda: store, ttl=60)
    key_id, secret = keys.split_key(owner.key) or ("", "")
    assert await verifier.verify(owner.project_id, key_id, secret, fresh=False, now=0) is not None
    # Cached now: a wrong secret for the same key id is still refused, and so is an unknown id.
    assert await verifier.verify(owner.project_id, key_id, "y" * 43, fresh=False, now=1) is None
    assert await verifier.verify(owner.project_id, "0" * 12, secret, fresh=False, now=1) is None
    verified = await verifier.verify(owner.project_id, key_id, secret, fresh=False, now=2)
    assert verified is not None
    assert (verified.project_id, verified.key_id) == (owner.project_id, key_id)
    assert verified.secret_hash == keys.hash_secret(secret)


async def test_the_cache_forgets_after_its_ttl(store: Store, owner: Persona) -> None:
    from powerdialer import projects
    from powerdialer.web.middleware.keyauth import KeyVerifier

    verifier = KeyVerifier(lambda: store, ttl=30)
    key_id, secret = keys.split_key(owner.key) or ("", "")
    assert await verifier.verify(owner.project_id, key_id, secret, fresh=False, now=0)
    projects.revoke_key(store, owner.project_id, key_id)
    # Within the TTL the hot path still passes it on (the writer refuses it in the row's
    # transaction: test_compat_endpoint's revoked-key test); the API never uses the cache.
    assert await verifier.verify(owner.project_id, key_id, secret, fresh=False, now=29)
    assert await verifier.verify(owner.project_id, key_id, secret, fresh=True) is None
    assert await verifier.verify(owner.project_id, key_id, secret, fresh=False, now=31) is None


async def test_an_unknown_api_path_tells_a_stranger_nothing(
    client: httpx.AsyncClient, owner: Persona
) -> None:
    stranger = await client.get("/power-dialer/no-such-thing")
    assert stranger.status_code == 401
    assert stranger.json()["error"]["code"] == "missing_project_id"
    mine = await client.get("/power-dialer/no-such-thing", headers=owner.headers)
    assert mine.status_code == 404
    public = await client.get("/power-dialer/limits")
    assert public.status_code == 200

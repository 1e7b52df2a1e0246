"""The API's body limits: 413 ``body_too_large`` per route, before or while the body is read,
and never a read past the limit."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import JSONResponse

from powerdialer.settings import Settings
from powerdialer.web.compat import PATH as COMPAT
from powerdialer.web.middleware.bodylimit import DEFAULT_BODY_BYTES, BodyLimitMiddleware, body_limit
from powerdialer.web.responses import Message, Receive, Scope, Send
from tests.conftest import Persona, StartApp, client_of

pytestmark = pytest.mark.anyio

SETTINGS = Settings(max_body_bytes=2048, max_bulk_bytes=4096, max_upload_bytes=8192)


def test_each_route_has_its_own_limit() -> None:
    assert body_limit(SETTINGS, "/power-dialer/campaigns/7/rows") == 4096
    assert body_limit(SETTINGS, "/power-dialer/campaigns/7/rows/") == 4096
    assert body_limit(SETTINGS, "/power-dialer/campaigns/7/imports") == 8192
    assert body_limit(SETTINGS, "/power-dialer/imports/preview") == 8192
    assert body_limit(SETTINGS, "/ui/campaigns/7/imports") == 8192
    assert body_limit(SETTINGS, "/ui/campaigns/7/imports/preview") == 8192
    assert body_limit(SETTINGS, COMPAT) == 2048
    assert body_limit(SETTINGS, "/power-dialer/campaigns") == DEFAULT_BODY_BYTES
    assert body_limit(SETTINGS, "/power-dialer/campaigns/7/rows/9") == DEFAULT_BODY_BYTES
    assert body_limit(SETTINGS, "/power-dialer/campaigns/7/imports/3") == DEFAULT_BODY_BYTES


class Echo:
    """Reads the whole body (as Starlette does) and answers its size; counts chunks read."""

    def __init__(self, *, swallow_errors: bool = False) -> None:
        self.chunks_read = 0
        self.swallow_errors = swallow_errors

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def counting() -> Message:
            message = await receive()
            self.chunks_read += 1
            return message

        request = Request(scope, counting)
        try:
            body = await request.body()
        except Exception:
            if not self.swallow_errors:
                raise
            await JSONResponse({"oops": True}, status_code=400)(scope, receive, send)
            return
        await JSONResponse({"size": len(body)})(scope, receive, send)


def client_for(app: Echo) -> httpx.AsyncClient:
    limited = BodyLimitMiddleware(app, SETTINGS)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=limited), base_url="http://t")


async def chunks(count: int, size: int = 1024) -> AsyncIterator[bytes]:
    for _ in range(count):
        yield b"x" * size


async def test_a_body_within_the_limit_passes_whole() -> None:
    async with client_for(Echo()) as client:
        response = await client.post("/power-dialer/campaigns/1/rows", content=b"x" * 4096)
    assert response.json() == {"size": 4096}


async def test_a_declared_length_over_the_limit_is_refused_before_reading() -> None:
    app = Echo()
    async with client_for(app) as client:
        response = await client.post("/power-dialer/campaigns/1/rows", content=b"x" * 4097)
    assert response.status_code == 413
    body = response.json()
    assert body["result"] is False
    assert body["error"]["code"] == "body_too_large"
    assert "4096" in body["error"]["message"]
    assert "split the rows" in body["error"]["message"]
    assert app.chunks_read == 0


@pytest.mark.parametrize("swallow", [False, True])
async def test_a_streamed_body_is_cut_off_as_soon_as_it_passes_the_limit(swallow: bool) -> None:
    app = Echo(swallow_errors=swallow)
    async with client_for(app) as client:
        response = await client.post("/power-dialer/campaigns/1/imports", content=chunks(100))
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "body_too_large"
    assert app.chunks_read <= 9  # 8 KiB allowed: the 9th chunk trips it, the rest is never read


async def test_other_routes_get_the_default_limit() -> None:
    async with client_for(Echo()) as client:
        ok = await client.post("/power-dialer/campaigns", content=b"x" * DEFAULT_BODY_BYTES)
        refused = await client.post(
            "/power-dialer/campaigns", content=b"x" * (DEFAULT_BODY_BYTES + 1)
        )
    assert ok.json() == {"size": DEFAULT_BODY_BYTES}
    assert refused.status_code == 413


async def test_a_route_that_reads_nothing_is_left_alone() -> None:
    async def no_body(scope: Scope, receive: Receive, send: Send) -> None:
        await JSONResponse({"ok": True})(scope, receive, send)

    limited = BodyLimitMiddleware(no_body, SETTINGS)
    transport = httpx.ASGITransport(app=limited)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        response = await client.get("/power-dialer/limits")
    assert response.json() == {"ok": True}


# --- wired into the real application ------------------------------------------------------


async def test_the_api_refuses_a_large_body_on_any_route(
    started_app: StartApp, owner: Persona
) -> None:
    async with started_app(max_bulk_bytes=4096) as app, client_of(app) as client:
        big = b"{" + b" " * DEFAULT_BODY_BYTES + b"}"
        anywhere = await client.post("/power-dialer/campaigns", content=big, headers=owner.headers)
        bulk = await client.post(
            f"/power-dialer/campaigns/{owner.campaign_id}/rows",
            content=b"x" * 5000,
            headers=owner.headers,
        )
        compat = await client.post(COMPAT, content=b"x" * 20_000, headers=owner.headers)
    for response in (anywhere, bulk, compat):
        assert response.status_code == 413
        assert response.json()["error"]["code"] == "body_too_large"


def test_a_long_form_field_passes_its_own_cap_first_however_the_body_is_chunked() -> None:
    """One 300 KiB chunk of one field is past both caps: the answer names the field's cap
    (it named the total's when the server read the body in big chunks, under load)."""
    from powerdialer.errors import PowerDialerError
    from powerdialer.web.uploads import MAX_FIELD_BYTES, UploadForm

    form = UploadForm(lambda name: None, limit=1)  # type: ignore[arg-type,return-value]
    form._field = "mapping"
    chunk = b"x" * (300 * 1024)
    with pytest.raises(PowerDialerError) as caught:
        form.on_part_data(chunk, 0, len(chunk))
    assert f"longer than {MAX_FIELD_BYTES} bytes" in caught.value.message

"""How the SDK reads answers it did not expect and when it retries, with scripted answers
(``httpx.MockTransport``) — the vendor's error bodies are undocumented, proxies answer HTML."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable

import httpx
import pytest

from powerdialer.client import (
    APIError,
    AsyncClient,
    Client,
    NotFoundError,
    RateLimitedError,
    Retries,
    ServerError,
    TransportError,
    ValidationError,
)
from powerdialer.client._throttle import AsyncThrottle, SyncThrottle

Handler = Callable[[httpx.Request], httpx.Response]
FAST = Retries(max_retries=3, backoff=0.001, max_backoff=0.01)


def scripted(*answers: httpx.Response | Exception) -> tuple[Handler, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        answer = answers[min(len(seen), len(answers)) - 1]
        if isinstance(answer, Exception):
            raise answer
        return answer

    return handle, seen


def client(handler: Handler, retries: Retries = FAST) -> Client:
    return Client(base_url="https://api.example", project_id=1, key="k",
                  transport=httpx.MockTransport(handler), retries=retries)  # fmt: skip


def test_a_proxy_error_page_is_a_server_error_and_is_retried() -> None:
    handler, seen = scripted(
        httpx.Response(502, text="<html><h1>502 Bad Gateway</h1></html>"),
        httpx.Response(200, json={"result": True}),
    )
    client(handler).add_row(1, "380930000000")
    assert len(seen) == 2


def test_an_unknown_error_body_keeps_its_status_and_text() -> None:
    handler, seen = scripted(httpx.Response(422, text="phone is bad"))
    with pytest.raises(ValidationError) as caught:
        client(handler).add_row(1, "380930000000")
    assert (caught.value.code, caught.value.message, caught.value.status) == (
        "http_422", "phone is bad", 422
    )  # fmt: skip
    assert len(seen) == 1  # a 4xx is final


def test_a_200_without_result_true_is_not_success() -> None:
    handler, _ = scripted(httpx.Response(200, json={"result": False, "error": "blocked"}))
    with pytest.raises(APIError) as caught:
        client(handler).add_row(1, "380930000000")
    assert caught.value.message == "blocked"


def test_our_error_shape_is_read_field_by_field() -> None:
    body = {"result": False, "error": {"code": "campaign_not_found", "message": "no such"}}
    handler, _ = scripted(httpx.Response(404, json=body))
    with pytest.raises(NotFoundError) as caught:
        client(handler).get_campaign(9)
    assert (caught.value.code, caught.value.message) == ("campaign_not_found", "no such")


def test_429_is_retried_after_retry_after_then_given_up() -> None:
    handler, seen = scripted(httpx.Response(429, headers={"Retry-After": "0.2"}, json={}))
    started = time.monotonic()
    with pytest.raises(RateLimitedError) as caught:
        client(handler, Retries(max_retries=2, backoff=0.001)).add_row(1, "380930000000")
    assert len(seen) == 3
    assert time.monotonic() - started >= 0.4
    assert caught.value.retry_after == pytest.approx(0.2)


def test_network_errors_are_retried_and_then_raised_as_transport_errors() -> None:
    handler, seen = scripted(httpx.ConnectError("refused"))
    with pytest.raises(TransportError) as caught:
        client(handler).add_row(1, "380930000000")
    assert caught.value.code == "connect_error"
    assert caught.value.status is None
    assert len(seen) == 4


def test_retries_can_be_turned_off() -> None:
    handler, seen = scripted(httpx.Response(503, text="down"))
    with pytest.raises(ServerError):
        client(handler, Retries(0)).add_row(1, "380930000000")
    assert len(seen) == 1


def test_the_key_is_sent_as_the_article_says_and_never_shown() -> None:
    handler, seen = scripted(httpx.Response(200, json={"result": True}))
    sdk = client(handler)
    sdk.add_row(456, "380930000000", "Іван Петренко")
    request = seen[0]
    assert request.url == "https://api.example/power-dialer/campaigns/campaign-rows"
    assert (request.headers["x-project-id"], request.headers["auth-key"]) == ("1", "k")
    body = {"campaignId": 456, "phone_number": "380930000000", "fio": "Іван Петренко"}
    assert json.loads(request.read()) == body
    assert "k" not in repr(sdk).replace("base_url", "")


def test_the_vendor_has_no_limits() -> None:
    handler, _ = scripted(httpx.Response(404, text="<html>Not Found</html>"))
    assert client(handler).detect_limits() is None


def test_the_async_client_wraps_httpx_transports_too() -> None:
    async def main() -> None:
        handler, seen = scripted(httpx.Response(200, json={"result": True}))
        async with AsyncClient(base_url="http://x", transport=httpx.MockTransport(handler)) as c:
            await c.add_row(1, "380930000000")
        assert len(seen) == 1

    asyncio.run(main())


def test_the_throttle_never_lets_more_than_rate_times_window_plus_burst() -> None:
    async def main() -> list[float]:
        throttle = AsyncThrottle(rate=200, burst=4)
        stamps: list[float] = []

        async def take() -> None:
            for _ in range(25):
                await throttle.acquire()
                stamps.append(time.monotonic())

        await asyncio.gather(*(take() for _ in range(8)))
        return sorted(stamps)

    stamps = asyncio.run(main())
    for i in range(len(stamps)):
        for j in range(i + 1, len(stamps)):
            assert j - i + 1 <= 200 * (stamps[j] - stamps[i]) + 4 + 1e-6
    assert stamps[-1] - stamps[0] == pytest.approx((200 - 4) / 200, abs=0.15)


def test_a_hold_pauses_the_sync_throttle() -> None:
    throttle = SyncThrottle()
    throttle.hold(0.2)
    started = time.monotonic()
    throttle.acquire()
    assert time.monotonic() - started >= 0.19

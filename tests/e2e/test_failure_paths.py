"""The compatible endpoint's failure paths over real HTTP (SPEC §3): each answers its status
with ``"result": false`` and an ``error.code``, never a 5xx, and stores nothing."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest

from powerdialer.storage import Store
from tests.conftest import COMPAT, Persona, stored_rows
from tests.e2e.conftest import Server

pytestmark = pytest.mark.e2e

LIMIT = 16 * 1024  # the default POWERDIALER_MAX_BODY_BYTES


@pytest.fixture
def client(server: Server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, trust_env=False, timeout=10) as client:
        yield client


def assert_refused(response: httpx.Response, status: int, code: str) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) == {"result", "error"}
    assert body["result"] is False
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str)
    assert body["error"]["message"]
    return body["error"]  # type: ignore[no-any-return]


def chunked(size: int) -> Iterator[bytes]:
    """A body of ``size`` bytes without Content-Length (sent chunked)."""
    yield b'{"campaignId": 1, "fio": "'
    for _ in range(size // 1024):
        yield b"x" * 1024
    yield b'"}'


def test_each_failure_path_answers_its_status_and_code_and_stores_nothing(
    client: httpx.Client,
    owner: Persona,
    stranger: Persona,
    store: Store,
    subtests: pytest.Subtests,
) -> None:
    json_headers = {**owner.headers, "Content-Type": "application/json"}
    cases: list[tuple[str, str, dict[str, object], int, str]] = [
        (
            "wrong key",
            "POST",
            {"json": owner.row(), "headers": {**owner.headers, "Auth-key": "xxx"}},
            401,
            "invalid_auth_key",
        ),
        (
            "a key of another project",
            "POST",
            {"json": owner.row(), "headers": {**owner.headers, "Auth-key": stranger.key}},
            401,
            "invalid_auth_key",
        ),
        (
            "no key",
            "POST",
            {"json": owner.row(), "headers": {"x-project-id": str(owner.project_id)}},
            401,
            "missing_auth_key",
        ),
        (
            "a campaign of another project",
            "POST",
            {"json": owner.row(campaignId=stranger.campaign_id), "headers": owner.headers},
            404,
            "campaign_not_found",
        ),
        (
            "an invalid phone number",
            "POST",
            {"json": owner.row("12"), "headers": owner.headers},
            422,
            "invalid_phone_number",
        ),
        (
            "malformed JSON",
            "POST",
            {"content": b'{"campaignId": 1,', "headers": json_headers},
            400,
            "malformed_json",
        ),
        (
            "a body over 16 KiB",
            "POST",
            {"json": owner.row(fio="x" * LIMIT), "headers": owner.headers},
            413,
            "body_too_large",
        ),
        (
            "a chunked body over 16 KiB",
            "POST",
            {"content": chunked(2 * LIMIT), "headers": json_headers},
            413,
            "body_too_large",
        ),
        ("GET", "GET", {"headers": owner.headers}, 405, "method_not_allowed"),
    ]
    for name, method, kwargs, status, code in cases:
        with subtests.test(name):
            response = client.request(method, COMPAT, **kwargs)  # type: ignore[arg-type]
            assert response.status_code < 500
            assert_refused(response, status, code)
            if status == 405:
                assert response.headers["allow"] == "POST"
    # After every refusal the connection pool still works, and nothing was stored.
    assert client.post(COMPAT, json=owner.row(), headers=owner.headers).json() == {"result": True}
    assert len(stored_rows(store, owner)) == 1
    assert stored_rows(store, stranger) == []


def test_another_projects_campaign_answers_exactly_like_a_missing_one(
    client: httpx.Client, owner: Persona, stranger: Persona, store: Store
) -> None:
    missing_id = stranger.campaign_id + 1000
    theirs = client.post(
        COMPAT, json=owner.row(campaignId=stranger.campaign_id), headers=owner.headers
    )
    missing = client.post(COMPAT, json=owner.row(campaignId=missing_id), headers=owner.headers)
    assert_refused(theirs, 404, "campaign_not_found")
    assert theirs.headers.keys() == missing.headers.keys()
    assert theirs.text.replace(str(stranger.campaign_id), "N") == missing.text.replace(
        str(missing_id), "N"
    )
    assert stored_rows(store, stranger) == []


def test_a_body_of_exactly_16_kib_is_taken_and_one_byte_more_is_413(
    client: httpx.Client, owner: Persona, store: Store
) -> None:
    row = (
        f'{{"campaignId": {owner.campaign_id}, "fio": "Іван Петренко", '
        '"phone_number": "380930000000"'
    ).encode()
    at_limit = row + b" " * (LIMIT - len(row) - 1) + b"}"
    assert len(at_limit) == LIMIT
    taken = client.post(COMPAT, content=at_limit, headers=owner.headers)
    assert (taken.status_code, taken.json()) == (200, {"result": True})
    over = client.post(COMPAT, content=at_limit[:-1] + b" }", headers=owner.headers)
    assert_refused(over, 413, "body_too_large")
    assert [e164 for _, _, e164 in stored_rows(store, owner)] == ["+380930000000"]


def test_a_number_with_a_nul_character_is_never_a_5xx(
    client: httpx.Client, owner: Persona, store: Store
) -> None:
    # phonenumbers reads "380930000000\u0000" as a valid number; PostgreSQL refuses NUL in
    # text, so the raw number must be stored without it.
    body = f'{{"campaignId": {owner.campaign_id}, "phone_number": "380930000000\\u0000"}}'
    response = client.post(COMPAT, content=body.encode(), headers=owner.headers)
    assert response.status_code < 500, response.text
    stored = [e164 for _, _, e164 in stored_rows(store, owner)]
    if response.json()["result"] is True:
        assert stored == ["+380930000000"]
    else:
        assert_refused(response, 422, "invalid_phone_number")
        assert stored == []


def test_it_answers_429_with_retry_after_when_a_key_is_over_its_rate(
    start_server: Callable[..., Server], owner: Persona, store: Store
) -> None:
    # 0.1 a second: no token comes back while the three requests are made, even on a slow box.
    server = start_server(POWERDIALER_RATE_LIMIT="0.1", POWERDIALER_RATE_LIMIT_BURST="2")
    with httpx.Client(base_url=server.url, trust_env=False, timeout=10) as client:
        answers = [
            client.post(COMPAT, json=owner.row(f"38093000000{i}"), headers=owner.headers)
            for i in range(3)
        ]
    assert [a.status_code for a in answers] == [200, 200, 429]
    error = assert_refused(answers[2], 429, "rate_limited")
    assert error["message"]
    assert int(answers[2].headers["retry-after"]) >= 1
    assert [a.headers["ratelimit-remaining"] for a in answers] == ["1", "0", "0"]
    assert len(stored_rows(store, owner)) == 2

"""Calling the API from a browser page on another origin (CORS): off by default; when
origins are configured, the API (the compatible endpoint included) answers preflights and
exposes its headers to those origins only, and the web UI never takes part."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from powerdialer.settings import Settings, SettingsError
from tests.conftest import COMPAT, Persona, StartApp, client_of

pytestmark = pytest.mark.anyio

CRM = "https://crm.example.com"


def preflight(origin: str, method: str = "POST") -> dict[str, str]:
    return {
        "Origin": origin,
        "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": "auth-key, x-project-id, content-type",
    }


@pytest.fixture
async def cors_client(started_app: StartApp) -> AsyncIterator[httpx.AsyncClient]:
    async with started_app(cors_origins=(CRM,)) as app, client_of(app) as client:
        yield client


async def test_without_configured_origins_no_origin_is_allowed(
    client: httpx.AsyncClient, owner: Persona
) -> None:
    answer = await client.options(COMPAT, headers=preflight(CRM))
    assert "access-control-allow-origin" not in answer.headers
    posted = await client.post(COMPAT, json=owner.row(), headers={**owner.headers, "Origin": CRM})
    assert posted.json() == {"result": True}
    assert "access-control-allow-origin" not in posted.headers


async def test_a_configured_origin_may_call_the_compatible_endpoint(
    cors_client: httpx.AsyncClient, owner: Persona
) -> None:
    answer = await cors_client.options(COMPAT, headers=preflight(CRM))
    assert answer.status_code == 200
    assert answer.headers["access-control-allow-origin"] == CRM
    allowed = {h.strip().lower() for h in answer.headers["access-control-allow-headers"].split(",")}
    assert {"auth-key", "x-project-id", "content-type", "idempotency-key"} <= allowed
    assert "POST" in answer.headers["access-control-allow-methods"]
    assert "access-control-allow-credentials" not in answer.headers  # keys, never cookies
    posted = await cors_client.post(
        COMPAT, json=owner.row(), headers={**owner.headers, "Origin": CRM}
    )
    assert posted.json() == {"result": True}
    assert posted.headers["access-control-allow-origin"] == CRM


async def test_the_richer_api_exposes_its_limit_headers_to_the_page(
    cors_client: httpx.AsyncClient, owner: Persona
) -> None:
    answer = await cors_client.get(
        "/power-dialer/campaigns", headers={**owner.headers, "Origin": CRM}
    )
    assert answer.status_code == 200
    assert answer.headers["access-control-allow-origin"] == CRM
    exposed = answer.headers["access-control-expose-headers"].lower()
    assert "ratelimit-remaining" in exposed
    assert "retry-after" in exposed


async def test_an_error_answer_reaches_the_page_too(
    cors_client: httpx.AsyncClient, owner: Persona
) -> None:
    answer = await cors_client.post(
        COMPAT, json=owner.row(), headers={"x-project-id": "1", "Auth-key": "wrong", "Origin": CRM}
    )
    assert answer.status_code == 401
    assert answer.headers["access-control-allow-origin"] == CRM  # so the page can read why


async def test_another_origin_is_refused(cors_client: httpx.AsyncClient, owner: Persona) -> None:
    answer = await cors_client.options(COMPAT, headers=preflight("https://evil.example"))
    assert answer.status_code == 400
    assert "access-control-allow-origin" not in answer.headers
    posted = await cors_client.post(
        COMPAT, json=owner.row(), headers={**owner.headers, "Origin": "https://evil.example"}
    )
    assert "access-control-allow-origin" not in posted.headers


async def test_the_web_ui_never_answers_cross_origin(cors_client: httpx.AsyncClient) -> None:
    answer = await cors_client.options("/login", headers=preflight(CRM))
    assert "access-control-allow-origin" not in answer.headers
    page = await cors_client.get("/login", headers={"Origin": CRM})
    assert "access-control-allow-origin" not in page.headers


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("", ()),
        ("https://crm.example.com", ("https://crm.example.com",)),
        (
            " https://a.example/ , http://localhost:8080",
            ("https://a.example", "http://localhost:8080"),
        ),
        ("*", ("*",)),
    ],
)
def test_origins_are_read_from_the_environment(raw: str, expected: tuple[str, ...]) -> None:
    settings = Settings.from_env({"POWERDIALER_CORS_ORIGINS": raw})
    assert settings.cors_origins == expected


@pytest.mark.parametrize(
    "raw", ["crm.example.com", "https://crm.example.com/app", "ftp://x.example"]
)
def test_a_value_that_is_no_origin_is_refused_naming_the_variable(raw: str) -> None:
    with pytest.raises(SettingsError, match="POWERDIALER_CORS_ORIGINS"):
        Settings.from_env({"POWERDIALER_CORS_ORIGINS": raw})

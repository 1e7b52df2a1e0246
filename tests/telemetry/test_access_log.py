"""``POWERDIALER_LOG_FORMAT=json``: one JSON line per request on ``powerdialer.access``,
carrying the answer's request id and the verified key's project, and nothing a caller
sent: no header, key, query string or body."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conftest import COMPAT, Persona, StartApp, client_of

pytestmark = pytest.mark.anyio


def lines(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    return [json.loads(r.getMessage()) for r in caplog.records if r.name == "powerdialer.access"]


async def test_one_json_line_per_request_with_its_request_id_and_no_secrets(
    started_app: StartApp, owner: Persona, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO", logger="powerdialer.access")
    secret_fio = "Секретна Особа"
    async with started_app(log_format="json") as app, client_of(app) as client:
        stored = await client.post(
            COMPAT + "?token=query-secret",
            json=owner.row("380931234567", fio=secret_fio),
            headers={**owner.headers, "Cookie": "session=cookie-secret"},
        )
        assert stored.json() == {"result": True}
        lease = await client.post(
            "/power-dialer/leases/77/outcome",
            json={"operator_id": 1, "outcome": "no_answer"},
            headers=owner.headers,
        )
        assert lease.status_code == 404
        stranger = await client.get("/power-dialer/campaigns", headers={"Auth-key": "wrong"})
        assert stranger.status_code == 401
        assert (await client.get("/metrics")).status_code == 404  # metrics stay off
    found = lines(caplog)
    assert len(found) == 4
    first, second, third, _ = found
    assert first["request_id"] == stored.headers["x-request-id"]
    assert first["method"] == "POST"
    assert first["route"] == COMPAT
    assert first["status"] == 200
    assert first["project_id"] == owner.project_id
    assert isinstance(first["latency_ms"], float | int)
    assert first["latency_ms"] >= 0
    assert first["time"].endswith("Z")
    assert set(first) == {
        "time",
        "request_id",
        "method",
        "route",
        "status",
        "latency_ms",
        "project_id",
    }
    assert second["route"] == "/power-dialer/leases/{lease_id}/outcome"
    assert second["status"] == 404
    assert second["request_id"] == lease.headers["x-request-id"]
    assert "project_id" not in third  # no key verified
    assert third["status"] == 401
    text = "\n".join(r.getMessage() for r in caplog.records)
    for secret in (owner.key, secret_fio, "380931234567", "query-secret", "cookie-secret"):
        assert secret not in text

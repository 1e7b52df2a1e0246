"""What the dialer's tests share: operators, rows, an always-open window, the API's calls."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
from sqlalchemy import Connection, insert, update

from powerdialer.accounts.models import Role
from powerdialer.storage import Store
from powerdialer.storage.schema import campaign_rows, memberships, users
from tests.conftest import Persona

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ALWAYS = {"profile": "custom", "days": {day: ["00:00-24:00"] for day in DAYS}}
# Wednesday 2 December 2026, 10:00 in Kyiv (UTC+2): inside every shipped profile's hours.
WEDNESDAY_10_KYIV = dt.datetime(2026, 12, 2, 8, 0, tzinfo=dt.UTC)


def operator(store: Store, persona: Persona, name: str) -> int:
    """A project member with the operator role (straight into the tables: hashing a real
    password costs ~0.1 s, and the stress tests make hundreds)."""
    now = dt.datetime.now(dt.UTC)

    def run(conn: Connection) -> int:
        user_id = conn.execute(
            insert(users)
            .values(
                email=f"{name}.{persona.project_id}@example.com",
                password_hash="!",
                name=name,
                created_at=now,
                password_changed_at=now,
            )
            .returning(users.c.id)
        ).scalar_one()
        conn.execute(
            insert(memberships).values(
                project_id=persona.project_id,
                user_id=user_id,
                role=Role.OPERATOR.value,
                created_at=now,
            )
        )
        return int(user_id)

    return store.write(run)


async def add_rows(client: httpx.AsyncClient, persona: Persona, *phones: str) -> None:
    for phone in phones:
        answer = await client.post(
            "/power-dialer/campaigns/campaign-rows",
            json=persona.row(phone),
            headers=persona.headers,
        )
        assert answer.json() == {"result": True}, answer.text


def due_at(store: Store, when: dt.datetime) -> None:
    """Every row due from ``when`` (rows are stored with the real time; tests run on a set one)."""
    store.write(lambda conn: conn.execute(update(campaign_rows).values(next_attempt_at=when)))


async def set_rules(
    client: httpx.AsyncClient, persona: Persona, campaign_id: int | None = None, **rules: Any
) -> httpx.Response:
    rules.setdefault("hours", ALWAYS)
    answer = await client.put(
        f"/power-dialer/campaigns/{campaign_id or persona.campaign_id}/dialer/rules",
        json=rules,
        headers=persona.headers,
    )
    return answer


async def next_for(
    client: httpx.AsyncClient, persona: Persona, operator_id: int, campaign_id: int | None = None
) -> dict[str, Any]:
    answer = await client.post(
        f"/power-dialer/campaigns/{campaign_id or persona.campaign_id}/dialer/next",
        json={"operator_id": operator_id},
        headers=persona.headers,
    )
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


async def outcome(
    client: httpx.AsyncClient,
    persona: Persona,
    lease_id: int,
    operator_id: int,
    code: str,
    **extra: Any,
) -> httpx.Response:
    return await client.post(
        f"/power-dialer/leases/{lease_id}/outcome",
        json={"operator_id": operator_id, "outcome": code, **extra},
        headers=persona.headers,
    )

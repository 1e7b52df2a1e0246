"""``{"result": true}`` means durably stored (SPEC §3): kill -9 the server while a client is
filling a campaign over 16 connections, restart it on the same database, and every acknowledged
row is there, none twice; re-sending what was not acknowledged then completes the campaign."""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field

import httpx
import pytest

from tests.conftest import COMPAT, Persona
from tests.e2e.conftest import Server, rows_via_cli

pytestmark = [pytest.mark.e2e, pytest.mark.anyio]

CONNECTIONS = 16
KILL_AFTER = 300  # acknowledgements before the kill
CRASHES = 2


@dataclass
class Fill:
    acknowledged: list[str] = field(default_factory=list)
    unanswered: list[str] = field(default_factory=list)  # sent, but no answer came back
    in_flight_at_kill: int = 0


async def fill(
    server: Server, persona: Persona, numbers: list[str], *, kill_after: int | None = None
) -> Fill:
    """Send ``numbers`` over CONNECTIONS connections; once ``kill_after`` rows are acknowledged,
    SIGKILL the server with the other requests still in flight.  Only a 200 with
    ``{"result": true}`` counts as acknowledged; connection errors after the kill are expected."""
    outcome = Fill()
    pending = iter(numbers)
    in_flight = 0
    killed = False
    limits = httpx.Limits(max_connections=CONNECTIONS, max_keepalive_connections=CONNECTIONS)
    async with httpx.AsyncClient(
        base_url=server.url, trust_env=False, timeout=20, limits=limits
    ) as client:

        async def worker() -> None:
            nonlocal in_flight, killed
            for number in pending:
                if killed:
                    return
                in_flight += 1
                try:
                    response = await client.post(
                        COMPAT, json=persona.row(number), headers=persona.headers
                    )
                except httpx.TransportError:
                    if not killed:
                        raise
                    outcome.unanswered.append(number)
                    return
                finally:
                    in_flight -= 1
                assert response.status_code == 200, response.text
                assert response.json() == {"result": True}
                outcome.acknowledged.append(number)
                if (
                    kill_after is not None
                    and not killed
                    and len(outcome.acknowledged) >= kill_after
                ):
                    killed = True
                    outcome.in_flight_at_kill = in_flight
                    server.kill9()

        await asyncio.gather(*(worker() for _ in range(CONNECTIONS)))
    return outcome


def stored_numbers(server: Server, persona: Persona) -> Counter[str]:
    """The campaign's numbers, read by a separate process (the CLI) after the crash."""
    rows = rows_via_cli(server.database_url, persona.campaign_id)
    return Counter(row["phone_e164"] for row in rows)


async def test_every_acknowledged_row_survives_a_kill_9_and_none_is_stored_twice(
    server: Server, owner: Persona
) -> None:
    numbers = [f"38067{i:07d}" for i in range(CRASHES * KILL_AFTER * 3)]
    acknowledged: set[str] = set()
    sent: set[str] = set()
    unacknowledged: list[str] = []
    for crash in range(CRASHES):
        todo = numbers[crash * KILL_AFTER * 3 : (crash + 1) * KILL_AFTER * 3]
        outcome = await fill(server, owner, todo, kill_after=KILL_AFTER)
        assert server.proc is not None
        assert server.proc.returncode == -9
        assert outcome.in_flight_at_kill > 0, "the kill should hit requests in flight"
        assert len(outcome.acknowledged) >= KILL_AFTER
        acknowledged.update(outcome.acknowledged)
        sent.update(outcome.acknowledged, outcome.unanswered)
        unacknowledged.extend(outcome.unanswered)

        server.restart()
        stored = stored_numbers(server, owner)
        assert not {n for n, count in stored.items() if count > 1}, "a number stored twice"
        missing = {f"+{n}" for n in acknowledged} - set(stored)
        assert not missing, f"{len(missing)} acknowledged rows lost in crash {crash + 1}"
        assert set(stored) <= {f"+{n}" for n in sent}, "a row stored that was never sent"

    # A resumable client re-sends what got no answer: each lands once, none is doubled.
    outcome = await fill(server, owner, unacknowledged)
    assert sorted(outcome.acknowledged) == sorted(unacknowledged)
    assert stored_numbers(server, owner) == Counter({f"+{n}": 1 for n in sent})


# An import killed mid-way is resumed by the restarted instance (or another one):
# tests/e2e/test_fleet_imports.py.

"""The framework-free edge for next and outcome (``web/dialer_edge.py``) answers exactly as
the FastAPI routes do: the same script of calls — the ordinary ones and every kind of bad
one — runs once through the edge (one project) and once with the edge switched off (another
project), and the two transcripts are equal once each id is replaced by its order of first
appearance."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from powerdialer import projects
from powerdialer.models import MAX_ID
from powerdialer.storage import Store
from powerdialer.storage.schema import attempts, leases
from powerdialer.web import dialer_edge
from powerdialer.web.app import PowerDialerApp
from tests.clock import Clock
from tests.conftest import Persona
from tests.dialer.helpers import WEDNESDAY_10_KYIV, add_rows, due_at, operator, set_rules

pytestmark = pytest.mark.anyio

_IDS = {"lease_id", "id", "row_id", "attempt_id", "campaign_id", "operator_id"}
NEVER = re.compile(r"(?!)")


def masked(value: Any, seen: dict[tuple[str, int], int], key: str = "") -> Any:
    """``value`` with every id replaced by its order of first appearance under its key, and
    the numbers in error messages (ids too) by ``N``."""
    if isinstance(value, dict):
        return {k: masked(v, seen, k) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [masked(v, seen, key) for v in value]
    if key in _IDS and isinstance(value, int):
        return f"{key}#{seen.setdefault((key, value), len(seen))}"
    if key == "message" and isinstance(value, str):  # "lease 31 is operator 7's, not 8's"
        return re.sub(r"\d+", "N", value)
    return value


async def script(client: httpx.AsyncClient, persona: Persona, store: Store) -> list[Any]:
    anna, boris = operator(store, persona, "anna"), operator(store, persona, "boris")
    await add_rows(client, persona, "380930000001", "380930000002", "380930000003")
    assert (await set_rules(client, persona)).status_code == 200
    due_at(store, WEDNESDAY_10_KYIV)
    camp, head = persona.campaign_id, persona.headers
    nxt = f"/power-dialer/campaigns/{camp}/dialer/next"
    seen: dict[tuple[str, int], int] = dict.fromkeys((("campaign_id", camp),), 0)
    seen.update({("operator_id", anna): 1, ("operator_id", boris): 2})
    calls: list[tuple[str, dict[str, Any]]] = [
        ("/power-dialer/campaigns/999999999/dialer/next", {"json": {"operator_id": anna}}),
        (f"/power-dialer/campaigns/{MAX_ID + 1}/dialer/next", {"json": {"operator_id": anna}}),
        (nxt, {"json": {"operator_id": 0}}),
        (nxt, {"json": {"operator_id": anna, "extra": 1}}),
        (nxt, {"json": [anna]}),
        (nxt, {"content": b"{nope", "headers": {"content-type": "application/json"}}),
        (nxt, {"content": b'{"operator_id": 1}', "headers": {"content-type": "text/plain"}}),
        (nxt, {"content": b'{"operator_id": 1e400}'}),
        (nxt, {"json": {"operator_id": 987654321}}),
        (nxt, {"json": {"operator_id": anna}}),
        (nxt, {"json": {"operator_id": anna}}),  # resumed
        (nxt, {"json": {"operator_id": boris}}),
    ]
    transcript: list[Any] = []

    async def call(path: str, options: dict[str, Any]) -> Any:
        options = {**options, "headers": {**head, **options.get("headers", {})}}
        answer = await client.post(path, **options)
        body = answer.json()
        transcript.append(
            (path.split("/")[-1], answer.status_code, answer.headers["content-type"], body)
        )
        return body

    for path, options in calls:
        await call(path, options)
    lease_a, lease_b = (
        transcript[-3][3]["lease"]["lease_id"],
        transcript[-1][3]["lease"]["lease_id"],
    )
    out_a, out_b = (f"/power-dialer/leases/{n}/outcome" for n in (lease_a, lease_b))
    for path, options in [
        (out_a, {"json": {"operator_id": anna, "outcome": "no_such_outcome"}}),
        (out_a, {"json": {"operator_id": anna, "outcome": "callback"}}),
        (out_a, {"json": {"operator_id": anna, "outcome": "skip"}}),
        (out_a, {"json": {"operator_id": boris, "outcome": "busy"}}),
        (out_a, {"content": b'{"operator_id": %d, "outcome": "busy", "note": "\\ud800"}' % anna}),
        (out_a, {"json": {"operator_id": anna, "outcome": "busy", "duration_seconds": -1}}),
        (out_a.replace(str(lease_a), "999999999"), {"json": {"operator_id": anna, "outcome": "x"}}),
        (out_a, {"json": {"operator_id": anna, "outcome": "no_answer", "duration_seconds": 25}}),
        (out_a, {"json": {"operator_id": anna, "outcome": "no_answer"}}),  # ended
        (out_b, {"json": {"operator_id": boris, "outcome": "callback", "note": "після обіду",
                          "callback_at": "2026-12-02T14:00:00+02:00",
                          "callback_scope": "personal"}}),
        (nxt, {"json": {"operator_id": anna}}),
    ]:  # fmt: skip
        await call(path, options)
    return [masked(entry, seen) for entry in transcript]


async def test_the_edge_answers_as_the_routes_do(
    app: PowerDialerApp,
    client: httpx.AsyncClient,
    owner: Persona,
    stranger: Persona,
    store: Store,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app.services.clock = Clock(start=WEDNESDAY_10_KYIV).now
    through_edge = await script(client, owner, store)
    answered = app.dialer_edge.answered
    assert answered >= 10  # the ordinary calls and the domain errors: not handed on
    monkeypatch.setattr(dialer_edge, "NEXT", NEVER)
    monkeypatch.setattr(dialer_edge, "OUTCOME", NEVER)
    app.services.clock = Clock(start=WEDNESDAY_10_KYIV).now
    through_routes = await script(client, stranger, store)
    assert app.dialer_edge.answered == answered  # the second run never touched the edge
    assert through_edge == through_routes
    statuses = [entry[1] for entry in through_edge]
    assert statuses.count(200) == 6
    assert {404, 409, 422} <= set(statuses)


async def test_the_edge_still_needs_the_key(
    app: PowerDialerApp, client: httpx.AsyncClient, owner: Persona
) -> None:
    answer = await client.post(
        f"/power-dialer/campaigns/{owner.campaign_id}/dialer/next",
        json={"operator_id": 1},
        headers={"x-project-id": str(owner.project_id), "Auth-key": "wrong"},
    )
    assert answer.status_code in (401, 403)
    assert app.dialer_edge.answered == 0


async def test_a_revoked_key_is_refused_at_once_though_the_cache_holds_it(
    app: PowerDialerApp, client: httpx.AsyncClient, owner: Persona, store: Store
) -> None:
    """next and outcome verify their key through the cache; the lease's and the outcome's
    transaction check it again, so revoking works at once, as the docs promise."""
    app.services.clock = Clock(start=WEDNESDAY_10_KYIV).now
    anna = operator(store, owner, "anna")
    await add_rows(client, owner, "380930000001", "380930000002")
    assert (await set_rules(client, owner)).status_code == 200
    due_at(store, WEDNESDAY_10_KYIV)
    nxt = f"/power-dialer/campaigns/{owner.campaign_id}/dialer/next"
    first = await client.post(nxt, json={"operator_id": anna}, headers=owner.headers)
    assert first.status_code == 200  # the key is in the verifier's cache now
    lease_id = first.json()["lease"]["lease_id"]
    projects.revoke_key(store, owner.project_id, owner.key.split("_")[1])
    for path, body in [
        (f"/power-dialer/leases/{lease_id}/outcome", {"operator_id": anna, "outcome": "busy"}),
        (nxt, {"operator_id": anna}),
    ]:
        answer = await client.post(path, json=body, headers=owner.headers)
        assert answer.status_code == 401, answer.text
        assert answer.json()["error"]["code"] == "invalid_auth_key"
    stored = store.read(lambda conn: conn.execute(select(attempts.c.id)).all())
    assert stored == []  # the outcome was not recorded
    assert store.read(lambda conn: conn.execute(select(leases.c.id)).all()) == [(lease_id,)]

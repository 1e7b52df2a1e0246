"""What a lease now reads through caches and indexes, on a set clock: a campaign's rules
worked out once per version (a change applies at the next lease), run-out leases found
through their partial index among leases still running, "why is nothing dialing?" judging
rows never called once per set of zones."""

from __future__ import annotations

import httpx
import pytest

from powerdialer.dialer.explain import explain
from powerdialer.storage import Store
from powerdialer.web.app import PowerDialerApp
from tests.clock import Clock
from tests.conftest import Persona
from tests.dialer.helpers import (
    WEDNESDAY_10_KYIV,
    add_rows,
    due_at,
    next_for,
    operator,
    outcome,
    set_rules,
)

pytestmark = pytest.mark.anyio
AT_ONCE = {"no_answer": {"delay_minutes": 0}}


@pytest.fixture
def at_ten(app: PowerDialerApp, store: Store) -> Clock:
    clock = Clock(start=WEDNESDAY_10_KYIV)
    app.services.clock = clock.now
    return clock


async def test_a_changed_cap_applies_at_the_next_lease(
    client: httpx.AsyncClient, owner: Persona, store: Store, at_ten: Clock
) -> None:
    anna = operator(store, owner, "anna")
    await add_rows(client, owner, "380930000001")
    due_at(store, at_ten.now())
    assert (await set_rules(client, owner, number_caps={"per_day": 1}, retry=AT_ONCE)).is_success
    lease = (await next_for(client, owner, anna))["lease"]
    assert (await outcome(client, owner, lease["lease_id"], anna, "no_answer")).is_success
    at_ten.advance(seconds=60)
    assert (await next_for(client, owner, anna))["none"]["code"] == "nothing_callable"
    assert (await set_rules(client, owner, number_caps={"per_day": 2}, retry=AT_ONCE)).is_success
    again = await next_for(client, owner, anna)
    assert again["contact"]["phone_e164"] == "+380930000001"
    assert (await outcome(client, owner, again["lease"]["lease_id"], anna, "no_answer")).is_success
    at_ten.advance(seconds=60)
    assert (await next_for(client, owner, anna))["none"]["code"] == "nothing_callable"


async def test_a_changed_window_applies_at_the_next_lease(
    client: httpx.AsyncClient, owner: Persona, store: Store, at_ten: Clock
) -> None:
    anna = operator(store, owner, "anna")
    await add_rows(client, owner, "380930000001")
    due_at(store, at_ten.now())
    evenings = {"profile": "custom", "days": {"wed": ["18:00-20:00"]}}
    assert (await set_rules(client, owner, hours=evenings)).is_success
    assert (await next_for(client, owner, anna))["none"]["code"] == "nothing_callable"
    mornings = {"profile": "custom", "days": {"wed": ["09:00-12:00"]}}  # 10:00 in Kyiv: open
    assert (await set_rules(client, owner, hours=mornings)).is_success
    assert (await next_for(client, owner, anna))["contact"]["phone_e164"] == "+380930000001"


async def test_a_run_out_lease_is_found_among_leases_still_running(
    client: httpx.AsyncClient, owner: Persona, store: Store, at_ten: Clock
) -> None:
    anna, boris, clara, dan = (operator(store, owner, n) for n in ("anna", "boris", "clara", "dan"))
    await add_rows(client, owner, "380930000001", "380930000002", "380930000003")
    due_at(store, at_ten.now())
    assert (await set_rules(client, owner)).is_success
    held = {who: await next_for(client, owner, who) for who in (anna, boris, clara)}
    at_ten.advance(seconds=300)
    for who in (boris, clara):  # theirs run on; anna's runs out at 10:10
        renewed = await client.post(
            f"/power-dialer/leases/{held[who]['lease']['lease_id']}/renew",
            json={"operator_id": who},
            headers=owner.headers,
        )
        assert renewed.is_success, renewed.text
    at_ten.advance(seconds=299)
    assert (await next_for(client, owner, dan))["lease"] is None  # 10:09:59: none ran out
    at_ten.advance(seconds=1)
    taken = await next_for(client, owner, dan)
    assert taken["contact"]["phone_e164"] == held[anna]["contact"]["phone_e164"]


async def test_rows_of_one_zone_called_or_not_are_counted_apart(
    client: httpx.AsyncClient, owner: Persona, store: Store, at_ten: Clock
) -> None:
    anna = operator(store, owner, "anna")
    await add_rows(client, owner, "380930000001", "380930000002", "380930000003")
    due_at(store, at_ten.now())
    rules = {"number_caps": {"per_day": 1}, "retry": AT_ONCE}
    assert (await set_rules(client, owner, **rules)).is_success
    lease = (await next_for(client, owner, anna))["lease"]
    assert (await outcome(client, owner, lease["lease_id"], anna, "no_answer")).is_success
    found = explain(store, owner.project_id, owner.campaign_id, at_ten.now())
    assert found.counts["capped"] == 1
    assert found.counts["callable_now"] == 2

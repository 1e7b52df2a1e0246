""" "Why is nothing dialing?": the explanation's counts equal a brute-force recount of a random
1,000-row campaign, made here without the dialer's own judgement (zoneinfo minute checks,
counting the history by hand)."""

from __future__ import annotations

import datetime as dt
import functools
import random
from zoneinfo import ZoneInfo

import httpx
import phonenumbers
import pytest
from phonenumbers import timezone as number_zones
from sqlalchemy import insert, select

from powerdialer.storage import Store
from powerdialer.storage.dnc import add_entry
from powerdialer.storage.schema import attempts, campaign_rows, dnc_numbers
from tests.conftest import Persona
from tests.dialer.helpers import WEDNESDAY_10_KYIV, operator

pytestmark = pytest.mark.anyio

NOW = WEDNESDAY_10_KYIV
# Numbers whose zones differ: Kyiv, New York, Los Angeles, a US toll-free number (many zones
# from Guam to Hawaii: no common hour), a Russian mobile (16 zones), Paris.
NUMBERS = [
    "+38093{:07d}",
    "+1212555{:04d}",
    "+1310555{:04d}",
    "+1800555{:04d}",
    "+7912{:07d}",
    "+3361234{:04d}",
]
ZONES = [None, None, None, None, None, None, "Asia/Tokyo", "America/Chicago"]


@functools.cache
def zones_of(phone: str, tz: str | None) -> tuple[str, ...]:
    if tz:
        return (tz,)
    found = number_zones.time_zones_for_number(phonenumbers.parse(phone))
    return tuple(sorted(set(found) - {"Etc/Unknown"})) or ("Europe/Kyiv",)


def open_at(zones: tuple[str, ...], when: dt.datetime) -> bool:
    """The test's window, checked by hand: 10:00-13:00 local in every zone (three hours: a
    Russian mobile's zones, ten hours apart, share none)."""
    return all(10 <= when.astimezone(ZoneInfo(z)).hour < 13 for z in zones)


@functools.cache
def ever_open(zones: tuple[str, ...], start: dt.datetime) -> bool:
    step = dt.timedelta(minutes=15)
    return any(open_at(zones, start + step * i) for i in range(14 * 24 * 4))


async def test_the_counts_equal_a_brute_force_recount(
    client: httpx.AsyncClient, owner: Persona, store: Store
) -> None:
    days = {d: ["10:00-13:00"] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    rules = {"hours": {"profile": "custom", "days": days}, "number_caps": {"per_day": 2}}
    put = await client.put(
        f"/power-dialer/campaigns/{owner.campaign_id}/dialer/rules",
        json=rules,
        headers=owner.headers,
    )
    assert put.status_code == 200, put.text
    anna = operator(store, owner, "anna")
    rnd = random.Random(12)
    expected = dict.fromkeys(
        (
            "callable_now",
            "leased",
            "outside_hours",
            "no_common_window",
            "cooling_down",
            "capped",
            "do_not_call",
            "final",
        ),
        0,
    )

    def build(conn: object) -> None:
        for n in range(1000):
            phone = rnd.choice(NUMBERS).format(n)
            tz = rnd.choice(ZONES)
            kind = rnd.random()
            values = {
                "project_id": owner.project_id,
                "campaign_id": owner.campaign_id,
                "fio": None,
                "phone_raw": phone,
                "phone_e164": phone,
                "source": "api",
                "tz": tz,
                "created_at": NOW,
                "updated_at": NOW,
                "next_attempt_at": NOW - dt.timedelta(hours=1),
            }
            if kind < 0.1:
                values.update(status="final", final_state="contact_reached")
            elif kind < 0.2:
                values.update(next_attempt_at=NOW + dt.timedelta(minutes=rnd.randint(1, 90)))
            elif kind < 0.25:
                values.update(status="leased", lease_expires_at=NOW + dt.timedelta(minutes=5))
            elif kind < 0.28:
                values.update(status="leased", lease_expires_at=NOW - dt.timedelta(minutes=5))
            row_id = conn.execute(  # type: ignore[attr-defined]
                insert(campaign_rows).values(**values).returning(campaign_rows.c.id)
            ).scalar_one()
            if 0.28 <= kind < 0.33:
                add_entry(conn, owner.project_id, phone, source="api", now=NOW)  # type: ignore[arg-type]
            calls = rnd.choice([0, 0, 0, 1, 2, 3]) if kind >= 0.33 else 0
            for i in range(calls):
                conn.execute(  # type: ignore[attr-defined]
                    insert(attempts).values(
                        project_id=owner.project_id,
                        campaign_id=owner.campaign_id,
                        row_id=row_id,
                        operator_id=anna,
                        phone_e164=phone,
                        outcome="busy",
                        counted=True,
                        reached=False,
                        refusal=False,
                        # Some of them yesterday: a per-day cap counts today's only.
                        recorded_at=NOW - dt.timedelta(hours=rnd.choice([1, 2, 30]) + i),
                    )
                )

    store.write(build)

    rows = store.read(lambda c: c.execute(select(campaign_rows)).all())
    history = store.read(lambda c: c.execute(select(attempts)).all())
    listed = set(store.read(lambda c: c.execute(select(dnc_numbers.c.phone_e164)).scalars().all()))
    for row in rows:
        zones = zones_of(row.phone_e164, row.tz)
        day_start = NOW.astimezone(ZoneInfo(zones[0])).replace(hour=0, minute=0, second=0)
        today = sum(
            1 for a in history if a.phone_e164 == row.phone_e164 and a.recorded_at >= day_start
        )
        if row.status == "final":
            expected["final"] += 1
        elif row.phone_e164 in listed:
            expected["do_not_call"] += 1
        elif row.status == "leased" and row.lease_expires_at > NOW:
            expected["leased"] += 1
        elif row.next_attempt_at > NOW:
            expected["cooling_down"] += 1
        elif today >= 2:
            expected["capped"] += 1
        elif not ever_open(zones, NOW):
            expected["no_common_window"] += 1
        elif not open_at(zones, NOW):
            expected["outside_hours"] += 1
        else:
            expected["callable_now"] += 1
    answer = await client.get(
        f"/power-dialer/campaigns/{owner.campaign_id}/dialer/explain",
        params={"at": NOW.isoformat()},
        headers=owner.headers,
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["rows"] == 1000
    assert body["counts"] == expected
    assert all(expected[k] > 0 for k in expected), expected  # every reason is exercised
    assert body["final_states"] == {"contact_reached": expected["final"]}

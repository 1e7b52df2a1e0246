"""Random timelines on a set clock drive the queue's and the wrap-up's apply functions directly
(no HTTP), and every lease handed out is checked against the history, recomputed here without
``dialer.assess``: never before the row's due time, never past ``max_attempts``, an outcome's
retry count, the number's per-day or rolling cap, never inside the minimum gap since the
number's last call, never a number after it was put on the do-not-call list; and when some
row may be called by that reckoning, the queue hands one out.

Each timeline runs in one transaction that is rolled back at its end (hypothesis runs many of
them on one database); rows share numbers (kept duplicates), so caps per number span rows.
Calling hours stay always open: they are ``dialer.hours``' own tests' business."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection

from powerdialer.dialer import queue, wrapup
from powerdialer.dialer.outcomes import BUILT_IN
from powerdialer.dialer.rules import dump_rules, parse_rules
from powerdialer.storage import Store
from powerdialer.storage.dialer_admin import set_rules
from powerdialer.storage.dnc import add_entry
from tests.conftest import PG_URL, Persona
from tests.dialer.helpers import ALWAYS, WEDNESDAY_10_KYIV
from tests.dialer.stress_kit import add_operators, insert_rows

KYIV = ZoneInfo("Europe/Kyiv")
# Each example is a timeline of 6 to 40 steps: about 30 s on SQLite here; PostgreSQL pays a
# round trip a statement, so it runs fewer.
EXAMPLES = 300 if PG_URL else 700
EDGES = sorted({e + d for e in (60, 300, 600, 1800, 3600, 5400, 86_400) for d in (-1, 0, 1)})
NUMBERS = ("+380930000001", "+380930000002", "+380930000003")
RETRIED = ("no_answer", "busy", "voicemail", "failed", "skip")
FINAL = ("answered", "wrong_number", "do_not_call", "not_interested")
# Retried outcomes weigh more than final ones, so timelines run long enough to meet caps.
OUTCOMES = (*RETRIED, *RETRIED, *RETRIED, "callback", "callback", *FINAL)

rules_strategy = st.fixed_dictionaries(
    {
        "lease_seconds": st.sampled_from([30, 600]),
        "max_attempts": st.integers(1, 4),
        "min_gap_minutes": st.sampled_from([0, 0, 5, 30, 90]),
        "retry": st.fixed_dictionaries(
            {
                code: st.fixed_dictionaries(
                    {
                        "delay_minutes": st.sampled_from([0, 1, 10, 60]),
                        "max": st.one_of(st.none(), st.integers(1, 3)),
                    }
                )
                for code in RETRIED
            }
        ),
        "number_caps": st.fixed_dictionaries(
            {
                "per_day": st.one_of(st.none(), st.integers(1, 3)),
                "per_span": st.one_of(
                    st.none(),
                    st.fixed_dictionaries({"count": st.integers(1, 3), "hours": st.integers(1, 6)}),
                ),
            }
        ),
    }
)
_STEPS = {
    "lease": st.tuples(st.just("lease"), st.integers(0, 1)),
    "outcome": st.tuples(st.just("outcome"), st.sampled_from(OUTCOMES), st.integers(1, 180)),
    # Waits land on the rules' edges (a minute, the gaps and delays, an hour, a day) and either
    # side of them, or anywhere in two hours.
    "wait": st.tuples(st.just("wait"), st.sampled_from(EDGES) | st.integers(1, 7200)),
    "dnc": st.tuples(st.just("dnc"), st.sampled_from(NUMBERS)),
    # To a second either side of (or at) a time the rules turn on: a row's due time, the end
    # of a number's gap, the next local midnight, the oldest call leaving a rolling window.
    "edge": st.tuples(st.just("edge"), st.integers(0, 63), st.sampled_from([-1, 0, 1])),
}
# A listing is rare (a few numbers are listed soon otherwise, and nothing is left to lease).
_KINDS = ["lease"] * 5 + ["outcome"] * 5 + ["wait"] * 2 + ["edge"] * 3 + ["dnc"]
step_strategy = st.sampled_from(_KINDS).flatmap(_STEPS.__getitem__)


@dataclass
class Row:
    id: int
    phone: str
    due: dt.datetime
    counted: int = 0
    tries: dict[str, int] = field(default_factory=dict)
    final: bool = False


@dataclass
class Model:
    """What the history says, kept here from the rules as written, not from ``Rules``."""

    rules: dict[str, Any]
    rows: dict[int, Row]
    calls: dict[str, list[dt.datetime]] = field(default_factory=dict)  # per number, not skips
    listed: set[str] = field(default_factory=set)

    def refusal(self, row: Row, now: dt.datetime) -> str | None:
        """Why ``row`` may not be called at ``now`` (None: it may)."""
        rules = self.rules
        calls = self.calls.get(row.phone, [])
        if row.final or row.phone in self.listed:
            return "final or listed"
        if now < row.due:
            return "before its due time"
        if row.counted >= rules["max_attempts"]:
            return "max_attempts"
        gap = dt.timedelta(minutes=rules["min_gap_minutes"])
        if gap and calls and now < calls[-1] + gap:
            return "inside the minimum gap"
        per_day = rules["number_caps"]["per_day"]
        today = now.astimezone(KYIV).date()
        if per_day and sum(1 for t in calls if t.astimezone(KYIV).date() == today) >= per_day:
            return "per-day cap"
        span = rules["number_caps"]["per_span"]
        if span:
            since = now - dt.timedelta(hours=span["hours"])
            if sum(1 for t in calls if t > since) >= span["count"]:
                return "rolling cap"
        return None

    def edges(self) -> list[dt.datetime]:
        """The times at which some row's verdict can change, by the rules as written."""
        found = [r.due for r in self.rows.values()]
        span = self.rules["number_caps"]["per_span"]
        for calls in self.calls.values():
            found.append(calls[-1] + dt.timedelta(minutes=self.rules["min_gap_minutes"]))
            found.append(_next_midnight(calls[-1]))
            if span:
                found += [t + dt.timedelta(hours=span["hours"]) for t in calls]
        return sorted(set(found))

    def record(self, row: Row, code: str, now: dt.datetime, callback_at: dt.datetime) -> None:
        """The outcome's effect as docs/dialer.md words it: a final outcome ends the row; a
        callback is due at its time; anything else ends it once ``max_attempts`` or its own
        retry count is used up, else it is due after its retry delay."""
        outcome = BUILT_IN[code]
        if outcome.called:
            self.calls.setdefault(row.phone, []).append(now)
        row.counted += outcome.counts_as_attempt
        row.tries[code] = row.tries.get(code, 0) + 1
        if code == "do_not_call":
            self.listed.add(row.phone)
        if outcome.final_state is not None:
            row.final = True
        elif code == "callback":
            row.due = callback_at
        else:
            retry = self.rules["retry"][code]
            used_up = retry["max"] is not None and row.tries[code] >= retry["max"]
            if (outcome.counts_as_attempt and row.counted >= self.rules["max_attempts"]) or used_up:
                row.final = True
            else:
                row.due = now + dt.timedelta(minutes=retry["delay_minutes"])


def _next_midnight(when: dt.datetime) -> dt.datetime:
    local = when.astimezone(KYIV).date() + dt.timedelta(days=1)
    return dt.datetime.combine(local, dt.time(0), KYIV).astimezone(dt.UTC)


@dataclass
class Held:
    lease_id: int
    row_id: int
    operator: int
    expires: dt.datetime


@pytest.fixture
def world(store: Store, owner: Persona) -> tuple[Store, Persona, list[int]]:
    return store, owner, add_operators(store, owner.project_id, 2)


@contextmanager
def rolled_back(store: Store) -> Iterator[Connection]:
    """One timeline's transaction, undone at its end: the next one starts from nothing."""
    with store.engine.connect() as conn:
        transaction = conn.begin()
        try:
            yield conn
        finally:
            transaction.rollback()


def add_rows(conn: Connection, persona: Persona, phones: list[str], now: dt.datetime) -> Model:
    ids = insert_rows(conn, persona.project_id, persona.campaign_id, phones, now)
    return Model(
        {}, {row_id: Row(row_id, phone, now) for row_id, phone in zip(ids, phones, strict=True)}
    )


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    rules=rules_strategy,
    phones=st.lists(st.sampled_from(NUMBERS), min_size=1, max_size=5),
    steps=st.lists(step_strategy, min_size=6, max_size=40),
)
def test_no_lease_breaks_a_rule_and_a_callable_row_is_always_handed_out(
    world: tuple[Store, Persona, list[int]],
    rules: dict[str, Any],
    phones: list[str],
    steps: list[tuple[Any, ...]],
) -> None:
    store, persona, operators = world
    now = WEDNESDAY_10_KYIV
    with rolled_back(store) as conn:
        text = dump_rules(parse_rules({**rules, "hours": ALWAYS}))
        set_rules(conn, persona.project_id, persona.campaign_id, text, now)
        model = add_rows(conn, persona, phones, now)
        model.rules = rules
        held: list[Held] = []
        current: dict[int, int] = {}  # row id -> its lease now (handed out, not wrapped up)
        for step in steps:
            if step[0] == "wait":
                now += dt.timedelta(seconds=step[1])
            elif step[0] == "edge":
                edges = [e for e in model.edges() if e + dt.timedelta(seconds=step[2]) > now]
                if edges:
                    now = edges[step[1] % len(edges)] + dt.timedelta(seconds=step[2])
            elif step[0] == "dnc":
                add_entry(conn, persona.project_id, step[1], source="api", now=now)
                model.listed.add(step[1])
            elif step[0] == "lease":
                lease(conn, persona, operators[step[1]], now, model, held, current)
            elif held:
                wrap_up(conn, persona, held[-1], step[1], step[2], now, model, current)


def lease(
    conn: Connection,
    persona: Persona,
    operator: int,
    now: dt.datetime,
    model: Model,
    held: list[Held],
    current: dict[int, int],
) -> None:
    mine = [h for h in held if h.operator == operator and current.get(h.row_id) == h.lease_id]
    holding = [h for h in mine if h.expires > now]
    payload = queue.Lease(persona.project_id, persona.campaign_id, operator, now)
    got = queue.apply_leases(conn, [payload])[0]
    if holding:  # asking again while holding a lease answers that lease
        assert isinstance(got, queue.Leased), got
        assert got.resumed
        assert got.lease_id == holding[0].lease_id
        return
    taken = {h.row_id for h in held if current.get(h.row_id) == h.lease_id and h.expires > now}
    # A number on a call (another row of it leased now) waits for that call to end.
    on_call = {model.rows[row_id].phone for row_id in taken}
    callable_rows = [
        r
        for r in model.rows.values()
        if r.id not in taken and r.phone not in on_call and model.refusal(r, now) is None
    ]
    if not isinstance(got, queue.Leased):
        assert callable_rows == [], f"{got} while {callable_rows} may be called at {now}"
        return
    assert not got.resumed
    row = model.rows[got.row_id]
    assert got.row_id not in taken, "a row handed out while another lease of it runs"
    assert row.phone not in on_call, "a number handed out while it is on another call"
    assert model.refusal(row, now) is None, f"{row} leased at {now}: {model.refusal(row, now)}"
    held.append(Held(got.lease_id, got.row_id, operator, got.expires_at))
    current[got.row_id] = got.lease_id


def wrap_up(
    conn: Connection,
    persona: Persona,
    last: Held,
    code: str,
    minutes: int,
    now: dt.datetime,
    model: Model,
    current: dict[int, int],
) -> None:
    callback_at = now + dt.timedelta(minutes=minutes)
    record = wrapup.Record(
        persona.project_id,
        last.lease_id,
        last.operator,
        code,
        now,
        note="a reason" if code == "skip" else None,
        callback_at=callback_at if code == "callback" else None,
    )
    got = wrapup.apply_records(conn, [wrapup.check_record(record)])[0]
    if current.get(last.row_id) != last.lease_id:  # wrapped up, or the row taken over
        assert getattr(got, "code", None) == "lease_ended", got
        return
    assert isinstance(got, wrapup.Recorded), got
    del current[last.row_id]
    row = model.rows[last.row_id]
    model.record(row, code, now, callback_at)
    assert (got.final_state is not None) == row.final, (got, row)

"""``powerdialer dialer`` on the database: each command's answer as text and --json, one
error each with its exit code, and a project that is not the campaign's seeing nothing.

The CLI uses the real clock: rows are made due a minute ago and every campaign's hours are
always open, so no test depends on the hour the suite runs at."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from sqlalchemy import select

from powerdialer.cli import cli
from powerdialer.models import utcnow
from powerdialer.rows.intake import apply_intakes, prepare_intake
from powerdialer.storage import Store
from powerdialer.storage.schema import attempts, campaign_rows, dnc_numbers
from tests.conftest import Persona
from tests.dialer.helpers import ALWAYS, due_at, next_for, operator

Run = Callable[..., Any]


@pytest.fixture
def dial(database_url: str) -> Run:
    """``dial(persona, "next", 5, "--operator", 7)``: the command's output (parsed JSON with
    ``as_json=True``), asserting its exit code; ``persona=None`` for a command without
    --project (nor a database: ``profiles``)."""
    runner = CliRunner()

    def invoke(
        persona: Persona | None, *args: object, expect: int = 0, as_json: bool = False
    ) -> Any:
        argv = ["dialer", *map(str, args)]
        if persona is not None:
            argv += ["--project", str(persona.project_id), "--database-url", database_url]
        if as_json:
            argv.append("--json")
        result = runner.invoke(cli, argv)
        assert result.exit_code == expect, (result.output, result.exception)
        return json.loads(result.stdout) if as_json and expect == 0 else result.output

    return invoke


def add_rows(store: Store, persona: Persona, *numbers: str) -> None:
    _, key_id, secret = persona.key.split("_", 2)
    items = [
        prepare_intake(persona.project_id, key_id, secret, persona.row(n), "UA") for n in numbers
    ]
    assert store.write(lambda conn: apply_intakes(conn, items)) == [True] * len(numbers)
    due_at(store, utcnow() - dt.timedelta(minutes=1))


def set_rules(dial: Run, persona: Persona, tmp_path: Path, **rules: Any) -> Any:
    rules.setdefault("hours", ALWAYS)
    path = tmp_path / "rules.json"
    path.write_text(json.dumps(rules))
    return dial(persona, "rules", persona.campaign_id, "--set", path)


@pytest.fixture
def ready(dial: Run, store: Store, owner: Persona, tmp_path: Path) -> tuple[int, int, int]:
    """Three operators of the owner's project, two due rows, hours always open."""
    set_rules(dial, owner, tmp_path)
    add_rows(store, owner, "380930000001", "380930000002")
    anna, boris, clara = (operator(store, owner, name) for name in ("anna", "boris", "clara"))
    return anna, boris, clara


def test_next_leases_a_contact_and_the_same_operator_asking_again_gets_that_lease(
    dial: Run, owner: Persona, ready: tuple[int, int, int]
) -> None:
    anna, *_ = ready
    first = dial(owner, "next", owner.campaign_id, "--operator", anna, as_json=True)
    assert set(first) == {"lease", "contact", "none"}
    assert first["none"] is None
    lease, contact = first["lease"], first["contact"]
    assert contact["phone_e164"] == "+380930000001"
    assert contact["zones"] == ["Europe/Kyiv"]
    assert lease["operator_id"] == anna
    assert lease["resumed"] is False
    length = dt.datetime.fromisoformat(lease["expires_at"]) - dt.datetime.fromisoformat(
        lease["leased_at"]
    )
    assert length == dt.timedelta(minutes=10)  # the default lease
    again = dial(owner, "next", owner.campaign_id, "--operator", anna)
    assert f"Lease {lease['lease_id']} (the lease this operator already held)" in again
    assert "+380930000001" in again


def test_next_with_nothing_callable_says_why_and_points_to_explain(
    dial: Run, owner: Persona, ready: tuple[int, int, int]
) -> None:
    anna, boris, clara = ready
    dial(owner, "next", owner.campaign_id, "--operator", anna)
    dial(owner, "next", owner.campaign_id, "--operator", boris)
    text = dial(owner, "next", owner.campaign_id, "--operator", clara)
    assert text.startswith("No contact (nothing_callable)")
    assert f"powerdialer dialer explain --project {owner.project_id} {owner.campaign_id}" in text


def test_pause_hands_out_nothing_until_resume(
    dial: Run, owner: Persona, ready: tuple[int, int, int]
) -> None:
    anna, *_ = ready
    paused = dial(owner, "pause", owner.campaign_id, as_json=True)
    assert paused == {"campaign_id": owner.campaign_id, "dialer_state": "paused"}
    none = dial(owner, "next", owner.campaign_id, "--operator", anna, as_json=True)
    assert none["lease"] is None
    assert none["none"]["code"] == "campaign_paused"
    assert "dialing again" in dial(owner, "resume", owner.campaign_id)
    assert dial(owner, "next", owner.campaign_id, "--operator", anna, as_json=True)["lease"]


def test_a_lease_is_renewed_by_its_operator_only(
    dial: Run, owner: Persona, ready: tuple[int, int, int]
) -> None:
    anna, boris, _ = ready
    lease = dial(owner, "next", owner.campaign_id, "--operator", anna, as_json=True)["lease"]
    renewed = dial(owner, "renew", lease["lease_id"], "--operator", anna, as_json=True)
    assert renewed["lease"]["lease_id"] == lease["lease_id"]
    assert renewed["lease"]["expires_at"] > lease["expires_at"]
    refused = dial(owner, "renew", lease["lease_id"], "--operator", boris, expect=4)
    assert (
        refused.strip() == f"Error: lease {lease['lease_id']} is operator {anna}'s, not {boris}'s."
    )


def test_release_gives_the_row_back_at_once_and_a_released_lease_is_ended(
    dial: Run, store: Store, owner: Persona, ready: tuple[int, int, int]
) -> None:
    anna, boris, _ = ready
    lease = dial(owner, "next", owner.campaign_id, "--operator", anna, as_json=True)
    lease_id = lease["lease"]["lease_id"]
    assert dial(owner, "release", lease_id, "--operator", anna, as_json=True) == {"released": True}
    taken = dial(owner, "next", owner.campaign_id, "--operator", boris, as_json=True)
    assert taken["contact"]["id"] == lease["contact"]["id"]  # its place in the queue kept
    again = dial(owner, "release", lease_id, "--operator", anna, expect=4)
    assert f"lease {lease_id} has ended" in again
    assert store.read(lambda c: c.execute(select(attempts)).all()) == []


def test_skip_records_its_reason_and_needs_one(
    dial: Run, store: Store, owner: Persona, ready: tuple[int, int, int]
) -> None:
    anna, *_ = ready
    lease_id = dial(owner, "next", owner.campaign_id, "--operator", anna, as_json=True)["lease"][
        "lease_id"
    ]
    missing = dial(owner, "skip", lease_id, "--operator", anna, expect=2)
    assert "--reason" in missing
    skipped = dial(
        owner, "skip", lease_id, "--operator", anna, "--reason", "wrong language", as_json=True
    )
    assert skipped["outcome"] == "skip"
    assert skipped["final_state"] is None
    due = dt.datetime.fromisoformat(skipped["next_attempt_at"]) - utcnow()
    assert dt.timedelta(minutes=14) < due <= dt.timedelta(minutes=15)  # the skip delay
    history = store.read(lambda c: c.execute(select(attempts.c.outcome, attempts.c.note)).all())
    assert [tuple(h) for h in history] == [("skip", "wrong language")]
    assert store.read(lambda c: c.execute(select(campaign_rows.c.attempts)).scalars().all()) == [
        0,
        0,
    ]


def test_an_outcome_is_recorded_with_its_note_and_duration(
    dial: Run, store: Store, owner: Persona, ready: tuple[int, int, int]
) -> None:
    anna, *_ = ready
    lease_id = dial(owner, "next", owner.campaign_id, "--operator", anna, as_json=True)["lease"][
        "lease_id"
    ]
    text = dial(
        owner,
        "outcome",
        lease_id,
        "do_not_call",
        "--operator",
        anna,
        "--note",
        "angry",
        "--duration",
        42,
    )
    assert "Recorded do_not_call as attempt" in text
    assert "The row is final: contact_uncallable." in text
    row = store.read(
        lambda c: c.execute(select(attempts.c.note, attempts.c.duration_seconds)).one()
    )
    assert tuple(row) == ("angry", 42)
    listed = store.read(lambda c: c.execute(select(dnc_numbers.c.phone_e164)).scalar_one())
    assert listed == "+380930000001"


def test_a_callback_needs_a_time_with_its_zone_and_comes_back_then(
    dial: Run, owner: Persona, ready: tuple[int, int, int]
) -> None:
    anna, *_ = ready
    lease_id = dial(owner, "next", owner.campaign_id, "--operator", anna, as_json=True)["lease"][
        "lease_id"
    ]
    missing = dial(owner, "outcome", lease_id, "callback", "--operator", anna, expect=2)
    assert "a callback needs callback_at" in missing
    garbled = dial(
        owner,
        "outcome",
        lease_id,
        "callback",
        "--operator",
        anna,
        "--callback-at",
        "tomorrow",
        expect=2,
    )
    assert "callback_at 'tomorrow' is not an ISO 8601 time" in garbled
    when = (utcnow() + dt.timedelta(days=1)).replace(microsecond=0)
    done = dial(
        owner,
        "outcome",
        lease_id,
        "callback",
        "--operator",
        anna,
        "--personal",
        "--callback-at",
        when.isoformat(),
        as_json=True,
    )
    assert dt.datetime.fromisoformat(done["next_attempt_at"]) == when
    assert done["callback_moved"] is False


def test_an_unknown_outcome_is_not_found(
    dial: Run, owner: Persona, ready: tuple[int, int, int]
) -> None:
    anna, *_ = ready
    lease_id = dial(owner, "next", owner.campaign_id, "--operator", anna, as_json=True)["lease"][
        "lease_id"
    ]
    refused = dial(owner, "outcome", lease_id, "sold", "--operator", anna, expect=3)
    assert "outcome sold is neither built in nor one of this project's" in refused


def test_an_operator_who_is_not_a_member_is_not_found(
    dial: Run, store: Store, owner: Persona, stranger: Persona, ready: tuple[int, int, int]
) -> None:
    outsider = operator(store, stranger, "olga")
    refused = dial(owner, "next", owner.campaign_id, "--operator", outsider, expect=3)
    assert f"operator {outsider} is not a member of this project" in refused


def test_history_pages_a_campaign_and_filters_a_row(
    dial: Run, owner: Persona, ready: tuple[int, int, int]
) -> None:
    anna, boris, _ = ready
    rows = []
    for who, code in ((anna, "no_answer"), (boris, "busy")):
        leased = dial(owner, "next", owner.campaign_id, "--operator", who, as_json=True)
        rows.append(leased["contact"]["id"])
        dial(owner, "outcome", leased["lease"]["lease_id"], code, "--operator", who)
    first = dial(owner, "history", owner.campaign_id, "--limit", 1, as_json=True)
    assert [a["outcome"] for a in first["items"]] == ["no_answer"]
    assert set(first["items"][0]) == {
        *("id", "campaign_id", "row_id", "lease_id", "operator_id", "phone_e164", "outcome"),
        *("note", "duration_seconds", "counted", "reached", "final_state", "callback_at"),
        *("leased_at", "recorded_at"),
    }
    rest = dial(owner, "history", owner.campaign_id, "--after", first["next_after"], as_json=True)
    assert [a["outcome"] for a in rest["items"]] == ["busy"]
    assert rest["next_after"] is None
    one_row = dial(owner, "history", owner.campaign_id, "--row", rows[1], as_json=True)
    assert [a["row_id"] for a in one_row["items"]] == [rows[1]]
    table = dial(owner, "history", owner.campaign_id)
    assert "no_answer" in table
    assert "busy" in table


def test_rules_show_every_default_and_set_replaces_them_whole(
    dial: Run, owner: Persona, tmp_path: Path
) -> None:
    shown = json.loads(dial(owner, "rules", owner.campaign_id))
    assert shown["lease_seconds"] == 600
    assert shown["max_attempts"] == 5
    assert shown["retry"]["busy"] == {"delay_minutes": 10, "max": 5}
    stored = json.loads(
        set_rules(dial, owner, tmp_path, max_attempts=2, retry={"busy": {"delay_minutes": 1}})
    )
    assert stored["max_attempts"] == 2
    assert stored["retry"]["busy"] == {"delay_minutes": 1, "max": None}
    assert stored["retry"]["no_answer"] == {"delay_minutes": 60, "max": 3}  # merged over
    assert json.loads(dial(owner, "rules", owner.campaign_id)) == stored
    again = json.loads(set_rules(dial, owner, tmp_path))  # whole: max_attempts is back to 5
    assert again["max_attempts"] == 5


def test_rules_refused_name_the_field_or_say_it_is_not_json(
    dial: Run, owner: Persona, tmp_path: Path
) -> None:
    path = tmp_path / "bad.json"
    path.write_text('{"max_attempts": 0}')
    refused = dial(owner, "rules", owner.campaign_id, "--set", path, expect=2)
    assert refused.startswith("Error: rules.max_attempts:")
    path.write_text("max_attempts: 3")
    garbled = dial(owner, "rules", owner.campaign_id, "--set", path, expect=2)
    assert garbled.startswith("Error: the rules are not JSON")
    assert json.loads(dial(owner, "rules", owner.campaign_id))["max_attempts"] == 5


def test_explain_counts_rows_by_what_decides_them(
    dial: Run, owner: Persona, ready: tuple[int, int, int], tmp_path: Path
) -> None:
    anna, *_ = ready
    dial(owner, "next", owner.campaign_id, "--operator", anna)
    found = dial(owner, "explain", owner.campaign_id, as_json=True)
    assert found["dialing"] == "running"
    assert found["rows"] == 2
    assert {k: v for k, v in found["counts"].items() if v} == {"callable_now": 1, "leased": 1}
    table = dial(owner, "explain", owner.campaign_id)
    assert f"Campaign {owner.campaign_id} at " in table
    assert ": running, 2 rows." in table
    assert "callable_now" in table
    assert "outside_hours" in table
    set_rules(dial, owner, tmp_path, starts_at="2030-01-01T09:00:00+02:00")
    before = dial(owner, "explain", owner.campaign_id, as_json=True)
    assert before["dialing"] == "campaign_not_started"
    at_start = dial(
        owner, "explain", owner.campaign_id, "--at", "2030-01-01T07:00:00", as_json=True
    )
    assert at_start["dialing"] == "running"  # a bare time is UTC: 09:00 in Kyiv
    assert at_start["at"] == "2030-01-01T07:00:00+00:00"
    refused = dial(owner, "explain", owner.campaign_id, "--at", "noon", expect=2)
    assert "at 'noon' is not an ISO 8601 time" in refused


def test_profiles_list_the_hours_profiles(dial: Run) -> None:
    found = dial(None, "profiles", as_json=True)
    default = next(p for p in found if p["code"] == "default")
    assert default["hours"]["days"]["mon"] == ["09:00-20:00"]
    assert set(default) == {
        *("code", "title", "hours", "number_per_day", "number_per_span"),
        *("refusal_cooldown_days", "notes"),
    }
    text = dial(None, "profiles")
    assert "default: " in text
    assert "  hours: mon-sun 09:00-20:00" in text
    ua = {p["code"]: p for p in found}["ua_collections"]
    assert f"  per number: {ua['number_per_day']} calls a day" in text


def test_project_outcomes_are_added_listed_and_deleted(dial: Run, owner: Persona) -> None:
    added = dial(
        owner,
        "outcome-add",
        "sale_closed",
        "Sale closed",
        "--final-state",
        "contact_reached",
        "--reached",
        "--no-attempt",
        "--retry-seconds",
        600,
        as_json=True,
    )
    assert added == {
        "code": "sale_closed",
        "label": "Sale closed",
        "final_state": "contact_reached",
        "reached": True,
        "counts_as_attempt": False,
        "refusal": False,
        "retry_seconds": 600,
        "built_in": False,
    }
    listed = dial(owner, "outcomes", as_json=True)
    assert listed[0]["code"] == "answered"
    assert listed[-1]["code"] == "sale_closed"
    assert "sale_closed" in dial(owner, "outcomes")
    twice = dial(owner, "outcome-add", "sale_closed", "Again", expect=4)
    assert "outcome sale_closed exists already" in twice
    built_in = dial(owner, "outcome-add", "busy", "Busy", expect=2)
    assert "code busy is a built-in outcome" in built_in
    assert dial(owner, "outcome-delete", "sale_closed", as_json=True) == {"deleted": "sale_closed"}
    assert "sale_closed" not in dial(owner, "outcomes")
    gone = dial(owner, "outcome-delete", "sale_closed", expect=3)
    assert "outcome sale_closed is not one of this project's own outcomes" in gone


def test_another_project_sees_and_changes_nothing_of_the_campaign(
    dial: Run, store: Store, owner: Persona, stranger: Persona, ready: tuple[int, int, int]
) -> None:
    anna, *_ = ready
    lease = dial(owner, "next", owner.campaign_id, "--operator", anna, as_json=True)["lease"]
    dial(owner, "outcome-add", "sale_closed", "Sale closed")
    olga = operator(store, stranger, "olga")
    campaign = owner.campaign_id
    not_ours = f"campaignId {campaign} is not a campaign of this project"
    for args in (
        ("next", campaign, "--operator", olga),
        ("history", campaign),
        ("rules", campaign),
        ("pause", campaign),
        ("resume", campaign),
        ("explain", campaign),
    ):
        assert not_ours in dial(stranger, *args, expect=3), args
    for args in (
        ("renew", lease["lease_id"], "--operator", anna),
        ("release", lease["lease_id"], "--operator", anna),
        ("skip", lease["lease_id"], "--operator", anna, "--reason", "x"),
        ("outcome", lease["lease_id"], "answered", "--operator", anna),
    ):
        found = dial(stranger, *args, expect=3)
        assert f"lease {lease['lease_id']} is not a lease of this project" in found, args
    assert "sale_closed" not in dial(stranger, "outcomes")
    dial(stranger, "outcome-delete", "sale_closed", expect=3)
    # The owner's campaign is as it was: dialing, its lease held, its outcome there.
    assert dial(owner, "explain", campaign, as_json=True)["counts"]["leased"] == 1
    assert "sale_closed" in dial(owner, "outcomes")


@pytest.mark.anyio
async def test_the_cli_and_a_running_server_hand_out_different_rows(
    dial: Run,
    store: Store,
    owner: Persona,
    ready: tuple[int, int, int],
    client: httpx.AsyncClient,
) -> None:
    anna, boris, clara = ready
    by_cli = dial(owner, "next", owner.campaign_id, "--operator", anna, as_json=True)
    by_api = await next_for(client, owner, boris)
    every_row = store.read(lambda c: c.execute(select(campaign_rows.c.id)).scalars().all())
    assert {by_cli["contact"]["id"], by_api["contact"]["id"]} == set(every_row)
    assert (await next_for(client, owner, clara))["lease"] is None
    done = dial(
        owner, "outcome", by_cli["lease"]["lease_id"], "answered", "--operator", anna, as_json=True
    )
    assert done["final_state"] == "contact_reached"
    assert (await next_for(client, owner, clara))["lease"] is None  # answered is final

"""``powerdialer dialer …``: what a project's owner sets and reads — a campaign's rules, pause
and resume, "why is nothing dialing?", the hours profiles and the project's outcomes.  The
commands are added to the ``dialer`` group in ``cli/dialer.py``."""

from __future__ import annotations

import datetime as dt
from typing import IO, Any

import click
import orjson

from powerdialer.cli.common import (
    database_option,
    emit_json,
    emit_table,
    friendly_errors,
    json_option,
    project_option,
    store_for,
)
from powerdialer.cli.dialer_output import profiles_json, show_profiles
from powerdialer.dialer import control, explain
from powerdialer.dialer.outcomes import FINAL_STATES, Outcome, new_outcome
from powerdialer.dialer.rules import parse_rules
from powerdialer.errors import ValidationError
from powerdialer.models import utcnow


def parse_time(value: str, field: str) -> dt.datetime:
    """An ISO 8601 time as given (its zone kept; the caller decides what a bare time means)."""
    try:
        return dt.datetime.fromisoformat(value)
    except ValueError:
        raise ValidationError(
            f"{field} {value!r} is not an ISO 8601 time: write it like 2026-12-02T15:00:00+02:00.",
            code="invalid_time",
            field=field,
        ) from None


def _campaign(fn: Any) -> Any:
    return click.argument("campaign_id", type=click.IntRange(min=1))(fn)


@click.command("rules")
@project_option
@_campaign
@click.option(
    "--set",
    "source",
    type=click.File("r", encoding="utf-8"),
    default=None,
    help="Replace the rules whole from this JSON file (- for standard input); what is left "
    "out takes its default.",
)
@database_option
@friendly_errors
def dialer_rules(
    project_id: int, campaign_id: int, source: IO[str] | None, database_url: str
) -> None:
    """Print a campaign's dialing rules as JSON, every default included; with --set, replace
    them (applied from the next lease) and print what is now stored."""
    store = store_for(database_url)
    if source is None:
        rules = control.get_rules(store, project_id, campaign_id)
    else:
        text = source.read()
        try:
            body = orjson.loads(text)
        except orjson.JSONDecodeError as exc:
            raise ValidationError(
                f"the rules are not JSON ({exc}): write one object, e.g. "
                '{"max_attempts": 4, "hours": {"profile": "default"}}.',
                code="invalid_rules",
                field="rules",
            ) from None
        rules = control.set_rules(store, project_id, campaign_id, parse_rules(body))
    emit_json(rules.model_dump(mode="json"))


def _set_dialing(
    project_id: int, campaign_id: int, database_url: str, as_json: bool, state: str
) -> None:
    control.set_dialing(store_for(database_url), project_id, campaign_id, state)
    if as_json:
        emit_json({"campaign_id": campaign_id, "dialer_state": state})
    elif state == control.PAUSED:
        click.echo(
            f"Campaign {campaign_id} is paused: no contact is handed out until "
            f"`powerdialer dialer resume {campaign_id}`; leases already given run their course."
        )
    else:
        click.echo(f"Campaign {campaign_id} is dialing again.")


@click.command("pause")
@project_option
@_campaign
@database_option
@json_option
@friendly_errors
def dialer_pause(project_id: int, campaign_id: int, database_url: str, as_json: bool) -> None:
    """Pause dialing a campaign: no contact is handed out; leases already given run their
    course."""
    _set_dialing(project_id, campaign_id, database_url, as_json, control.PAUSED)


@click.command("resume")
@project_option
@_campaign
@database_option
@json_option
@friendly_errors
def dialer_resume(project_id: int, campaign_id: int, database_url: str, as_json: bool) -> None:
    """Resume dialing a paused campaign."""
    _set_dialing(project_id, campaign_id, database_url, as_json, control.RUNNING)


@click.command("explain")
@project_option
@_campaign
@click.option(
    "--at",
    default=None,
    help="Judge at this ISO 8601 instant instead of now (a time without a zone is UTC), e.g. "
    "the campaign's start.",
)
@database_option
@json_option
@friendly_errors
def dialer_explain(
    project_id: int, campaign_id: int, at: str | None, database_url: str, as_json: bool
) -> None:
    """Why is nothing dialing? Every row counted once under what decides it: callable_now,
    leased, outside_hours, no_common_window, cooling_down, capped, do_not_call, final. Works
    paused or before the start date."""
    when = utcnow()
    if at is not None:
        asked = parse_time(at, "at")
        when = asked.astimezone(dt.UTC) if asked.tzinfo else asked.replace(tzinfo=dt.UTC)
    found = explain.explain(store_for(database_url), project_id, campaign_id, when)
    if as_json:
        emit_json(found)
        return
    click.echo(
        f"Campaign {campaign_id} at {found.at:%Y-%m-%d %H:%M UTC}: {found.dialing}, "
        f"{found.rows} rows."
    )
    emit_table(["reason", "rows"], [(reason, n) for reason, n in found.counts.items()])
    if found.final_states:
        states = ", ".join(f"{state} {n}" for state, n in found.final_states.items())
        click.echo(f"Final: {states}.")
    if found.next_due_at:
        click.echo(f"Next due: {found.next_due_at:%Y-%m-%d %H:%M UTC}.")


@click.command("profiles")
@json_option
def dialer_profiles(as_json: bool) -> None:
    """The calling-hours profiles for rules.hours.profile, with their caps: aids, not legal
    advice."""
    items = profiles_json()
    if as_json:
        emit_json(items)
        return
    show_profiles(items)


@click.command("outcomes")
@project_option
@database_option
@json_option
@friendly_errors
def dialer_outcomes(project_id: int, database_url: str, as_json: bool) -> None:
    """The outcomes an operator can record: the built-in ones, then the project's own."""
    found = control.list_outcomes(store_for(database_url), project_id)
    if as_json:
        emit_json(found)
        return
    emit_table(
        ["code", "label", "final state", "flags", "retry s"],
        [(o.code, o.label, o.final_state, _flags(o), o.retry_seconds) for o in found],
    )


def _flags(outcome: Outcome) -> str:
    flags = [
        ("built in", outcome.built_in),
        ("reached", outcome.reached),
        ("refusal", outcome.refusal),
        ("no attempt", not outcome.counts_as_attempt),
    ]
    return ", ".join(name for name, on in flags if on)


@click.command("outcome-add")
@project_option
@click.argument("code")
@click.argument("label")
@click.option(
    "--final-state",
    type=click.Choice(FINAL_STATES),
    default=None,
    help="The row is final with this state (default: it comes back under the retry rules).",
)
@click.option("--reached", is_flag=True, help="The contact was spoken to.")
@click.option("--no-attempt", is_flag=True, help="It does not use up one of max_attempts.")
@click.option(
    "--refusal",
    is_flag=True,
    help="The contact declined (a refusal cool-down in the rules counts from it).",
)
@click.option(
    "--retry-seconds",
    type=int,
    default=None,
    help="Its own retry delay (the campaign's rules.retry entry for it wins; default 3600).",
)
@database_option
@json_option
@friendly_errors
def dialer_outcome_add(
    project_id: int,
    code: str,
    label: str,
    final_state: str | None,
    reached: bool,
    no_attempt: bool,
    refusal: bool,
    retry_seconds: int | None,
    database_url: str,
    as_json: bool,
) -> None:
    """Add a project outcome CODE (e.g. sale_closed) with the LABEL operators see."""
    outcome = new_outcome(
        code,
        label,
        final_state=final_state,
        reached=reached,
        counts_as_attempt=not no_attempt,
        refusal=refusal,
        retry_seconds=retry_seconds,
    )
    added = control.add_outcome(store_for(database_url), project_id, outcome)
    if as_json:
        emit_json(added)
    else:
        click.echo(f"Added outcome {added.code} ({added.label}) to project {project_id}.")


@click.command("outcome-delete")
@project_option
@click.argument("code")
@database_option
@json_option
@friendly_errors
def dialer_outcome_delete(project_id: int, code: str, database_url: str, as_json: bool) -> None:
    """Delete a project outcome; past attempts keep the code, built-in outcomes cannot be
    deleted."""
    control.delete_outcome(store_for(database_url), project_id, code)
    if as_json:
        emit_json({"deleted": code})
    else:
        click.echo(f"Deleted outcome {code}.")


COMMANDS = (
    dialer_rules,
    dialer_pause,
    dialer_resume,
    dialer_explain,
    dialer_profiles,
    dialer_outcomes,
    dialer_outcome_add,
    dialer_outcome_delete,
)

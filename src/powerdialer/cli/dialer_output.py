"""How ``powerdialer dialer`` shows a lease and its contact, an outcome's answer and the hours
profiles: as the API shows them with ``--json``, as sentences and tables without."""

from __future__ import annotations

import datetime as dt
from typing import Any

import click

from powerdialer.cli.common import emit_json
from powerdialer.dialer import control, queue, wrapup
from powerdialer.dialer.hours import window_to_json
from powerdialer.dialer.profiles import PROFILES
from powerdialer.models import utcnow
from powerdialer.storage import Store


def contact_json(
    store: Store, project_id: int, found: queue.Leased, now: dt.datetime
) -> dict[str, Any]:
    return control.contact_fields(found, now)


def lease_json(found: queue.Leased) -> dict[str, Any]:
    return {
        "lease_id": found.lease_id,
        "operator_id": found.operator_id,
        "leased_at": found.leased_at,
        "expires_at": found.expires_at,
        "resumed": found.resumed,
    }


def show_lease(
    store: Store,
    project_id: int,
    found: queue.Leased | queue.NoContact,
    as_json: bool,
    campaign_id: int | None = None,
) -> None:
    """The API's answer to next and renew: ``{lease, contact, none}``."""
    now = utcnow()
    if isinstance(found, queue.NoContact):
        none = {"code": found.code, "message": found.message, "next_at": found.next_at}
        if as_json:
            emit_json({"lease": None, "contact": None, "none": none})
            return
        due = f" Next due: {found.next_at:%Y-%m-%d %H:%M UTC}." if found.next_at else ""
        click.echo(f"No contact ({found.code}): {found.message}{due}")
        if found.code == "nothing_callable" and campaign_id is not None:
            click.echo(f"See why: powerdialer dialer explain --project {project_id} {campaign_id}")
        return
    contact = contact_json(store, project_id, found, now)
    if as_json:
        emit_json({"lease": lease_json(found), "contact": contact, "none": None})
        return
    again = " (the lease this operator already held)" if found.resumed else ""
    click.echo(
        f"Lease {found.lease_id}{again}: row {contact['id']}, {contact['phone_e164']}"
        f"{' (' + contact['fio'] + ')' if contact['fio'] else ''}, for operator "
        f"{found.operator_id} until {found.expires_at:%Y-%m-%d %H:%M:%S UTC}."
    )
    click.echo(
        f"Attempts so far: {contact['attempts']}; last outcome: "
        f"{contact['last_outcome'] or 'none'}; local time {contact['local_time']} "
        f"({', '.join(contact['zones'])})."
    )


def show_recorded(found: wrapup.Recorded, as_json: bool) -> None:
    if as_json:
        emit_json(found)
        return
    click.echo(f"Recorded {found.outcome} as attempt {found.attempt_id} of row {found.row_id}.")
    if found.final_state:
        click.echo(f"The row is final: {found.final_state}.")
    elif found.next_attempt_at:
        moved = " (moved to the next opening of the calling hours)" if found.callback_moved else ""
        click.echo(f"Due again at {found.next_attempt_at:%Y-%m-%d %H:%M UTC}{moved}.")
    if found.campaign_completed:
        click.echo("Every row of the campaign is final: the campaign is completed.")


def profiles_json() -> list[dict[str, Any]]:
    """The hours profiles as ``GET /power-dialer/hours-profiles`` lists them."""
    items = []
    for p in PROFILES.values():
        span = p.number_per_span
        items.append(
            {
                "code": p.code,
                "title": p.title,
                "hours": window_to_json(p.window),
                "number_per_day": p.number_per_day,
                "number_per_span": {"count": span[0], "hours": int(span[1] / dt.timedelta(hours=1))}
                if span
                else None,
                "refusal_cooldown_days": p.refusal_cooldown.days if p.refusal_cooldown else None,
                "notes": p.notes,
            }
        )
    return items


def _days(hours: dict[str, Any]) -> str:
    """``mon-fri 10:00-13:00,14:00-20:00; sat-sun closed``: runs of days with one window."""
    runs: list[tuple[str, str, str]] = []
    for day, spans in hours["days"].items():
        text = ",".join(spans) or "closed"
        if runs and runs[-1][2] == text:
            runs[-1] = (runs[-1][0], day, text)
        else:
            runs.append((day, day, text))
    return "; ".join(f"{a}-{b} {t}" if a != b else f"{a} {t}" for a, b, t in runs)


def show_profiles(items: list[dict[str, Any]]) -> None:
    for i in items:
        click.echo(f"{i['code']}: {i['title']}")
        click.echo(f"  hours: {_days(i['hours'])}")
        if i["hours"]["holiday_calendar"]:
            click.echo(f"  closed on the public holidays of {i['hours']['holiday_calendar']}")
        caps = [
            f"{i['number_per_day']} calls a day" if i["number_per_day"] else "",
            f"{i['number_per_span']['count']} calls in {i['number_per_span']['hours']} hours"
            if i["number_per_span"]
            else "",
            f"{i['refusal_cooldown_days']} days after a refusal"
            if i["refusal_cooldown_days"]
            else "",
        ]
        if any(caps):
            click.echo(f"  per number: {'; '.join(c for c in caps if c)}")

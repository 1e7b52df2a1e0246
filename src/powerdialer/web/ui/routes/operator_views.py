"""What the operator's screen is sent: the leased contact as the screen shows it (the API's
``contact`` plus the number formatted for its country, its country's name in the operator's
language and the call link), the row's earlier attempts, and the campaign's screen rules.

Shaping only: the lease comes from ``dialer.control`` exactly as the API's does."""

from __future__ import annotations

import datetime as dt
from typing import Any

import phonenumbers

from powerdialer.dialer import control
from powerdialer.dialer.queue import Leased, NoContact
from powerdialer.dialer.rules import Rules
from powerdialer.dialer.wrapup import Recorded
from powerdialer.telephony.base import Method, ScreenTelephony, link_for
from powerdialer.web.ui.i18n import I18n

HISTORY_SHOWN = 20  # the latest attempts of the row the screen lists


def _iso(value: dt.datetime | None) -> str | None:
    return None if value is None else value.isoformat(timespec="seconds")


def number_view(e164: str, i18n: I18n) -> dict[str, str | None]:
    """The number as its own country writes it, and that country's name in the operator's
    language (``None`` when phonenumbers does not know the region)."""
    try:
        parsed = phonenumbers.parse(e164)
    except phonenumbers.NumberParseException:
        return {"international": e164, "national": e164, "region": None, "country": None}
    region = phonenumbers.region_code_for_number(parsed)
    country = i18n.babel_locale.territories.get(region) if region else None
    return {
        "international": phonenumbers.format_number(
            parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL
        ),
        "national": phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL),
        "region": region,
        "country": country,
    }


def lease_view(found: Leased) -> dict[str, Any]:
    return {
        "lease_id": found.lease_id,
        "leased_at": _iso(found.leased_at),
        "expires_at": _iso(found.expires_at),
        "resumed": found.resumed,
    }


def contact_view(
    found: Leased, now: dt.datetime, i18n: I18n, telephony: ScreenTelephony
) -> dict[str, Any]:
    contact = control.contact_fields(found, now)
    e164 = contact["phone_e164"]
    contact["number"] = number_view(e164, i18n)
    contact["call_link"] = (
        link_for(telephony.link_template, e164) if telephony.method is Method.LINK else None
    )
    return contact


def attempt_view(row: Any) -> dict[str, Any]:
    return {
        "attempt_id": row.id,
        "outcome": row.outcome,
        "note": row.note,
        "duration_seconds": row.duration_seconds,
        "operator_id": row.operator_id,
        "recorded_at": _iso(row.recorded_at),
        "callback_at": _iso(row.callback_at),
    }


def none_view(found: NoContact) -> dict[str, Any]:
    return {"code": found.code, "message": found.message, "next_at": _iso(found.next_at)}


def screen_rules(rules: Rules) -> dict[str, Any]:
    """What of a campaign's rules the screen acts on (docs/ui.md, "Operator screen")."""
    return {
        "dialing_mode": rules.dialing_mode,
        "preview_countdown_seconds": rules.preview_countdown_seconds,
        "wrap_up_seconds": rules.wrap_up_seconds,
        "lease_seconds": rules.lease_seconds,
        "script": rules.script,
    }


def recorded_view(found: Recorded) -> dict[str, Any]:
    return {
        "attempt_id": found.attempt_id,
        "row_id": found.row_id,
        "outcome": found.outcome,
        "final_state": found.final_state,
        "next_attempt_at": _iso(found.next_attempt_at),
        "callback_moved": found.callback_moved,
        "campaign_completed": found.campaign_completed,
    }


def telephony_view(telephony: ScreenTelephony) -> dict[str, Any]:
    return {
        "method": telephony.method.value,
        "server_side": telephony.server_side,
        "softphone_ws_url": telephony.softphone_ws_url,
        "softphone_domain": telephony.softphone_domain,
    }

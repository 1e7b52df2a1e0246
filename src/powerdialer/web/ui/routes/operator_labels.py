"""The operator screen's words: the outcome buttons and the pause reasons, each with the
digit that picks it (names shared with the live view: ``outcome_labels``,
``presence_labels``), and the sentences operator.js shows (it has no catalog of its own: the
page hands them over)."""

from __future__ import annotations

from typing import Any

from powerdialer.dialer.outcomes import SKIP, Outcome
from powerdialer.web.ui.i18n import I18n
from powerdialer.web.ui.outcome_labels import OUTCOME_NAMES, outcome_names
from powerdialer.web.ui.presence_labels import pause_reason_names

# Outcomes that are not buttons: skip has its own key (S, with a reason); a provider's failure
# is recorded by the server when a server-side call fails, never chosen by the operator.
NOT_BUTTONS = frozenset({SKIP, "provider_failed"})


def outcome_buttons(i18n: I18n, outcomes: list[Outcome]) -> list[dict[str, Any]]:
    """Built-in outcomes first, then the project's own; digits 1–9 go to the first nine."""
    buttons: list[dict[str, Any]] = []
    for outcome in outcomes:
        if outcome.code in NOT_BUTTONS:
            continue
        name = OUTCOME_NAMES.get(outcome.code) if outcome.built_in else None
        key = str(len(buttons) + 1) if len(buttons) < 9 else None
        buttons.append(
            {
                "code": outcome.code,
                "label": i18n.gettext(name) if name else outcome.label,
                "key": key,
                "final": outcome.final_state is not None,
            }
        )
    return buttons


def outcome_labels(i18n: I18n, outcomes: list[Outcome]) -> dict[str, str]:
    """Every outcome's name, buttons or not (the history shows skips too)."""
    return outcome_names(i18n, {o.code: o.label for o in outcomes if not o.built_in})


def pause_reasons(i18n: I18n) -> list[dict[str, str]]:
    """The presence's pause reason codes (``dialer.presence.PAUSE_REASONS``), each with
    the digit that picks it in the pause dialog."""
    return [
        {"code": code, "label": label, "key": str(n)}
        for n, (code, label) in enumerate(pause_reason_names(i18n).items(), start=1)
    ]


def screen_text(i18n: I18n) -> dict[str, str]:
    _ = i18n.gettext
    return {
        "mode_preview": _("Preview"),
        "mode_power": _("Power"),
        "loading": _("Taking the next contact…"),
        "nothing": _("Nothing to call now."),
        "try_again": _("Press N to try again."),
        "paused": _("Paused"),
        "resume_hint": _("Press P or N to resume."),
        "wrap_up": _("Wrap-up: next contact in %(seconds)s s"),
        "wrap_up_held": _("Wrap-up: waiting while you write the note (Esc leaves the note)"),
        "wrap_up_now": _("Press N for the next contact now."),
        "calling_in": _("The call is placed in %(seconds)s s (C now, Esc to stop)"),
        "calling": _("Calling…"),
        "on_call": _("On a call"),
        "call_ended": _("The call ended"),
        "call_failed": _("The call was not placed: %(error)s"),
        "own_leg_unanswered": _(
            "You did not answer your own phone: you are paused. Press P to resume."
        ),
        "softphone_missing": _(
            "The browser softphone is not installed on this server (static/softphone.js is "
            "missing): ask the owner to choose another way to place calls."
        ),
        "softphone_no_credentials": _(
            "Enter your SIP account in the softphone settings of this browser first."
        ),
        "softphone_unregistered": _(
            "Your browser softphone is not registered with the SIP server (%(error)s): you "
            "are paused."
        ),
        "sip_no_answer": _("the SIP server did not answer"),
        "sip_disconnected": _("the connection to the SIP server closed"),
        "placeholder_unknown": _("Not a placeholder the script knows: shown as written."),
        "placeholder_empty": _("This contact has no value for this placeholder."),
        "chosen": _("Chosen: %(outcome)s"),
        "recorded": _("Recorded: %(outcome)s"),
        "proposed": _("The call proposes: %(outcome)s (press its digit to confirm)"),
        "callback_required": _("Enter the callback time."),
        "reason_required": _("Enter a reason."),
        "lease_lost": _("This contact is no longer yours (the lease ended): taking the next one."),
        "signed_out": _("Your session has ended: sign in again."),
        "error": _("Something went wrong: %(error)s"),
        "you": _("you"),
        "operator": _("operator %(id)s"),
        "no_attempts": _("No earlier attempts."),
        "seconds": _("%(seconds)s s"),
        "campaign_completed": _("The campaign is complete: every contact is done."),
    }

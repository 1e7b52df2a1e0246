"""The operator screen's words: the built-in outcomes' and pause reasons' names in the
operator's language, the digit each outcome button answers to, and the sentences
operator.js shows (it has no catalog of its own: the page hands them over)."""

from __future__ import annotations

from typing import Any

from powerdialer.dialer.outcomes import SKIP, Outcome
from powerdialer.web.ui.i18n import N_, I18n

OUTCOME_NAMES = {
    "answered": N_("Answered"),
    "no_answer": N_("No answer"),
    "busy": N_("Busy"),
    "voicemail": N_("Voicemail"),
    "failed": N_("Failed"),
    "wrong_number": N_("Wrong number"),
    "callback": N_("Callback"),
    "do_not_call": N_("Do not call"),
    "not_interested": N_("Not interested"),
    "skip": N_("Skip"),
}

# Outcomes that are not buttons: skip has its own key (S, with a reason); a provider's failure
# is recorded by the server when a server-side call fails, never chosen by the operator.
NOT_BUTTONS = frozenset({SKIP, "provider_failed"})

# The pause reason codes (the presence's list, docs/ui.md).
PAUSE_REASONS = {
    "break": N_("Break"),
    "lunch": N_("Lunch"),
    "meeting": N_("Meeting"),
    "training": N_("Training"),
    "technical": N_("Technical problem"),
    "other": N_("Other"),
}


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
    return {
        o.code: i18n.gettext(OUTCOME_NAMES[o.code])
        if o.built_in and o.code in OUTCOME_NAMES
        else o.label
        for o in outcomes
    }


def pause_reasons(i18n: I18n) -> list[dict[str, str]]:
    return [
        {"code": code, "label": i18n.gettext(label), "key": str(n)}
        for n, (code, label) in enumerate(PAUSE_REASONS.items(), start=1)
    ]


def screen_text(i18n: I18n) -> dict[str, str]:
    _ = i18n.gettext
    return {
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

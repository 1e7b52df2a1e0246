"""The built-in outcomes' names in the user's language (``dialer.outcomes.BUILT_IN``); a
project's own outcomes are shown by the label the project gave them."""

from __future__ import annotations

from powerdialer.web.ui.i18n import N_, I18n

OUTCOME_NAMES = {
    "answered": N_("Answered"),
    "no_answer": N_("No answer"),
    "busy": N_("Busy"),
    "voicemail": N_("Voicemail"),
    "failed": N_("Call failed"),
    "wrong_number": N_("Wrong number"),
    "callback": N_("Callback"),
    "do_not_call": N_("Do not call"),
    "not_interested": N_("Not interested"),
    "skip": N_("Skipped"),
}


def outcome_names(i18n: I18n, own: dict[str, str] | None = None) -> dict[str, str]:
    """Every code with its name: the project's own by their label (``own``, ``{code:
    label}``), the built-in ones translated (their English labels in ``own`` are ignored)."""
    return {**(own or {}), **{c: i18n.gettext(n) for c, n in OUTCOME_NAMES.items()}}

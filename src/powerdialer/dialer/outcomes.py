"""What an attempt ended in: the built-in outcomes, a project's own, and the final states.

An outcome is a code with three flags and a final state:

- ``final_state``: the row is done for this campaign, and why (``FinalState``); ``None``: it
  comes back under the campaign's retry rules;
- ``reached``: the contact was spoken to (reports, the "contact reached" count);
- ``counts_as_attempt``: it uses up one of the campaign's ``max_attempts``;
- ``refusal``: the contact declined (a profile's cool-down after a refusal, e.g. France's 60
  days, counts from it).

``skip`` and ``provider_failed`` are the outcomes that are not calls: they are recorded in
the history (who skipped and why; the provider's words when a server-side originate was
refused) but count toward no cap and use no attempt.  ``provider_failed`` is what the server
records when a server-side call is refused: the row comes back at once (no retry delay).
``do_not_call`` also lists the number on the project's do-not-call list, in the transaction
that records it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from powerdialer.errors import NotFound, ValidationError


class FinalState(StrEnum):
    REACHED = "contact_reached"  # the right party was reached: done
    NUMBER_UNCALLABLE = "number_uncallable"  # wrong or dead number
    CONTACT_UNCALLABLE = "contact_uncallable"  # the contact asked not to be called
    EXHAUSTED = "attempts_exhausted"  # max attempts, an outcome's retry count, a lifetime cap


FINAL_STATES = tuple(state.value for state in FinalState)


@dataclass(frozen=True, slots=True)
class Outcome:
    code: str
    label: str
    final_state: str | None = None
    reached: bool = False
    counts_as_attempt: bool = True
    refusal: bool = False
    retry_seconds: int | None = None  # a project outcome's own retry delay (rules may override)
    built_in: bool = False

    @property
    def called(self) -> bool:
        """Whether a call was made (every outcome but ``skip``): what caps and gaps count."""
        return self.code not in NOT_CALLS


SKIP = "skip"
PROVIDER_FAILED = "provider_failed"  # the PBX or provider refused to place the call
NOT_CALLS = (SKIP, PROVIDER_FAILED)  # recorded, but no call reached the network
CALLBACK = "callback"
DO_NOT_CALL = "do_not_call"

BUILT_IN: dict[str, Outcome] = {
    outcome.code: outcome
    for outcome in (
        Outcome("answered", "Answered", FinalState.REACHED, reached=True, built_in=True),
        Outcome("no_answer", "No answer", built_in=True),
        Outcome("busy", "Busy", built_in=True),
        Outcome("voicemail", "Voicemail", built_in=True),
        Outcome("failed", "Failed", built_in=True),
        Outcome("wrong_number", "Wrong number", FinalState.NUMBER_UNCALLABLE, built_in=True),
        # A callback is a conversation that asked for another one: it uses no attempt, so a
        # promised callback is never lost to max_attempts (caps on the number still apply).
        Outcome(CALLBACK, "Callback", reached=True, counts_as_attempt=False, built_in=True),
        Outcome(
            DO_NOT_CALL,
            "Do not call",
            FinalState.CONTACT_UNCALLABLE,
            reached=True,
            refusal=True,
            built_in=True,
        ),
        Outcome(
            "not_interested",
            "Not interested",
            FinalState.REACHED,
            reached=True,
            refusal=True,
            built_in=True,
        ),
        Outcome(SKIP, "Skip", counts_as_attempt=False, built_in=True),
        Outcome(PROVIDER_FAILED, "Provider failure", counts_as_attempt=False, built_in=True),
    )
}

_CODE = re.compile(r"[a-z][a-z0-9_]{0,31}")


def check_code(code: object, field: str = "code") -> str:
    if not isinstance(code, str) or not _CODE.fullmatch(code):
        raise ValidationError(
            f"{field} must be 1-32 lower-case letters, digits or _ starting with a letter "
            "(e.g. sale_closed).",
            code="invalid_outcome_code",
            field=field,
        )
    return code


def new_outcome(
    code: str,
    label: str,
    *,
    final_state: str | None = None,
    reached: bool = False,
    counts_as_attempt: bool = True,
    refusal: bool = False,
    retry_seconds: int | None = None,
) -> Outcome:
    """A project outcome as asked for, validated; a built-in code cannot be redefined."""
    check_code(code)
    if code in BUILT_IN:
        raise ValidationError(
            f"code {code} is a built-in outcome: choose another code for your own.",
            code="outcome_built_in",
            field="code",
        )
    label = label.strip()
    if not label or len(label) > 200:
        raise ValidationError(
            "label must be 1-200 characters: the name operators see.",
            code="invalid_label",
            field="label",
        )
    if final_state is not None and final_state not in FINAL_STATES:
        raise ValidationError(
            f"final_state must be one of {', '.join(FINAL_STATES)} or null (the row comes "
            "back under the retry rules).",
            code="invalid_final_state",
            field="final_state",
        )
    if retry_seconds is not None and not 0 <= retry_seconds <= 366 * 86400:
        raise ValidationError(
            "retry_seconds must be 0 to 31,622,400 (a year) or null.",
            code="invalid_retry_seconds",
            field="retry_seconds",
        )
    return Outcome(code, label, final_state, reached, counts_as_attempt, refusal, retry_seconds)


def unknown_outcome(code: str, known: list[str]) -> NotFound:
    return NotFound(
        f"outcome {code} is neither built in nor one of this project's: use one of "
        f"{', '.join(known)}, or add it (POST /power-dialer/outcomes).",
        code="outcome_not_found",
        field="outcome",
    )

"""Domain errors.  Each carries a machine ``code`` and a one-sentence ``message`` that names
the field and says how to fix it; the web and CLI edges turn them into their own shapes."""

from __future__ import annotations


class PowerDialerError(Exception):
    """Base of every error the domain raises on purpose."""

    code = "error"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        field: str | None = None,
        reason: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.field = field
        self.reason = reason


class ValidationError(PowerDialerError):
    """Input that can never succeed as sent (HTTP 422, CLI exit 2)."""

    code = "invalid_field"


class NotFound(PowerDialerError):
    """The thing does not exist for this project; other projects' things are 'not found' too."""

    code = "not_found"


class Conflict(PowerDialerError):
    """The request is valid but the current state forbids it (e.g. an archived campaign)."""

    code = "conflict"


class AuthError(PowerDialerError):
    """Missing or wrong credentials."""

    code = "unauthorized"


def invalid(field: str, reason: str, message: str, *, code: str | None = None) -> ValidationError:
    """The ``ValidationError`` of one field: code ``invalid_<field>`` unless ``code`` is given."""
    return ValidationError(message, code=code or f"invalid_{field}", field=field, reason=reason)


class JobLost(PowerDialerError):
    """An import job's write by a process that no longer holds the job (another instance took
    it over, or the job ended): the write stored nothing."""


def job_lost(job_id: int) -> JobLost:
    return JobLost(
        f"import {job_id} is no longer this process's: another instance took it over.",
        code="import_taken_over",
    )

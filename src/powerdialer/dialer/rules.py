"""A campaign's dialing rules: how long a lease lasts, how often and how soon a row comes back,
the caps per contact and per number, the dates and the calling hours.

Stored as JSON in ``campaigns.rules`` (``NULL``: every default) and read and written whole
through ``GET``/``PUT /power-dialer/campaigns/{id}/dialer/rules``.  The model is pydantic's,
so the API document shows it field by field and a bad value is refused naming its path
(``rules.retry.busy.delay_minutes``).

Defaults (docs/dialer.md): a 10-minute lease; 5 attempts; no answer back in 60 minutes (at most
3 times), busy in 10 (5 times), voicemail in 120 (2 times), failed in 15 (3 times), a skipped
row in 15; no caps; the ``default`` hours profile (09:00-20:00 in the contact's zone).

The operator's screen reads four more: ``dialing_mode`` (``preview``: the operator presses
Call; ``power``: the next contact's call is placed by itself after the wrap-up),
``preview_countdown_seconds`` (in preview, place the call by itself after this long; none by
default), ``wrap_up_seconds`` (the pause after an outcome before the next contact, 10 by
default) and ``script``, the owner's text shown beside the contact (plain text, never HTML).
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic import ValidationError as PydanticError

from powerdialer.dialer import hours
from powerdialer.dialer.hours import Window
from powerdialer.dialer.outcomes import check_code
from powerdialer.dialer.profiles import Profile, profile
from powerdialer.errors import PowerDialerError, ValidationError

MAX_SCRIPT = 20_000


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Retry(_Model):
    delay_minutes: int = Field(ge=0, le=527_040, description="Wait before the next try.")
    max: int | None = Field(
        default=None, ge=1, le=100, description="Tries ending so, after which the row is final."
    )


class Span(_Model):
    count: int = Field(ge=1, le=10_000)
    hours: int = Field(ge=1, le=24 * 366, description="The rolling window's length.")


class Caps(_Model):
    per_day: int | None = Field(default=None, ge=1, le=1000, description="Per local day.")
    per_span: Span | None = None
    lifetime: int | None = Field(default=None, ge=1, le=10_000)


class Hours(_Model):
    """A named profile, or ``custom`` with its own window (docs/calling-hours.md)."""

    profile: str = "default"
    days: dict[str, list[str]] | None = None
    holidays: list[str] | None = None
    holiday_calendar: str | None = None

    @model_validator(mode="after")
    def _known(self) -> Hours:
        if self.profile == "custom":
            hours.window_from_json(self._window_json(), field="rules.hours")
        else:
            profile(self.profile)
            if self.days is not None or self.holidays is not None or self.holiday_calendar:
                raise ValueError("days, holidays and holiday_calendar go with profile custom")
        return self

    def _window_json(self) -> dict[str, Any]:
        return {
            "days": self.days or {},
            "holidays": self.holidays or [],
            "holiday_calendar": self.holiday_calendar,
        }


DEFAULT_RETRY = {
    "no_answer": Retry(delay_minutes=60, max=3),
    "busy": Retry(delay_minutes=10, max=5),
    "voicemail": Retry(delay_minutes=120, max=2),
    "failed": Retry(delay_minutes=15, max=3),
    "skip": Retry(delay_minutes=15),
    "provider_failed": Retry(delay_minutes=0),  # the call never left: the row is due again
}


class Rules(_Model):
    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_extra={
            "examples": [
                {
                    "lease_seconds": 600,
                    "max_attempts": 4,
                    "retry": {"busy": {"delay_minutes": 5, "max": 3}},
                    "number_caps": {"per_day": 2},
                    "min_gap_minutes": 30,
                    "hours": {"profile": "ua_collections"},
                }
            ]
        },
    )
    lease_seconds: int = Field(default=600, ge=30, le=86_400)
    max_attempts: int = Field(default=5, ge=1, le=100)
    retry: dict[str, Retry] = Field(default_factory=lambda: dict(DEFAULT_RETRY))
    contact_caps: Caps = Field(default_factory=Caps)
    number_caps: Caps = Field(
        default_factory=Caps, description="Across all the project's campaigns."
    )
    min_gap_minutes: int = Field(
        default=0, ge=0, le=527_040, description="Between two calls to one number, anywhere."
    )
    refusal_cooldown_days: int | None = Field(default=None, ge=1, le=3660)
    personal_callback_minutes: int = Field(
        default=60,
        ge=0,
        le=527_040,
        description="A personal callback its operator has not taken this long after its time "
        "goes to anyone.",
    )
    starts_at: dt.datetime | None = None
    ends_at: dt.datetime | None = None
    hours: Hours = Field(default_factory=Hours)
    fallback_tz: str = Field(
        default="Europe/Kyiv", description="For numbers whose zone phonenumbers does not know."
    )
    # What the operator's screen reads (docs/ui.md, "Operator screen").
    dialing_mode: Literal["preview", "power"] = Field(
        default="preview",
        description="preview: the operator presses Call; power: after the wrap-up the next "
        "contact's call is placed by itself.",
    )
    preview_countdown_seconds: int | None = Field(
        default=None,
        ge=1,
        le=600,
        description="In preview mode, place the call by itself this long after the contact "
        "appears (null: only when the operator presses Call).",
    )
    wrap_up_seconds: int = Field(
        default=10,
        ge=0,
        le=3600,
        description="After an outcome, this long before the next contact comes by itself (it "
        "waits while the operator types a note).",
    )
    script: str | None = Field(
        default=None,
        max_length=MAX_SCRIPT,
        description="The campaign's script, shown to the operator beside the contact as plain "
        "text (line breaks kept, never HTML).",
    )

    @field_validator("retry")
    @classmethod
    def _over_defaults(cls, value: dict[str, Retry]) -> dict[str, Retry]:
        for code in value:
            check_code(code, f"retry.{code}")
        return {**DEFAULT_RETRY, **value}  # what is given replaces the default of its outcome

    @field_validator("starts_at", "ends_at")
    @classmethod
    def _aware(cls, value: dt.datetime | None) -> dt.datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("give a time zone, e.g. 2026-12-01T09:00:00+02:00")
        return value

    @field_validator("fallback_tz")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            hours.zones_for("+380930000000", value)  # a zone the host does not know
        except PowerDialerError:
            raise ValueError(f"{value} is not an IANA time zone (e.g. Europe/Kyiv)") from None
        return value

    @model_validator(mode="after")
    def _dates(self) -> Rules:
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        return self

    # What the queue reads, worked out once per rules (``effective``).
    def window(self) -> Window:
        chosen = self.profile()
        if chosen is None:
            return hours.window_from_json(self.hours._window_json(), field="rules.hours")
        return chosen.window

    def profile(self) -> Profile | None:
        return None if self.hours.profile == "custom" else profile(self.hours.profile)

    def retry_for(self, code: str, own_seconds: int | None) -> tuple[int, int | None]:
        """(delay in seconds, max tries ending so) for an outcome: the rules' entry, else the
        project outcome's own delay, else 60 minutes with no count of its own."""
        entry = self.retry.get(code)
        if entry is not None:
            return entry.delay_minutes * 60, entry.max
        return (own_seconds if own_seconds is not None else 3600), None

    # The queue asks these for every row it judges; the rules are one object per campaign
    # version (``load_rules`` caches them by their JSON), so each is worked out once.
    def number_spans(self) -> list[tuple[int, dt.timedelta]]:
        """Every rolling cap on a number: the rules' and the profile's."""
        return self._number_spans

    def number_per_day(self) -> int | None:
        return self._number_per_day

    def refusal_cooldown(self) -> dt.timedelta | None:
        return self._refusal_cooldown

    @functools.cached_property
    def _number_spans(self) -> list[tuple[int, dt.timedelta]]:
        spans = []
        if self.number_caps.per_span:
            span = self.number_caps.per_span
            spans.append((span.count, dt.timedelta(hours=span.hours)))
        chosen = self.profile()
        if chosen and chosen.number_per_span:
            spans.append(chosen.number_per_span)
        return spans

    @functools.cached_property
    def _number_per_day(self) -> int | None:
        chosen = self.profile()
        limits = [x for x in (self.number_caps.per_day, chosen and chosen.number_per_day) if x]
        return min(limits) if limits else None

    @functools.cached_property
    def _refusal_cooldown(self) -> dt.timedelta | None:
        chosen = self.profile()
        days = [dt.timedelta(days=self.refusal_cooldown_days)] if self.refusal_cooldown_days else []
        if chosen and chosen.refusal_cooldown:
            days.append(chosen.refusal_cooldown)
        return max(days) if days else None


DEFAULT = Rules()


def parse_rules(value: object) -> Rules:
    """Rules from a JSON body, refused naming the path of the first bad field."""
    try:
        return Rules.model_validate(value)
    except PydanticError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in ("rules", *first["loc"]))
        raise ValidationError(
            f"{where}: {first['msg']} (GET /power-dialer/campaigns/{{id}}/dialer/rules "
            "shows the shape).",
            code="invalid_rules",
            field=where,
        ) from None


@functools.lru_cache(maxsize=1024)
def _load(text: str) -> Rules:
    return Rules.model_validate(orjson.loads(text))


def load_rules(text: str | None) -> Rules:
    """A campaign's stored rules (cached by their JSON: the writer reads them per lease)."""
    return DEFAULT if text is None else _load(text)


@functools.lru_cache(maxsize=1024)
def window_of(text: str | None) -> Window:
    """A campaign's calling window from its stored rules, worked out once per rules (the
    queue, the wrap-up and the explanation all read it)."""
    return load_rules(text).window()


def dump_rules(rules: Rules) -> str:
    return orjson.dumps(rules.model_dump(mode="json", exclude_defaults=True)).decode()

"""Routes: a project's outcomes (the built-in ones and its own) and the calling-hours
profiles the dialer ships."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Path, Response, status

from powerdialer.dialer import control
from powerdialer.dialer.hours import window_to_json
from powerdialer.dialer.outcomes import new_outcome
from powerdialer.dialer.profiles import PROFILES
from powerdialer.web.api.deps import Authed, StoreDep
from powerdialer.web.api.routing import ApiRoute
from powerdialer.web.api.schemas.dialer_reports import (
    OutcomeList,
    OutcomePublic,
    ProfileList,
    ProfilePublic,
)
from powerdialer.web.api.schemas.error_codes import import_errors

router = APIRouter(prefix="/power-dialer", tags=["dialer"], route_class=ApiRoute)


@router.get(
    "/outcomes",
    summary="List the outcomes an operator can record",
    response_model=OutcomeList,
    responses=import_errors("invalid_field"),
)
def list_outcomes(auth: Authed, store: StoreDep) -> OutcomeList:
    """The built-in outcomes, then the project's own, each with its flags."""
    return OutcomeList(
        items=[OutcomePublic.of(o) for o in control.list_outcomes(store, auth.project_id)]
    )


@router.post(
    "/outcomes",
    summary="Add a project outcome",
    status_code=status.HTTP_201_CREATED,
    response_model=OutcomePublic,
    responses=import_errors("outcome_exists", "outcome_built_in", "invalid_field"),
)
def add_outcome(body: OutcomePublic, auth: Authed, store: StoreDep) -> OutcomePublic:
    """A code of your own with its flags: final_state (null: it comes back under the retry
    rules), reached, counts_as_attempt, refusal, and its own retry delay."""
    outcome = new_outcome(
        body.code,
        body.label,
        final_state=body.final_state,
        reached=body.reached,
        counts_as_attempt=body.counts_as_attempt,
        refusal=body.refusal,
        retry_seconds=body.retry_seconds,
    )
    return OutcomePublic.of(control.add_outcome(store, auth.project_id, outcome))


@router.delete(
    "/outcomes/{code}",
    summary="Delete a project outcome",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=import_errors("outcome_not_found", "invalid_field"),
)
def delete_outcome(
    auth: Authed,
    store: StoreDep,
    code: str = Path(max_length=32, examples=["sale"]),
) -> Response:
    """Past attempts keep the code; built-in outcomes cannot be deleted."""
    control.delete_outcome(store, auth.project_id, code)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/hours-profiles",
    summary="The calling-hours profiles",
    response_model=ProfileList,
    responses=import_errors("invalid_field"),
)
def hours_profiles(auth: Authed) -> ProfileList:
    """Named windows with their caps, for `rules.hours.profile` (docs/calling-hours.md): aids,
    not legal advice."""
    items = []
    for p in PROFILES.values():
        span = p.number_per_span
        items.append(
            ProfilePublic(
                code=p.code,
                title=p.title,
                hours=window_to_json(p.window),
                number_per_day=p.number_per_day,
                number_per_span={"count": span[0], "hours": int(span[1] / dt.timedelta(hours=1))}
                if span
                else None,
                refusal_cooldown_days=p.refusal_cooldown.days if p.refusal_cooldown else None,
                notes=p.notes,
            )
        )
    return ProfileList(items=items)

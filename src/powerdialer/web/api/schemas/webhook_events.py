"""The events' bodies as the OpenAPI document's ``webhooks`` shows them (``EVENT_MODELS``:
one model per type, kept in step with ``powerdialer.webhooks.events`` by
tests/webhooks/test_api.py)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

# --- the events, for the OpenAPI document's webhooks ----------------------------------------


class _Event(BaseModel):
    id: str = Field(description="evt_…: stable across retries; the webhook-id header.")
    version: Literal[1] = 1
    timestamp: str = Field(description="When the change happened, UTC, ISO 8601.")
    project_id: int


class RowsData(BaseModel):
    campaign_id: int
    source: str = Field(description="compat (the compatible endpoint), api, ui or import.")
    job_id: int | None = Field(description="The import job, for rows of an import.")
    inserted: int
    updated: int
    duplicates: int
    rejected: int
    row_ids: list[int] = Field(
        description="The rows inserted or updated (empty for an import: see its counts)."
    )


class RowAdded(_Event):
    type: Literal["row.added"]
    data: RowsData


class _Row(BaseModel):
    campaign_id: int
    row_id: int
    phone_e164: str


class OutcomeData(_Row):
    attempt_id: int
    lease_id: int
    operator_id: int
    outcome: str
    final_state: str | None
    note: str | None
    duration_seconds: int | None
    attempts: int
    next_attempt_at: str | None = Field(description="When the row is due again; null: final.")
    recorded_at: str


class OutcomeRecorded(_Event):
    type: Literal["outcome.recorded"]
    data: OutcomeData


class CallbackData(_Row):
    attempt_id: int
    operator_id: int | None = Field(description="Set for a personal callback.")
    callback_at: str
    moved: bool = Field(description="The time asked was outside calling hours and moved.")


class CallbackScheduled(_Event):
    type: Literal["callback.scheduled"]
    data: CallbackData


class FinalData(_Row):
    final_state: str
    last_outcome: str | None
    attempts: int


class ContactFinal(_Event):
    type: Literal["contact.final"]
    data: FinalData


class CompletedData(BaseModel):
    campaign_id: int
    completed_at: str


class CampaignCompleted(_Event):
    type: Literal["campaign.completed"]
    data: CompletedData


class ImportData(BaseModel):
    job_id: int
    campaign_id: int
    status: Literal["done", "failed"]
    error_code: str | None
    filename: str
    supplied: int
    inserted: int
    updated: int
    duplicates: int
    rejected: int


class ImportFinished(_Event):
    type: Literal["import.finished"]
    data: ImportData


class DncData(BaseModel):
    numbers: list[str] = Field(description="The numbers newly listed, in E.164.")
    source: str = Field(description="api, cli, import, ui or outcome.")
    attempt_id: int | None = Field(description="The call whose outcome listed it.")


class DncAdded(_Event):
    type: Literal["dnc.added"]
    data: DncData


EVENT_MODELS: dict[str, type[_Event]] = {
    "row.added": RowAdded,
    "outcome.recorded": OutcomeRecorded,
    "callback.scheduled": CallbackScheduled,
    "contact.final": ContactFinal,
    "campaign.completed": CampaignCompleted,
    "import.finished": ImportFinished,
    "dnc.added": DncAdded,
}

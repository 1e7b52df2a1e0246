"""Many rows in one request (the bulk endpoint, import jobs, the UI): validation of one row
with its CRM extras, and the group-commit apply function that stores a batch of them under the
campaign's duplicate policy.

The contract (shared by the bulk API, import jobs and the fill client):

- ``parse_new_row(obj, region)`` turns one JSON object ``{"phone_number", "fio"?,
  "external_id"?, "fields"?}`` into a ``NewRow`` or raises ``ValidationError`` with the same
  codes as the compatible endpoint (plus ``invalid_external_id`` / ``invalid_fields``).
- ``BulkWrite`` is submitted to the app's ``GroupCommitter``; its result is one
  ``RowOutcome`` per row in order, or the request's error (``campaign_not_found``,
  ``campaign_archived``) raised for the whole write.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

MAX_EXTERNAL_ID = 128
MAX_FIELDS = 50  # custom fields per row
MAX_FIELD_NAME = 64
MAX_FIELD_VALUE = 1024
MAX_FIELDS_BYTES = 8 * 1024  # the JSON of a row's fields

DuplicatePolicy = Literal["skip", "update", "keep"]
DUPLICATE_POLICIES: tuple[DuplicatePolicy, ...] = ("skip", "update", "keep")


@dataclass(frozen=True, slots=True)
class NewRow:
    phone_raw: str
    phone_e164: str
    fio: str | None = None
    external_id: str | None = None
    fields: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class BulkWrite:
    project_id: int
    campaign_id: int
    rows: list[NewRow]
    source: str = "api"  # api | import | ui


@dataclass(frozen=True, slots=True)
class RowOutcome:
    status: Literal["inserted", "duplicate", "updated"]
    id: int

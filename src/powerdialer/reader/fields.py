"""Which of a file's other columns become a row's custom fields, within the limits a row's
fields have (:mod:`powerdialer.rows.validate` checks each row against the same numbers).

CRM exports are wide: a Bitrix24 contact export has 60 to 150 columns, dozens of them
``UF_CRM_…`` fields, and titles longer than a field name may be.  Applying the limits per
row would reject every row of such a file; applied per column, the file imports and the
columns past the limits are left out, each with the reason, for the preview and the job to
show.  A mapping may name the columns to keep instead (``Mapping.fields``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from powerdialer.text import one_line

__all__ = ["MAX_FIELDS", "MAX_FIELD_NAME", "LeftOut", "plan_fields"]

MAX_FIELDS = 50
"""Custom fields a row may have."""
MAX_FIELD_NAME = 64
"""Characters a custom field's name may have."""


@dataclass(frozen=True, slots=True)
class LeftOut:
    """A column that does not become a custom field, and why: ``too_many_fields`` (past the
    first ``MAX_FIELDS``) or ``name_too_long`` (a header over ``MAX_FIELD_NAME`` characters)."""

    column: str
    reason: str

    @property
    def message(self) -> str:
        if self.reason == "name_too_long":
            return (
                f"column {self.column[:80]!r} is left out: a custom field's name may have at "
                f"most {MAX_FIELD_NAME} characters; rename the column or map it by choosing "
                "the fields."
            )
        return (
            f"column {self.column[:80]!r} is left out: a row keeps at most {MAX_FIELDS} custom "
            "fields, the first ones of the file; choose the ones to keep in the mapping."
        )

    def describe(self) -> dict[str, str]:
        return {"column": self.column, "reason": self.reason, "message": self.message}


def plan_fields(
    keys: Sequence[str], mapped: set[int | None], chosen: Sequence[int] | None
) -> tuple[list[int], list[LeftOut]]:
    """The columns (indexes into ``keys``, the field names) kept as custom fields, and those
    left out.  ``chosen`` is the mapping's own list (None: every column not ``mapped`` to the
    phone, the name or the id, in the file's order)."""
    candidates = (
        list(chosen) if chosen is not None else [i for i in range(len(keys)) if i not in mapped]
    )
    kept: list[int] = []
    left: list[LeftOut] = []
    for index in candidates:
        name = keys[index] if index < len(keys) else f"column_{index + 1}"
        if len(one_line(name)) > MAX_FIELD_NAME:
            left.append(LeftOut(name, "name_too_long"))
        elif len(kept) >= MAX_FIELDS:
            left.append(LeftOut(name, "too_many_fields"))
        else:
            kept.append(index)
    return kept, left

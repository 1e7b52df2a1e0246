"""The ``mapping`` a client may send with an upload (a JSON object in a form field): which
column of the file is which, overriding what the reader detects."""

from __future__ import annotations

from typing import Any

import orjson

from powerdialer.errors import ValidationError
from powerdialer.reader.fields import MAX_FIELDS
from powerdialer.reader.headers import AUTO, Mapping

__all__ = ["parse_mapping"]


def _mapping_error(message: str) -> ValidationError:
    return ValidationError(
        f"mapping {message}; send a JSON object such as "
        '{"phone": "Телефон", "fio": "ПІБ", "external_id": null} '
        "(header names, or column numbers from 0).",
        code="invalid_mapping",
        field="mapping",
    )


def parse_mapping(text: str | None) -> Mapping | None:
    """The ``mapping`` form field: which column is which, overriding detection.  A key left
    out is detected; ``null`` means the file has no such column (not for phone)."""
    if text is None or not text.strip():
        return None
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        raise _mapping_error("is not valid JSON") from None
    if not isinstance(value, dict):
        raise _mapping_error("must be a JSON object")
    unknown = set(value) - {"phone", "fio", "external_id", "has_header", "fields"}
    if unknown:
        raise _mapping_error(f"has unknown keys {sorted(unknown)}")
    fields = value.get("fields", AUTO)
    if fields is None:
        fields = ()
    elif fields is not AUTO:
        if not isinstance(fields, list) or not all(_is_ref(ref) for ref in fields):
            raise _mapping_error(
                "fields must be a list of header names or column numbers (the columns to "
                "keep as custom fields)"
            )
        if len(fields) > MAX_FIELDS:
            raise _mapping_error(
                f"fields names {len(fields)} columns; a row keeps at most {MAX_FIELDS} "
                "custom fields"
            )
        fields = tuple(ref.strip() if isinstance(ref, str) else ref for ref in fields)
    refs: dict[str, Any] = {}
    for key in ("phone", "fio", "external_id"):
        if key not in value:
            refs[key] = AUTO
            continue
        ref = value[key]
        if ref is None and key != "phone":
            refs[key] = None
        elif isinstance(ref, str) and ref.strip():
            refs[key] = ref.strip()
        elif isinstance(ref, int) and not isinstance(ref, bool) and ref >= 0:
            refs[key] = ref
        else:
            raise _mapping_error(f"{key} must be a header name or a column number, got {ref!r}")
    has_header = value.get("has_header")
    if has_header is not None and not isinstance(has_header, bool):
        raise _mapping_error("has_header must be true, false or null")
    return Mapping(has_header=has_header, fields=fields, **refs)


def _is_ref(ref: object) -> bool:
    if isinstance(ref, str):
        return bool(ref.strip())
    return isinstance(ref, int) and not isinstance(ref, bool) and ref >= 0

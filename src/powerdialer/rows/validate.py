"""The checks of one row, as every way of adding rows shares them: the compatible endpoint
(``parse_id``, ``parse_fio``, and the number), the bulk API and the UI (``parse_new_row``,
``parse_rows``), import jobs (``parse_import_row``) and the fill client (``parse_new_row``).

Pure Python (``text``, ``phones``, orjson): no storage, no SQLAlchemy, so the fill client and
an import's worker children load only this.

- ``parse_new_row(obj, region)`` turns one JSON object ``{"phone_number", "fio"?,
  "external_id"?, "fields"?}`` into a ``NewRow`` or raises ``ValidationError`` with the same
  codes as the compatible endpoint (plus ``invalid_external_id`` / ``invalid_fields``).
  ``parse_rows(items, region)`` does a list, answering the error in place of a bad row.
"""

from __future__ import annotations

from collections.abc import Sequence

import orjson

from powerdialer.errors import ValidationError, invalid
from powerdialer.models import MAX_ID
from powerdialer.phones import normalize_phone
from powerdialer.reader.fields import MAX_FIELD_NAME, MAX_FIELDS
from powerdialer.rows.dialer_fields import parse_dialer_fields
from powerdialer.rows.models import ImportRow, NewRow
from powerdialer.text import one_line

MAX_FIO = 255
MAX_EXTERNAL_ID = 128
# MAX_FIELDS (custom fields per row) and MAX_FIELD_NAME live with the import's column plan,
# which applies them per column (reader/fields.py).
MAX_FIELD_VALUE = 1024
MAX_FIELDS_BYTES = 8 * 1024  # the JSON of a row's fields


def _id_error(field: str, reason: str, message: str) -> ValidationError:
    # The compatible endpoint's campaignId has the vendor's code, invalid_campaign_id.
    code = "invalid_campaign_id" if field == "campaignId" else None
    return invalid(field, reason, message, code=code)


def parse_id(value: object, field: str) -> int:
    """An id as JSON sends it: an integer, or a string of digits (as it sits in a URL)."""
    if value is None:
        raise _id_error(
            field, "missing", f"{field} is required: send the campaign's integer id, e.g. 456."
        )
    number: int | None = None
    if isinstance(value, bool):
        number = None
    elif isinstance(value, int):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str) and value.strip().isdigit() and value.strip().isascii():
        number = int(value.strip())
    if number is None:
        raise _id_error(
            field,
            "wrong_type",
            f"{field} must be an integer such as 456 "
            f"(a string of digits is accepted too), got {value!r:.40}.",
        )
    if not 0 < number <= MAX_ID:
        raise _id_error(
            field, "out_of_range", f"{field} must be a positive integer below 2^63, got {number}."
        )
    return number


def parse_fio(value: object) -> str | None:
    """The contact's full name: optional; control characters become spaces."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise invalid(
            "fio", "wrong_type", "fio must be a string (the contact's full name) or be left out."
        )
    text = one_line(value)
    if len(text) > MAX_FIO:
        raise invalid(
            "fio",
            "too_long",
            f"fio is {len(text)} characters long; the limit is {MAX_FIO}: shorten it.",
        )
    return text or None


def parse_external_id(value: object) -> str | None:
    """The row's id in the client's CRM: a string (or an integer), at most 128 characters."""
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise invalid(
            "external_id",
            "wrong_type",
            'external_id must be a string such as "crm-1042" (your CRM\'s id) or be left out.',
        )
    text = one_line(value)
    if len(text) > MAX_EXTERNAL_ID:
        raise invalid(
            "external_id",
            "too_long",
            f"external_id is {len(text)} characters long; the limit is {MAX_EXTERNAL_ID}.",
        )
    return text or None


def _field_value(name: str, value: object) -> str:
    if isinstance(value, str):
        text = value
    elif isinstance(value, int | float) and not isinstance(value, bool):
        text = str(value)  # CRM exports carry numbers; we keep their text
    else:
        raise invalid(
            "fields",
            "wrong_type",
            f"fields.{name:.{MAX_FIELD_NAME}} must be a string (or a number), "
            f"got {type(value).__name__}.",
        )
    text = text.replace("\x00", "")  # PostgreSQL refuses NUL; a value may keep its newlines
    if len(text) > MAX_FIELD_VALUE:
        raise invalid(
            "fields",
            "too_long",
            f"fields.{name} is {len(text)} characters long; the limit is {MAX_FIELD_VALUE}.",
        )
    return text


def _clean_fields(value: object) -> dict[str, str]:
    """Custom fields checked and cleaned, all but their size as JSON."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise invalid(
            "fields",
            "wrong_type",
            'fields must be a JSON object of names to strings, e.g. {"city": "Київ"}.',
        )
    if len(value) > MAX_FIELDS:
        raise invalid(
            "fields",
            "too_many",
            f"fields has {len(value)} entries; the limit is {MAX_FIELDS}: drop the ones "
            "the operators do not need.",
        )
    fields: dict[str, str] = {}
    for name, raw in value.items():
        clean = _checked_names.get(name) or _field_name(name)
        if type(raw) is str and len(raw) <= MAX_FIELD_VALUE and "\x00" not in raw:
            fields[clean] = raw  # the usual value, as _field_value would leave it
        else:
            fields[clean] = _field_value(clean, raw)
    return fields


_checked_names: dict[str, str] = {}
"""Field names already checked, to their cleaned form: an import's rows repeat the same few
(its header) a million times."""


def _field_name(name: str) -> str:
    clean = one_line(name)
    if not clean or len(clean) > MAX_FIELD_NAME:
        raise invalid(
            "fields",
            "invalid_name",
            f"field names must be 1 to {MAX_FIELD_NAME} characters long, "
            f"got {name!r:.{MAX_FIELD_NAME + 2}}.",
        )
    if len(_checked_names) >= 1024:  # bounded: names sent by clients are not all a header's
        _checked_names.clear()
    _checked_names[name] = clean
    return clean


def _fields_bytes(fields: dict[str, str]) -> bytes:
    """The fields' JSON as ``campaign_rows.extra`` stores it (the bytes of
    ``storage.rows_write.extra_json``: pinned by tests/test_text.py), to measure it."""
    return orjson.dumps(fields, option=orjson.OPT_SORT_KEYS)


def _too_large() -> ValidationError:
    return invalid(
        "fields",
        "too_large",
        f"fields take more than {MAX_FIELDS_BYTES} bytes as JSON: shorten the values.",
    )


def parse_fields(value: object) -> dict[str, str]:
    """Custom fields: a JSON object of at most 50 names (1-64 characters) to strings."""
    fields = _clean_fields(value)
    if fields and len(_fields_bytes(fields)) > MAX_FIELDS_BYTES:
        raise _too_large()
    return fields


def parse_fields_json(value: object) -> str | None:
    """``parse_fields``, answered as ``campaign_rows.extra`` stores it (``None`` for none):
    the JSON made once, for both the size check and the row."""
    fields = _clean_fields(value)
    if not fields:
        return None
    data = _fields_bytes(fields)
    if len(data) > MAX_FIELDS_BYTES:
        raise _too_large()
    return data.decode()


def parse_new_row(obj: object, region: str) -> NewRow:
    """One row of a bulk request or an import: ``{"phone_number", "fio"?, "external_id"?,
    "fields"?}`` and the dialer's ``priority``, ``call_next``, ``tz``, ``consent_basis``,
    ``consent_at``, ``consent_source`` (``rows.dialer_fields``).  The number and the name are
    checked exactly as on the compatible endpoint (same codes and reasons); unknown keys are
    ignored."""
    if not isinstance(obj, dict):
        raise ValidationError(
            'each row must be a JSON object such as {"phone_number": "380930000000"}.',
            code="invalid_row",
            reason="wrong_type",
        )
    fio = parse_fio(obj.get("fio"))
    phone = normalize_phone(obj.get("phone_number"), region)
    external_id = parse_external_id(obj.get("external_id"))
    fields = parse_fields(obj.get("fields"))
    dialer = parse_dialer_fields(obj)
    return NewRow(
        phone_raw=phone.raw,
        phone_e164=phone.e164,
        fio=fio,
        external_id=external_id,
        fields=fields,
        priority=dialer.priority,
        call_next=dialer.call_next,
        tz=dialer.tz,
        consent_basis=dialer.consent_basis,
        consent_at=dialer.consent_at,
        consent_source=dialer.consent_source,
    )


def parse_import_row(
    phone: object, fio: object, external_id: object, fields: object, region: str
) -> ImportRow:
    """``parse_new_row`` for an import's record, straight to the tuple an ``ImportChunk``
    carries (no dict, no ``NewRow``: a million of each cost the worker ~1 s).  Same checks in
    the same order, so the same error for the same record."""
    clean_fio = parse_fio(fio)
    number = normalize_phone(phone, region)
    return (
        clean_fio,
        number.raw,
        number.e164,
        parse_external_id(external_id),
        parse_fields_json(fields),
    )


def parse_rows(items: Sequence[object], region: str) -> list[NewRow | ValidationError]:
    """Each item parsed, or the error that rejects it; never raises for a bad row."""
    parsed: list[NewRow | ValidationError] = []
    for obj in items:
        try:
            parsed.append(parse_new_row(obj, region))
        except ValidationError as exc:
            parsed.append(exc)
    return parsed

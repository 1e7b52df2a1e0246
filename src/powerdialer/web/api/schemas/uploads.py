"""The multipart bodies of the upload routes (an import, a preview), described for the
OpenAPI document: FastAPI cannot see them, since the routes stream the body themselves
(:mod:`powerdialer.web.uploads`)."""

from __future__ import annotations

from typing import Any

UPLOAD_EXAMPLE = {
    "file": "(the file's bytes: Клієнти.csv)",
    "mapping": '{"phone": "Телефон", "fio": "ПІБ"}',
    "keep_valid": False,
}


_FORM_FIELDS = {
    "file": {
        "type": "string",
        "format": "binary",
        "description": "The CRM export: CSV/TSV (any usual encoding and delimiter), XLSX, XLS, "
        "ODS or JSON Lines.",
    },
    "mapping": {
        "type": "string",
        "description": 'Optional JSON: {"phone": "Телефон", "fio": "ПІБ", "external_id": null,'
        ' "fields": ["Місто", "UF_CRM_1612345678"]}; header names or column numbers (0 = A); '
        "a key left out is detected; fields: the columns kept as custom fields (at most 50; "
        "default: the other columns, the first 50).",
    },
}
UPLOAD_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "example": UPLOAD_EXAMPLE,
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        **_FORM_FIELDS,
                        "keep_valid": {
                            "type": "boolean",
                            "default": False,
                            "description": "If the file breaks midway (a bad byte, an "
                            "unclosed quote), import the rows before the break instead of "
                            "nothing.",
                        },
                    },
                },
            }
        },
    }
}
PREVIEW_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "example": {k: v for k, v in UPLOAD_EXAMPLE.items() if k != "keep_valid"},
                "schema": {"type": "object", "required": ["file"], "properties": _FORM_FIELDS},
            }
        },
    }
}

"""A campaign's rows as a download, for the API and the web UI alike: CSV or XLSX, both
streamed as they are read (the first bytes leave at once, memory stays flat)."""

from __future__ import annotations

from typing import Literal
from urllib.parse import quote

from starlette.responses import StreamingResponse

from powerdialer import exporting
from powerdialer.storage import Store

Format = Literal["csv", "xlsx"]


def disposition(plan: exporting.ExportPlan, extension: str) -> str:
    """``attachment`` with an ASCII name and the full Unicode one (RFC 6266)."""
    fallback, full = exporting.file_names(plan, extension)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(full, safe='')}"


def export_response(
    store: Store, plan: exporting.ExportPlan, file_format: Format
) -> StreamingResponse:
    if file_format == "csv":
        chunks, media_type = exporting.csv_chunks(store, plan), exporting.CSV_TYPE
    else:
        chunks, media_type = exporting.xlsx_chunks(store, plan), exporting.XLSX_TYPE
    # A sync iterator: Starlette reads it in a worker thread (database pages, compression).
    return StreamingResponse(
        chunks,
        media_type=media_type,
        headers={"Content-Disposition": disposition(plan, file_format)},
    )

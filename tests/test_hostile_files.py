"""Untrusted files never take the server down: workbooks that ask a dense reader for billions
of cells are refused before they are read (``workbook_too_large``), and whatever still costs
too much fails in its child process (``file_too_complex``) while the app goes on.  In process,
through the API's preview and import jobs; the UI's preview is in tests/ui, a real server
process in tests/e2e."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import httpx
import openpyxl
import pytest

from powerdialer.importing.runner import read_limits
from powerdialer.reader.bounds import WorkbookLimits
from powerdialer.reader.errors import ReaderError
from powerdialer.reader.open import open_table
from powerdialer.rows.xlsx import stream
from powerdialer.settings import Settings, SettingsError
from powerdialer.storage import Store
from tests.conftest import Persona, StartApp, client_of, stored_rows
from tests.hostile import (
    HEADER_ROW,
    HOSTILE,
    ODS_HEADER,
    broken_sheet_xlsx,
    deep_jsonl,
    lying_xlsx,
    ods,
    xlsx,
)
from tests.test_import_jobs import run_import

pytestmark = pytest.mark.anyio

PREVIEW = "/power-dialer/imports/preview"
CASES = sorted(HOSTILE)


async def preview(
    client: httpx.AsyncClient, persona: Persona, name: str, content: bytes
) -> httpx.Response:
    return await client.post(PREVIEW, headers=persona.headers, files={"file": (name, content)})


async def still_serving(client: httpx.AsyncClient, persona: Persona) -> None:
    assert (await client.get("/healthz")).status_code == 200
    answer = await preview(client, persona, "ok.csv", b"phone\n380931234567\n")
    assert answer.status_code == 200, answer.text
    assert answer.json()["rows"][0]["phone_e164"] == "+380931234567"


def refused(answer: httpx.Response, code: str) -> str:
    assert answer.status_code == 422, answer.text
    error: dict[str, Any] = answer.json()["error"]
    assert (error["code"], error["field"]) == (code, "file")
    message: str = error["message"]
    return message


# --- the bounds, before any reader --------------------------------------------------------


@pytest.mark.parametrize("name", CASES)
def test_the_reader_refuses_a_hostile_workbook_before_reading_it(name: str) -> None:
    build, code = HOSTILE[name]
    with pytest.raises(ReaderError) as caught:
        open_table(io.BytesIO(build()), filename=name)
    assert caught.value.code == code
    assert "save it as CSV" in str(caught.value)


def _openpyxl_book() -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Телефон", "ПІБ", *(f"Поле {i}" for i in range(148))])
    for i in range(300):
        sheet.append([f"38093{i:07d}", "Іван", *range(148)])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


REAL_BOOKS: dict[str, Callable[[], bytes]] = {
    "openpyxl-150-columns.xlsx": _openpyxl_book,
    # Our own export: cells without references, one after the other.
    "export.xlsx": lambda: b"".join(
        stream(["phone", "fio"], [[[f"38093{i:07d}", "Іван"] for i in range(5000)]])
    ),
    # LibreOffice pads a sheet with empty repeated rows and columns to the sheet's end.
    "libreoffice.ods": lambda: ods(
        ODS_HEADER + '<table:table-row table:number-rows-repeated="1048574">'
        '<table:table-cell table:number-columns-repeated="16384"/></table:table-row>'
    ),
}


@pytest.mark.parametrize("name", sorted(REAL_BOOKS))
def test_real_workbooks_pass_the_bounds(name: str) -> None:
    with open_table(io.BytesIO(REAL_BOOKS[name]()), filename=name) as table:
        records = list(table)
    assert records[0].phone.startswith("38093")


# --- the API's preview and import jobs -----------------------------------------------------


@pytest.mark.parametrize("name", CASES)
async def test_the_preview_refuses_a_hostile_workbook_and_the_app_goes_on(
    client: httpx.AsyncClient, owner: Persona, name: str
) -> None:
    build, code = HOSTILE[name]
    message = refused(await preview(client, owner, name, build()), code)
    assert "POWERDIALER_" in message or "ZIP bomb" in message
    await still_serving(client, owner)


@pytest.mark.parametrize("name", CASES)
async def test_an_import_of_a_hostile_workbook_fails_with_the_code_and_stores_nothing(
    client: httpx.AsyncClient, owner: Persona, store: Store, name: str
) -> None:
    build, code = HOSTILE[name]
    job = await run_import(client, owner, build(), name)
    assert job["status"] == "failed"
    assert job["error"]["code"] == code
    assert stored_rows(store, owner) == []
    await still_serving(client, owner)


async def test_a_line_nested_too_deep_is_refused_not_a_server_error(
    client: httpx.AsyncClient, owner: Persona, store: Store
) -> None:
    answer = await preview(client, owner, "deep.jsonl", deep_jsonl())
    if answer.status_code == 422:  # the whole file: it nests deeper than the reader follows
        refused(answer, "file_too_complex")
    else:  # or that line alone, as a rejected row
        assert answer.status_code == 200, answer.text
        assert answer.json()["rows"][1]["error"] is not None
    job = await run_import(client, owner, deep_jsonl(), "deep.jsonl")
    assert (job["error"] or {}).get("code") != "internal_error", job
    assert len(stored_rows(store, owner)) <= 1
    await still_serving(client, owner)


# --- the children's limits: memory and time ------------------------------------------------

# 10,000,000 cells (A1 to J1000000): 320 MiB to calamine, with 25 records at the top (the
# preview reads no further).  Past the cells limit, so these tests lift it: the file then
# reaches the reader, and only the memory limit stands.
EXPENSIVE = xlsx(
    HEADER_ROW
    + "".join(f'<row r="{n}"><c r="A{n}"><v>3809312345{n:02d}</v></c></row>' for n in range(2, 27))
    + '<row r="1000000"><c r="J1000000"><v>1</v></c></row>'
)


async def test_a_preview_over_the_memory_limit_is_a_clear_error(
    started_app: StartApp, owner: Persona
) -> None:
    async with (
        started_app(max_workbook_cells=10**12, reader_memory_mb=256) as app,
        client_of(app) as client,
    ):
        message = refused(await preview(client, owner, "wide.xlsx", EXPENSIVE), "file_too_complex")
        assert "256 MiB" in message
        assert "POWERDIALER_READER_MEMORY_MB" in message
        await still_serving(client, owner)
    # The same file under the default limit reads: it was the limit that refused it.
    async with started_app(max_workbook_cells=10**12) as app, client_of(app) as client:
        answer = await preview(client, owner, "wide.xlsx", EXPENSIVE)
        assert answer.status_code == 200, answer.text
        assert answer.json()["rows"][0]["phone_e164"] == "+380931234502"


async def test_an_import_over_the_memory_limit_fails_with_a_clear_error(
    started_app: StartApp, owner: Persona, store: Store
) -> None:
    async with (
        started_app(max_workbook_cells=10**12, reader_memory_mb=256) as app,
        client_of(app) as client,
    ):
        job = await run_import(client, owner, EXPENSIVE, "wide.xlsx")
        assert job["status"] == "failed"
        assert job["error"]["code"] == "file_too_complex"
        assert "256 MiB" in job["error"]["message"]
        assert stored_rows(store, owner) == []
        await still_serving(client, owner)


async def test_a_preview_over_the_time_limit_is_a_clear_error(
    started_app: StartApp, owner: Persona
) -> None:
    # Three million rows of empty cells before any header: ~1 s of reading, 40x the limit.
    slow = b";\n" * 3_000_000 + b"phone\n380931234567\n"
    async with started_app(preview_timeout_seconds=0.025) as app, client_of(app) as client:
        message = refused(await preview(client, owner, "slow.csv", slow), "file_too_complex")
        assert "POWERDIALER_PREVIEW_TIMEOUT" in message
        assert (await client.get("/healthz")).status_code == 200


def test_the_limits_come_from_the_environment() -> None:
    settings = Settings.from_env(
        {
            "POWERDIALER_MAX_WORKBOOK_CELLS": "5000000",
            "POWERDIALER_MAX_WORKBOOK_BYTES": "104857600",
            "POWERDIALER_READER_MEMORY_MB": "512",
            "POWERDIALER_PREVIEW_TIMEOUT": "15",
        }
    )
    limits = read_limits(settings)
    assert limits.workbook == WorkbookLimits(max_cells=5_000_000, max_bytes=100 << 20)
    assert (limits.memory_bytes, limits.preview_seconds) == (512 << 20, 15.0)
    defaults = read_limits(Settings.from_env({}))
    assert defaults.workbook == WorkbookLimits(20_000_000, 1 << 30)
    assert (defaults.memory_bytes, defaults.preview_seconds) == (2048 << 20, 60.0)
    with pytest.raises(SettingsError, match="POWERDIALER_READER_MEMORY_MB"):
        Settings.from_env({"POWERDIALER_READER_MEMORY_MB": "64"})


async def test_a_workbook_that_lies_about_its_size_is_refused_as_corrupt(
    client: httpx.AsyncClient, owner: Persona
) -> None:
    refused(await preview(client, owner, "lying.xlsx", lying_xlsx()), "corrupt_file")
    await still_serving(client, owner)


async def test_a_sheet_of_broken_xml_is_a_corrupt_file_in_the_preview_and_the_job(
    client: httpx.AsyncClient, owner: Persona
) -> None:
    refused(await preview(client, owner, "broken.xlsx", broken_sheet_xlsx()), "corrupt_file")
    job = await run_import(client, owner, broken_sheet_xlsx(), "broken.xlsx")
    assert (job["status"], job["error"]["code"]) == ("failed", "corrupt_file")
    await still_serving(client, owner)

"""Exporting a campaign as CSV and XLSX: the content read back, the custom field columns,
formula injection defused, paging, filters, and the failure paths."""

from __future__ import annotations

import csv
import io
import json
import random
import string
import zipfile
from typing import Any
from urllib.parse import unquote

import httpx
import openpyxl
import pytest

from powerdialer import campaigns
from powerdialer.reader.open import open_table
from powerdialer.rows import exporting
from powerdialer.rows.models import RowFilter
from powerdialer.storage import Store
from tests.conftest import COMPAT, Persona
from tests.test_api_campaigns import BASE, assert_error
from tests.test_api_rows import insert_row

pytestmark = pytest.mark.anyio

T0_TEXT = "2026-03-01T12:00:00.000000Z"  # tests.test_api_rows.T0 as exports write it
HEADER = [
    "id",
    "fio",
    "phone_number",
    "phone_e164",
    "source",
    "status",
    "attempts",
    "external_id",
    "created_at",
    "updated_at",
    "priority",
    "call_next",
    "tz",
    "consent_basis",
    "consent_at",
    "consent_source",
    "final_state",
    "due_at",
]
DIALER_DEFAULTS = ["0", "false", "", "", "", "", ""]  # priority … final_state


async def export(
    client: httpx.AsyncClient, persona: Persona, file_format: str, **params: str
) -> httpx.Response:
    return await client.get(
        f"{BASE}/{persona.campaign_id}/export",
        params={"format": file_format, **params},
        headers=persona.headers,
    )


def read_csv(answer: httpx.Response) -> list[list[str]]:
    assert answer.status_code == 200, answer.text
    assert answer.content.startswith(b"\xef\xbb\xbf")  # Excel reads it as UTF-8
    return list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"), newline="")))


def read_xlsx(answer: httpx.Response) -> list[list[list[Any]]]:
    """Every sheet's rows, the cells' values as openpyxl reads them."""
    assert answer.status_code == 200, answer.text
    assert "content-length" not in answer.headers  # streamed as it is made
    with zipfile.ZipFile(io.BytesIO(answer.content)) as archive:
        assert archive.testzip() is None  # every part's CRC checks out
    book = openpyxl.load_workbook(io.BytesIO(answer.content), read_only=True)
    return [[list(row) for row in sheet.iter_rows(values_only=True)] for sheet in book.worksheets]


def add_sample(store: Store, owner: Persona) -> list[int]:
    return [
        insert_row(store, owner, "+380930000001", fio="Іван Петренко", external_id="crm-1",
                   fields={"city": "Київ", "manager": "Олена"}),
        insert_row(store, owner, "+380930000002", fio="Ґанна Їжак", source="import",
                   fields={"city": "Львів", "fio": "from the CRM"}),
        insert_row(store, owner, "+380930000003", fio=None, status="done"),
    ]  # fmt: skip


async def test_it_exports_csv_with_a_bom_cyrillic_and_one_column_per_field(
    client: httpx.AsyncClient, owner: Persona, store: Store
) -> None:
    ids = add_sample(store, owner)
    answer = await export(client, owner, "csv")
    assert answer.headers["content-type"] == "text/csv; charset=utf-8"
    header, *lines = read_csv(answer)
    assert header == [*HEADER, "city", "field:fio", "manager"]
    assert lines[0] == [
        str(ids[0]), "Іван Петренко", "+380930000001", "+380930000001", "api", "pending", "0",
        "crm-1", T0_TEXT, T0_TEXT, *DIALER_DEFAULTS, "", "Київ", "", "Олена",
    ]  # fmt: skip
    assert lines[1][1] == "Ґанна Їжак"
    assert lines[1][4] == "import"
    assert lines[1][18:] == ["Львів", "from the CRM", ""]
    assert lines[2][1] == ""
    assert lines[2][5] == "done"
    assert answer.content.count(b"\r\n") == 4  # RFC 4180 line ends


async def test_the_download_has_a_safe_file_name(
    client: httpx.AsyncClient, owner: Persona, store: Store
) -> None:
    name = 'Ліди "осінь"/2026\r\nX-Evil: 1'
    campaigns.update_campaign(
        store, owner.project_id, owner.campaign_id, campaigns.CampaignChanges(name=name)
    )
    answer = await export(client, owner, "csv")
    disposition = answer.headers["content-disposition"]
    assert "\r" not in disposition
    assert "\n" not in disposition
    fallback = disposition.split('filename="', 1)[1].split('"', 1)[0]
    assert fallback == f"campaign-{owner.campaign_id}-2026-X-Evil-1.csv"
    full = unquote(disposition.split("filename*=UTF-8''", 1)[1])
    assert full == f"campaign-{owner.campaign_id}-Ліди-осінь-2026-X-Evil-1.csv"
    assert "x-evil" not in answer.headers


async def test_it_defuses_cells_a_spreadsheet_would_run_as_formulas(
    client: httpx.AsyncClient, owner: Persona, store: Store
) -> None:
    insert_row(
        store,
        owner,
        "+380930000001",
        fio='=HYPERLINK("http://evil","x")',
        external_id="@SUM(A1)",
        fields={"note": "-2+3", "=cmd": "ok"},
    )
    insert_row(store, owner, "+380930000002", fio="-Іван")  # fmt: skip
    header, first, second = read_csv(await export(client, owner, "csv"))
    assert header[-2:] == ["'=cmd", "note"]
    assert first[1] == '\'=HYPERLINK("http://evil","x")'
    assert first[7] == "'@SUM(A1)"
    assert first[-1] == "-2+3"  # only digits and signs: no function, no reference
    assert first[2:4] == ["+380930000001", "+380930000001"]  # numbers stay as they are
    assert second[1] == "'-Іван"


async def test_it_exports_xlsx_that_excel_and_openpyxl_read(
    client: httpx.AsyncClient, owner: Persona, store: Store
) -> None:
    ids = add_sample(store, owner)
    insert_row(store, owner, "+380930000004", fio="=1+1", fields={"city": "@x"})
    answer = await export(client, owner, "xlsx")
    assert answer.headers["content-type"] == exporting.XLSX_TYPE
    assert answer.headers["content-disposition"].startswith(
        f'attachment; filename="campaign-{owner.campaign_id}-Owner-leads.xlsx"'
    )
    (sheet,) = read_xlsx(answer)
    assert sheet[0] == [*HEADER, "city", "field:fio", "manager"]
    assert sheet[1] == [
        ids[0], "Іван Петренко", "+380930000001", "+380930000001", "api", "pending", 0,
        "crm-1", T0_TEXT, T0_TEXT, 0, "false", *[None] * 6, "Київ", None, "Олена",
    ]  # fmt: skip
    assert sheet[3][1] is None  # no name: an empty cell
    # Strings are written as strings, never as formulas: nothing to defuse.
    assert sheet[4][1] == "=1+1"
    assert sheet[4][18] == "@x"


async def test_xlsx_cells_are_text_not_formulas(
    client: httpx.AsyncClient, owner: Persona, store: Store
) -> None:
    insert_row(store, owner, "+380930000001", fio="=1+1")
    answer = await export(client, owner, "xlsx")
    book = openpyxl.load_workbook(io.BytesIO(answer.content))
    cell = book.worksheets[0]["B2"]
    assert cell.value == "=1+1"
    assert cell.data_type == "s"


async def test_an_empty_campaign_exports_the_header_only(
    client: httpx.AsyncClient, owner: Persona
) -> None:
    assert read_csv(await export(client, owner, "csv")) == [HEADER]
    assert read_xlsx(await export(client, owner, "xlsx")) == [[HEADER]]


async def test_it_exports_every_row_once_across_many_pages(
    client: httpx.AsyncClient, owner: Persona, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(exporting, "PAGE", 3)
    ids = [insert_row(store, owner, f"+3809300000{n:02d}") for n in range(11)]
    _, *lines = read_csv(await export(client, owner, "csv"))
    assert [int(line[0]) for line in lines] == ids
    (sheet,) = read_xlsx(await export(client, owner, "xlsx"))
    assert [line[0] for line in sheet[1:]] == ids


async def test_an_xlsx_longer_than_a_sheet_continues_on_the_next(
    client: httpx.AsyncClient, owner: Persona, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(exporting, "XLSX_MAX_ROWS", 4)  # a header and 3 rows a sheet
    ids = [insert_row(store, owner, f"+3809300000{n:02d}") for n in range(7)]
    sheets = read_xlsx(await export(client, owner, "xlsx"))
    assert [len(s) for s in sheets] == [4, 4, 2]
    assert all(s[0] == HEADER for s in sheets)
    assert [line[0] for s in sheets for line in s[1:]] == ids


async def test_it_puts_fields_in_one_json_column_when_there_are_too_many_names(
    client: httpx.AsyncClient, owner: Persona, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(exporting, "MAX_FIELD_COLUMNS", 1)
    insert_row(store, owner, "+380930000001", fields={"city": "Київ", "age": "30"})
    insert_row(store, owner, "+380930000002")
    header, first, second = read_csv(await export(client, owner, "csv"))
    assert header == [*HEADER, "fields"]
    assert json.loads(first[-1]) == {"city": "Київ", "age": "30"}
    assert second[-1] == ""


async def test_a_malformed_fields_column_does_not_break_the_export(
    client: httpx.AsyncClient, owner: Persona, store: Store
) -> None:
    insert_row(store, owner, "+380930000001", extra="{broken")
    insert_row(store, owner, "+380930000002", fields={"city": "Київ"})
    header, first, second = read_csv(await export(client, owner, "csv"))
    assert [first[2], second[2]] == ["+380930000001", "+380930000002"]
    # SQLite skips the malformed value; PostgreSQL cannot, and puts fields in one column.
    assert header[-1] == ("city" if store.is_sqlite else "fields")
    assert first[-1] == ""


async def test_the_export_applies_the_row_list_filters(
    client: httpx.AsyncClient, owner: Persona, store: Store
) -> None:
    add_sample(store, owner)
    _, *lines = read_csv(await export(client, owner, "csv", q="ґАННА"))
    assert [line[1] for line in lines] == ["Ґанна Їжак"]
    header, *lines = read_csv(await export(client, owner, "csv", status="done"))
    assert [line[5] for line in lines] == ["done"]
    assert header == HEADER  # the done row has no fields
    invalid = await export(client, owner, "csv", created_from="soon")
    assert_error(invalid, 422, "invalid_created_from", "created_from")


async def test_it_exports_rows_sent_to_the_compatible_endpoint(
    client: httpx.AsyncClient, owner: Persona
) -> None:
    await client.post(COMPAT, json=owner.row("093-000-00-00"), headers=owner.headers)
    _, line = read_csv(await export(client, owner, "csv"))
    assert line[1:5] == ["Іван Петренко", "093-000-00-00", "+380930000000", "api"]


@pytest.mark.parametrize("file_format", ["pdf", "CSV", ""])
async def test_it_refuses_an_unknown_format(
    client: httpx.AsyncClient, owner: Persona, file_format: str
) -> None:
    assert_error(await export(client, owner, file_format), 422, "invalid_field", "format")


async def test_exporting_a_missing_campaign_is_not_found(
    client: httpx.AsyncClient, owner: Persona
) -> None:
    for file_format in ("csv", "xlsx"):
        answer = await client.get(
            f"{BASE}/999999/export", params={"format": file_format}, headers=owner.headers
        )
        assert_error(answer, 404, "campaign_not_found")


async def test_the_xlsx_leaves_a_page_at_a_time(
    owner: Persona, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(exporting, "PAGE", 3)
    rnd = random.Random(7)
    # Random text, so that a page's XML compresses to more than zlib holds back.
    notes = ["".join(rnd.choices(string.ascii_letters, k=30_000)) for _ in range(11)]
    ids = [
        insert_row(store, owner, f"+3809300000{n:02d}", fields={"note": notes[n]})
        for n in range(11)
    ]
    plan = exporting.plan_export(store, owner.project_id, owner.campaign_id, RowFilter())
    chunks = list(exporting.xlsx_chunks(store, plan))
    # A piece a page of rows (4 pages), then the closing parts: the download starts with the
    # first page, not once the whole workbook is built.
    assert len(chunks) == 5
    assert chunks[0].startswith(b"PK\x03\x04")
    book = openpyxl.load_workbook(io.BytesIO(b"".join(chunks)), read_only=True)
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    assert [(row[0], row[-1]) for row in rows[1:]] == list(zip(ids, notes, strict=True))


async def test_an_xlsx_export_imports_back_as_it_was(
    client: httpx.AsyncClient, owner: Persona, store: Store, tmp_path: Any
) -> None:
    insert_row(store, owner, "+380930000001", fio="Іван & <Петренко>", external_id="crm-1",
               fields={"city": "Київ", "note": "  line one\nline two\x01 "})  # fmt: skip
    insert_row(store, owner, "+380930000002", fio="=SUM(A1)", fields={"city": "_x0041_"})
    answer = await export(client, owner, "xlsx")
    (sheet,) = read_xlsx(answer)
    assert sheet[1][1] == "Іван & <Петренко>"
    assert sheet[1][-1] == "  line one\nline two_x0001_ "  # openpyxl leaves Excel's escape
    path = tmp_path / "export.xlsx"
    path.write_bytes(answer.content)
    with open_table(str(path), filename="export.xlsx") as table:
        records = list(table)
    assert [(r.phone, r.fio, r.external_id) for r in records] == [
        ("+380930000001", "Іван & <Петренко>", "crm-1"),
        ("+380930000002", "=SUM(A1)", None),
    ]
    # Characters XML cannot hold come back through Excel's _xHHHH_ escape.
    assert records[0].extra["city"] == "Київ"
    assert records[0].extra["note"] == "line one\nline two\x01"
    assert records[1].extra["city"] == "_x0041_"  # text that looks like an escape stays text

"""The CRM-export reader against the files Ukrainian CRMs and Excel really produce.

Every fixture is built here from bytes (or with openpyxl), one per quirk, so a failing test
names the quirk that broke.
"""

from __future__ import annotations

import datetime
import io
import json
import tracemalloc
import zipfile
from collections.abc import Callable
from pathlib import Path

import openpyxl  # type: ignore[import-untyped]
import pytest

from powerdialer.reader.errors import ColumnError, EncodingError, FormatError, MalformedError
from powerdialer.reader.headers import AUTO, Mapping, looks_like_phone, normalize_header, role_of
from powerdialer.reader.open import open_table, preview
from powerdialer.reader.sources import cell_text
from powerdialer.reader.table import Record

Write = Callable[[str, bytes], Path]


@pytest.fixture
def write(tmp_path: Path) -> Write:
    def _write(name: str, data: bytes) -> Path:
        path = tmp_path / name
        path.write_bytes(data)
        return path

    return _write


def read(path: Path | io.BytesIO, **kwargs: object) -> list[Record]:
    with open_table(path, **kwargs) as table:  # type: ignore[arg-type]
        return list(table)


def xlsx(rows: dict[str, object], sheets: tuple[str, ...] = ()) -> bytes:
    """A workbook whose first sheet has ``rows`` ({"B3": value}) and empty extra ``sheets``."""
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    for cell, value in rows.items():
        sheet[cell] = value
    for name in sheets:
        book.create_sheet(name)["A1"] = "Телефон"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# --- CSV: encodings and delimiters ------------------------------------------------------------


def test_it_reads_cp1251_semicolon_csv_with_russian_headers(write: Write) -> None:
    text = "ФИО;Телефон;Город\r\nИванов Иван;0930000000;Киев\r\nПётр Петров;0930000001;Днепр\r\n"
    path = write("export.csv", text.encode("cp1251"))
    with open_table(path) as table:
        assert (table.format, table.encoding, table.delimiter) == ("csv", "cp1251", ";")
        assert table.mapping.describe() == {"phone": "Телефон", "fio": "ФИО", "external_id": None}
        records = list(table)
    assert records == [
        Record(2, "0930000000", "Иванов Иван", None, {"Город": "Киев"}),
        Record(3, "0930000001", "Пётр Петров", None, {"Город": "Днепр"}),
    ]


def test_a_name_kept_in_parts_is_joined_surname_first(write: Write) -> None:
    # Bitrix24 and most CRMs export "Имя", "Фамилия", "Отчество" as columns of their own.
    text = (
        "Ім'я;Прізвище;Телефон;По батькові;Місто\r\n"
        "Іван;Петренко;0930000000;Іванович;Київ\r\n"
        "Олена;;0930000001;;Львів\r\n"
    )
    records = read(write("export.csv", text.encode("utf-8")))
    assert records == [
        Record(2, "0930000000", "Петренко Іван Іванович", None, {"Місто": "Київ"}),
        Record(3, "0930000001", "Олена", None, {"Місто": "Львів"}),
    ]


def test_name_parts_join_when_the_name_column_is_one_of_them_chosen_or_detected(
    write: Write,
) -> None:
    alone = write("alone.csv", "Имя;Телефон;Компания\r\nИван;0930000000;ТОВ\r\n".encode())
    assert read(alone) == [Record(2, "0930000000", "Иван", None, {"Компания": "ТОВ"})]
    text = "Имя;Фамилия;Телефон;Компания\r\nИван;Петров;0930000000;ТОВ\r\n"
    parts = write("parts.csv", text.encode())
    # The web UI sends the detected columns back as numbers: the parts still join.
    assert read(parts, mapping=Mapping(fio=0)) == [
        Record(2, "0930000000", "Петров Иван", None, {"Компания": "ТОВ"})
    ]
    assert read(parts, mapping=Mapping(fio="Компания")) == [
        Record(2, "0930000000", "ТОВ", None, {"Имя": "Иван", "Фамилия": "Петров"})
    ]


def test_it_reads_cp1251_csv_with_ukrainian_letters_and_apostrophe(write: Write) -> None:
    text = "Ім’я;Номер телефону\nҐанна Їжак;+380 93 000 00 00\nЄвген Шевчук;093-000-00-01\n"
    records = read(write("ua.csv", text.encode("cp1251")))
    assert [(r.fio, r.phone) for r in records] == [
        ("Ґанна Їжак", "+380 93 000 00 00"),
        ("Євген Шевчук", "093-000-00-01"),
    ]


def test_it_reads_utf8_csv_with_bom_and_comma_delimiter(write: Write) -> None:
    path = write("a.csv", "\ufeffName,Phone number\nІван,380930000000\n".encode())
    with open_table(path) as table:
        assert (table.encoding, table.delimiter, table.headers) == (
            "utf-8-sig",
            ",",
            ["Name", "Phone number"],
        )
        assert list(table) == [Record(2, "380930000000", "Іван")]


def test_it_reads_utf8_csv_without_bom(write: Write) -> None:
    path = write("a.csv", "ПІБ,Телефон\nОльга Коваль,380930000000\n".encode())
    with open_table(path) as table:
        assert table.encoding == "utf-8"
        assert list(table) == [Record(2, "380930000000", "Ольга Коваль")]


def test_it_reads_excels_utf16_tab_separated_unicode_text(write: Write) -> None:
    text = "Телефон\tПІБ\r\n380930000000\tІван Петренко\r\n"
    path = write("unicode.txt", text.encode("utf-16"))
    with open_table(path) as table:
        assert (table.encoding, table.delimiter) == ("utf-16", "\t")
        assert list(table) == [Record(2, "380930000000", "Іван Петренко")]


def test_it_reads_cyrillic_cp1251_names_that_appear_after_an_ascii_only_start(
    write: Write,
) -> None:
    # 70 KiB of Latin rows fill the whole encoding sample; the cp1251 name comes after it.
    latin = "".join(f"38093{i:07d};Name {i}\n" for i in range(3000))
    data = b"phone;name\n" + latin.encode() + "380931234567;Ірина\n".encode("cp1251")
    records = read(write("late.csv", data))
    assert records[-1] == Record(3002, "380931234567", "Ірина")


def test_it_detects_semicolon_when_names_contain_commas(write: Write) -> None:
    text = "Телефон;ПІБ\n380930000000;Петренко, Іван\n380930000001;Коваль, Ольга\n"
    with open_table(write("a.csv", text.encode())) as table:
        assert table.delimiter == ";"
        assert [r.fio for r in table] == ["Петренко, Іван", "Коваль, Ольга"]


def test_it_detects_comma_when_quoted_names_contain_semicolons(write: Write) -> None:
    text = 'phone,name\n380930000000,"Петренко; Іван"\n380930000001,"Коваль; Ольга"\n'
    with open_table(write("a.csv", text.encode())) as table:
        assert table.delimiter == ","
        assert [r.fio for r in table] == ["Петренко; Іван", "Коваль; Ольга"]


def test_it_obeys_excels_sep_line_and_keeps_physical_line_numbers(write: Write) -> None:
    text = "sep=,\nТелефон,ПІБ\n380930000000,Іван\n"
    with open_table(write("a.csv", text.encode())) as table:
        assert table.delimiter == ","
        assert list(table) == [Record(3, "380930000000", "Іван")]


def test_it_keeps_quoted_delimiters_and_newlines_inside_fields(write: Write) -> None:
    text = 'Телефон;ПІБ;Коментар\n380930000000;"Петренко; Іван";"рядок 1\nрядок 2"\n'
    (record,) = read(write("a.csv", text.encode()))
    assert record.fio == "Петренко; Іван"
    assert record.extra == {"Коментар": "рядок 1\nрядок 2"}


def test_it_reports_the_physical_line_where_each_record_starts(write: Write) -> None:
    text = (
        "Телефон;ПІБ;Коментар\r\n"  # 1
        "380930000001;Перший;\r\n"  # 2
        "\r\n"  # 3: blank line
        '380930000002;Другий;"три\r\nрядки\r\nкоментаря"\r\n'  # 4-6
        ";;\r\n"  # 7: a row of empty cells, as Excel writes them
        "380930000003;Третій;\r\n"  # 8
    )
    records = read(write("a.csv", text.encode()))
    assert [(r.line, r.fio) for r in records] == [(2, "Перший"), (4, "Другий"), (8, "Третій")]


def test_it_yields_a_record_with_an_empty_phone_so_the_caller_can_report_it(
    write: Write,
) -> None:
    records = read(write("a.csv", "Телефон;ПІБ\n;Без номера\n".encode()))
    assert records == [Record(2, "", "Без номера")]


def test_it_names_blank_and_repeated_extra_headers_by_column(write: Write) -> None:
    text = "Телефон;Тег;;Тег\n380930000000;a;b;c;d\n"
    (record,) = read(write("a.csv", text.encode()))
    assert record.extra == {"Тег": "a", "column_3": "b", "column_4": "c", "column_5": "d"}


# --- phone cells --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (380930000000.0, "380930000000"),  # Excel stores numbers as floats
        (380930000000, "380930000000"),
        ("3.8093E+11", "380930000000"),  # Excel's CSV of a numeric column
        ("3,8093E+11", "380930000000"),  # ... in a decimal-comma locale
        ("3,80930000001E+11", "380930000001"),
        ("3.8093E+1", "3.8093E+1"),  # not integral: left for the validator
        ("380930000000.0", "380930000000"),  # pandas-style float column
        ('="0930000000"', "0930000000"),  # CRM trick to keep Excel from eating the zero
        ("  +380 (93) 000-00-00\u00a0", "+380 (93) 000-00-00"),
        (None, ""),
        (datetime.date(2024, 3, 1), "2024-03-01"),
    ],
)
def test_cell_text_undoes_what_spreadsheets_do_to_numbers(value: object, expected: str) -> None:
    assert cell_text(value) == expected


def test_it_converts_scientific_notation_in_csv_phone_column_only(write: Write) -> None:
    text = "Телефон;Код\n3,8093E+11;1E5\n"
    (record,) = read(write("a.csv", text.encode("cp1251")))
    assert (record.phone, record.external_id) == ("380930000000", "1E5")


# --- workbooks ------------------------------------------------------------------------------


def test_it_reads_xlsx_numbers_as_digit_strings_and_dates_as_text(write: Write) -> None:
    rows: dict[str, object] = {
        "A1": "Телефон",
        "B1": "ПІБ",
        "C1": "ID",
        "D1": "Дата",
        "A2": 380930000000.0,
        "B2": "Іван",
        "C2": 12345,
        "D2": datetime.date(2024, 3, 1),
        "A3": 380930000001,
        "B3": "Ольга",
    }
    with open_table(write("crm.xlsx", xlsx(rows))) as table:
        assert (table.format, table.sheet) == ("xlsx", "Sheet")
        records = list(table)
    assert records == [
        Record(2, "380930000000", "Іван", "12345", {"Дата": "2024-03-01"}),
        Record(3, "380930000001", "Ольга"),
    ]


def test_it_reports_sheet_rows_and_columns_when_the_table_starts_at_b3(write: Write) -> None:
    rows: dict[str, object] = {"B3": "Телефон", "C3": "ПІБ", "B4": 380930000000, "B6": 380930000001}
    path = write("offset.xlsx", xlsx(rows))
    with open_table(path, mapping=Mapping(phone=1)) as table:  # column B, as the user sees it
        assert (table.mapping.phone, table.mapping.header_line) == (1, 3)
        assert [(r.line, r.phone) for r in table] == [(4, "380930000000"), (6, "380930000001")]


def test_it_skips_title_rows_above_the_header(write: Write) -> None:
    rows: dict[str, object] = {"A1": "Клієнти за березень", "A3": "ПІБ", "B3": "Тел."}
    rows |= {"A4": "Іван", "B4": "0930000000"}
    records = read(write("report.xlsx", xlsx(rows)))
    assert records == [Record(4, "0930000000", "Іван")]


def test_it_reads_the_sheet_asked_for_by_name_or_index(write: Write) -> None:
    path = write("two.xlsx", xlsx({"A1": "x"}, sheets=("Ліди",)))
    assert preview(path, sheet="Ліди").sheet == "Ліди"
    assert preview(path, sheet=1).sheets == ("Sheet", "Ліди")
    with pytest.raises(FormatError) as error:
        open_table(path, sheet="Архів")
    assert error.value.code == "sheet_not_found"
    assert "Ліди" in str(error.value)


def test_it_reads_an_xlsx_saved_under_a_csv_name(write: Write) -> None:
    path = write("renamed.csv", xlsx({"A1": "Phone", "A2": 380930000000}))
    with open_table(path) as table:
        assert table.format == "xlsx"
        assert list(table) == [Record(2, "380930000000")]


def test_it_reads_an_xlsx_from_an_unseekable_upload_stream() -> None:
    class Unseekable(io.BytesIO):
        def seekable(self) -> bool:
            return False

    upload = Unseekable(xlsx({"A1": "Phone", "A2": 380930000000}))
    assert read(upload) == [Record(2, "380930000000")]


def test_it_reads_ods(write: Write) -> None:
    def cell(kind: str, value: str) -> str:
        attr = f' office:value="{value}"' if kind == "float" else ""
        return (
            f'<table:table-cell office:value-type="{kind}"{attr}><text:p>{value}</text:p>'
            "</table:table-cell>"
        )

    ns = (
        'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"'
    )
    body = (
        f'<office:document-content {ns} office:version="1.2"><office:body><office:spreadsheet>'
        '<table:table table:name="Контакти">'
        f"<table:table-row>{cell('string', 'Телефон')}{cell('string', 'ПІБ')}</table:table-row>"
        f"<table:table-row>{cell('float', '380930000000')}{cell('string', 'Іван')}"
        "</table:table-row></table:table></office:spreadsheet></office:body>"
        "</office:document-content>"
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        mime = "application/vnd.oasis.opendocument.spreadsheet"
        archive.writestr(zipfile.ZipInfo("mimetype"), mime, compress_type=zipfile.ZIP_STORED)
        archive.writestr("content.xml", body)
        archive.writestr(
            "META-INF/manifest.xml",
            '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:'
            'manifest:1.0">'
            f'<manifest:file-entry manifest:full-path="/" manifest:media-type="{mime}"/>'
            "</manifest:manifest>",
        )
    with open_table(write("list.ods", out.getvalue())) as table:
        assert (table.format, table.sheet) == ("ods", "Контакти")
        assert list(table) == [Record(2, "380930000000", "Іван")]


# --- JSON Lines ----------------------------------------------------------------------------


def test_it_reads_json_lines_with_keys_as_headers(write: Write) -> None:
    lines = [
        {"phone_number": 380930000000, "fio": "Іван", "crm_id": "7"},
        {"phone_number": "380930000001", "city": "Львів"},
    ]
    data = "\n".join(json.dumps(line, ensure_ascii=False) for line in lines).encode()
    with open_table(write("rows.ndjson", data)) as table:
        assert table.mapping.describe() == {
            "phone": "phone_number",
            "fio": "fio",
            "external_id": "crm_id",
        }
        assert list(table) == [
            Record(1, "380930000000", "Іван", "7"),
            Record(2, "380930000001", None, None, {"city": "Львів"}),
        ]


def test_it_reports_a_broken_json_line_and_reads_on(write: Write) -> None:
    data = b'{"phone": "380930000000"}\n\n{"phone": \n[1, 2]\n{"phone": "380930000001"}\n'
    records = read(write("rows.jsonl", data))
    assert [(r.line, r.phone, r.error is not None) for r in records] == [
        (1, "380930000000", False),
        (3, "", True),
        (4, "", True),
        (5, "380930000001", False),
    ]
    assert records[2].error is not None
    assert "not an object" in records[2].error


def test_a_first_json_line_that_is_not_an_object_is_that_lines_error(write: Write) -> None:
    records = read(write("rows.jsonl", b'"380930000000"\n{"phone": "380930000001"}\n'))
    assert [(r.line, r.phone, r.error is not None) for r in records] == [
        (1, "", True),
        (2, "380930000001", False),
    ]


def test_it_refuses_json_lines_without_an_object_among_the_first_lines(write: Write) -> None:
    with pytest.raises(MalformedError) as error:
        open_table(write("rows.jsonl", b'"380930000000"\n' * 12 + b'{"phone": "1"}\n'))
    assert (error.value.code, error.value.line) == ("malformed_line", 1)


def test_each_unreadable_json_line_is_its_own_error_and_the_rest_is_read(write: Write) -> None:
    good = b'{"phone": "38093000000%d", "fio": "\xd0\x86\xd0\xb2\xd0\xb0\xd0\xbd"}\n'
    data = b"".join(
        [
            good % 0,
            good % 3,
            b'{"phone": "380930000009", "fio": "\xff\xfe bad bytes"}\n',  # not UTF-8
            b'{"phone": "380930000008", "x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}\n",
            b'{"phone": "380930000007", "x": ' + b"[" * 5000 + b"]" * 5000 + b"}\n",
            b'{"phone": "380930000006", "fio": "\\ud800 lone"}\n',  # a lone surrogate
            b'{"phone": "380930000005", "\\udfff": "key"}\n',
            b"[1, 2]\n",
            good % 1,
            b'{"phone": "380930000002", "fio": "\\ud83d\\ude00 pair"}\n',  # an emoji: fine
        ]
    )
    records = read(write("rows.jsonl", data))
    assert [(r.line, r.phone, r.error is not None) for r in records] == [
        (1, "380930000000", False),
        (2, "380930000003", False),
        (3, "", True),
        (4, "", True),
        (5, "", True),
        (6, "", True),
        (7, "", True),
        (8, "", True),
        (9, "380930000001", False),
        (10, "380930000002", False),
    ]
    errors = [r.error or "" for r in records]
    assert "utf-8" in errors[2]
    assert "too deep" in errors[3]
    assert "too deep" in errors[4]
    assert "surrogate" in errors[5]
    assert "surrogate" in errors[6]
    assert records[0].fio == "Іван"
    assert records[-1].fio == "\U0001f600 pair"


def test_it_refuses_a_json_array_and_asks_for_json_lines(write: Write) -> None:
    with pytest.raises(FormatError) as error:
        open_table(write("rows.json", b'[\n{"phone": "380930000000"}\n]'))
    assert error.value.code == "unsupported_format"
    assert "JSON Lines" in str(error.value)


# --- header detection ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    ["ПІБ", "П.І.Б.", "ФІО", "ФИО", "Ім'я", "Ім’я", "Імʼя", "Ім`я", "Имя", "Name", " Full  name ",
     "Contact", "Контакт", "Клієнт", "Клиент", "fio", "Прізвище, ім'я"],
)  # fmt: skip
def test_it_recognises_name_headers(header: str) -> None:
    assert role_of(header) == "fio"


@pytest.mark.parametrize(
    "header",
    ["Телефон", "Тел.", "Номер", "Номер телефону", "Номер телефона", "Мобільний", "Мобильный",
     "Phone", "PHONE NUMBER", "Mobile", "Tel", "phone_number", "number", "Телефон*",
     "Робочий телефон"],
)  # fmt: skip
def test_it_recognises_phone_headers(header: str) -> None:
    assert role_of(header) == "phone"


@pytest.mark.parametrize("header", ["id", "ID", "External ID", "external_id", "CRM ID", "Код"])
def test_it_recognises_external_id_headers(header: str) -> None:
    assert role_of(header) == "external_id"


def test_the_apis_own_column_names_win_so_an_export_imports_back(write: Write) -> None:
    # Our export has "id" (the row's) before "external_id" (the CRM's), and "phone_number"
    # before "phone_e164": each is a name the detector knows, the API's own names win.
    text = "id,fio,phone_number,phone_e164,external_id\n7,Іван,093 000 00 00,+380930000000,crm-1\n"
    with open_table(write("export.csv", text.encode())) as table:
        assert table.mapping.describe() == {
            "phone": "phone_number",
            "fio": "fio",
            "external_id": "external_id",
        }
        (record,) = list(table)
    assert (record.phone, record.external_id) == ("093 000 00 00", "crm-1")
    assert record.extra == {"id": "7", "phone_e164": "+380930000000"}


@pytest.mark.parametrize("header", ["Номер договору", "Місто", "Email", "Сума"])
def test_it_leaves_other_headers_as_custom_fields(header: str) -> None:
    assert role_of(header) is None


def test_header_normalisation_folds_case_space_and_apostrophes() -> None:
    assert normalize_header("  ІМ’Я_КЛІЄНТА ") == normalize_header("ім'я клієнта")


@pytest.mark.parametrize(
    ("text", "expected"),
    [("380930000000", True), ("+380 (93) 000-00-00", True), ("930000000", True),
     ("12345", False), ("Іван", False), ("2024-03-01", False)],
)  # fmt: skip
def test_it_tells_phone_like_cells(text: str, expected: bool) -> None:
    assert looks_like_phone(text) is expected


def test_it_reads_a_headerless_list_of_numbers_and_names(write: Write) -> None:
    text = "Іван Петренко;380930000000;Київ\nОльга;380930000001;Львів\n"
    with open_table(write("plain.csv", text.encode())) as table:
        assert not table.mapping.has_header
        assert table.mapping.describe() == {
            "phone": "column_2",
            "fio": "column_1",
            "external_id": None,
        }
        records = list(table)
    assert records[0] == Record(1, "380930000000", "Іван Петренко", None, {"column_3": "Київ"})
    assert records[1].line == 2


def test_it_reads_a_headerless_xlsx_of_excel_numbers(write: Write) -> None:
    records = read(write("plain.xlsx", xlsx({"A1": 380930000000.0, "A2": 380930000001.0})))
    assert [(r.line, r.phone) for r in records] == [(1, "380930000000"), (2, "380930000001")]


# --- mapping override ------------------------------------------------------------------------

OVERRIDE = "Телефон;Мобільний;Клієнт;Менеджер;ID\n0441234567;0930000000;Іван;Оля;42\n"


def test_a_mapping_by_header_name_overrides_detection(write: Write) -> None:
    path = write("a.csv", OVERRIDE.encode("cp1251"))
    mapping = Mapping(phone="мобільний", fio="Менеджер", external_id=None)
    with open_table(path, mapping=mapping) as table:
        assert table.mapping.describe() == {
            "phone": "Мобільний",
            "fio": "Менеджер",
            "external_id": None,
        }
        (record,) = list(table)
    assert record == Record(
        2, "0930000000", "Оля", None, {"Телефон": "0441234567", "Клієнт": "Іван", "ID": "42"}
    )


def test_a_mapping_by_column_index_overrides_detection_and_detects_the_rest(
    write: Write,
) -> None:
    path = write("a.csv", OVERRIDE.encode("cp1251"))
    with open_table(path, mapping=Mapping(phone=1, fio=AUTO)) as table:
        (record,) = list(table)
    assert (record.phone, record.fio, record.external_id) == ("0930000000", "Іван", "42")


def test_a_mapping_by_index_reads_a_headerless_file_from_line_one(write: Write) -> None:
    path = write("a.csv", b"0930000000;0441234567\n0930000001;0441234568\n")
    records = read(path, mapping=Mapping(phone=1))
    assert [(r.line, r.phone) for r in records] == [(1, "0441234567"), (2, "0441234568")]


def test_has_header_false_reads_the_first_row_as_data(write: Write) -> None:
    path = write("a.csv", "Іван;Петренко\n0930000000;x\n".encode())
    records = read(path, mapping=Mapping(phone=0, fio=1, has_header=False))
    assert [(r.line, r.phone, r.fio) for r in records] == [
        (1, "Іван", "Петренко"),
        (2, "0930000000", "x"),
    ]


def test_a_mapping_to_a_missing_column_names_the_columns_there_are(write: Write) -> None:
    path = write("a.csv", OVERRIDE.encode("cp1251"))
    for ref in ("Телефон 2", 9):
        with pytest.raises(ColumnError) as error:
            open_table(path, mapping=Mapping(phone=ref))
        assert error.value.code == "unknown_column"
        assert "'Мобільний'" in str(error.value)


# --- broken files ----------------------------------------------------------------------------


def test_it_refuses_a_csv_without_a_phone_column(write: Write) -> None:
    with pytest.raises(ColumnError) as error:
        open_table(write("a.csv", "ПІБ;Місто\nІван;Київ\n".encode()))
    assert error.value.code == "no_phone_column"
    assert "'ПІБ'" in str(error.value)
    assert "mapping" in str(error.value)


def test_it_refuses_binary_that_is_not_text(write: Write) -> None:
    with pytest.raises(EncodingError) as error:
        open_table(write("a.csv", bytes(range(256)) * 64))
    assert error.value.code == "undecodable"


def test_it_reports_where_a_utf8_file_stops_being_utf8(write: Write) -> None:
    good = "".join(f"38093{i:07d};Іван\n" for i in range(5000)).encode()
    data = "Телефон;ПІБ\n".encode() + good + "380931234567;Ірина\n".encode("cp1251")
    with open_table(write("mixed.csv", data)) as table, pytest.raises(EncodingError) as error:
        list(table)
    assert error.value.code == "undecodable"
    assert error.value.line is not None
    assert error.value.line > 1000


def test_it_refuses_an_xlsx_that_is_not_a_zip(write: Write) -> None:
    with pytest.raises(FormatError) as error:
        open_table(write("a.xlsx", "Телефон;ПІБ\n".encode()))
    assert error.value.code == "unsupported_format"
    assert "ZIP" in str(error.value)


def test_it_refuses_a_truncated_xlsx(write: Write) -> None:
    data = xlsx({"A1": "Phone", "A2": 380930000000})
    with pytest.raises(FormatError) as error:
        open_table(write("a.xlsx", data[: len(data) // 2]))
    assert error.value.code == "corrupt_file"


def test_it_refuses_an_html_page_saved_as_xls(write: Write) -> None:
    html = "<html><body><table><tr><td>Телефон</td></tr></table></body></html>"
    with pytest.raises(FormatError) as error:
        open_table(write("report.xls", html.encode()))
    assert error.value.code == "unsupported_format"


def test_it_refuses_an_empty_file(write: Write) -> None:
    for data in (b"", b"\n\n;;\n"):
        with pytest.raises(FormatError) as error:
            open_table(write("a.csv", data))
        assert error.value.code == "empty_file"


@pytest.mark.parametrize("records_after", [0, 1, 2, 500])
@pytest.mark.parametrize("last_newline", [True, False])
def test_a_quote_that_never_closes_breaks_the_file_at_the_line_it_opened(
    write: Write, records_after: int, last_newline: bool
) -> None:
    tail = "\n".join(f"38093{i:07d};Іван {i}" for i in range(records_after))
    text = f'Телефон;ПІБ\n380930000001;Олена\n380930000000;"Іван\n{tail}'
    text += "\n" if last_newline and records_after else ""
    with pytest.raises(MalformedError) as error:
        read(write("a.csv", text.encode()))
    assert (error.value.code, error.value.line) == ("malformed_line", 3)
    assert "line 3" in str(error.value)


def test_a_stray_quote_that_takes_in_the_rows_after_it_breaks_the_file(write: Write) -> None:
    # The quote opened on line 3 is closed 500 lines later by another stray one: Python's
    # reader would make one 13,000-character name of the 500 records between.
    swallowed = "".join(f"38093{i:07d};Клієнт {i}\n" for i in range(500))
    text = f'Телефон;ПІБ\n380930000001;Олена\n380930000000;"Іван\n{swallowed}380;x"\n'
    with pytest.raises(MalformedError) as error:
        read(write("a.csv", (text + "380670000000;Ok\n").encode()))
    assert (error.value.code, error.value.line) == ("malformed_line", 3)


def test_quoted_cells_with_line_breaks_and_delimiters_are_still_cells(write: Write) -> None:
    comment = "Передзвонити; після 18:00\nтел. 0501234567; або 0671234567\n\nдякую"
    text = f'Телефон;ПІБ;Коментар\n380930000000;Іван;"{comment}"\n380930000001;Олена;"a\n"'
    records = read(write("a.csv", f"{text}\n380930000002;Петро;ok".encode()))
    assert [(r.line, r.phone) for r in records] == [
        (2, "380930000000"), (6, "380930000001"), (8, "380930000002"),
    ]  # fmt: skip
    assert records[0].extra == {"Коментар": comment}


def test_a_cell_over_the_size_limit_is_one_rejected_line(write: Write) -> None:
    huge = "x" * 200_000
    text = f"Телефон;ПІБ\n380930000000;Іван\n380930000001;{huge}\n380930000002;Петро\n"
    records = read(write("a.csv", text.encode()))
    assert [(r.line, r.phone, r.error is not None) for r in records] == [
        (2, "380930000000", False),
        (3, "", True),
        (4, "380930000002", False),
    ]
    assert "over 131,072 characters" in (records[1].error or "")


def test_it_points_at_the_line_of_an_unclosed_quote(write: Write) -> None:
    tail = "".join(f"38093{i:07d};Іван\n" for i in range(20000))
    data = f'Телефон;ПІБ\n380930000000;"Іван\n{tail}'.encode()
    with pytest.raises(MalformedError) as error:  # met while buffering the first rows
        read(write("a.csv", data))
    assert (error.value.code, error.value.line) == ("malformed_line", 2)


# --- streams, preview and memory ---------------------------------------------------------------


def test_it_reads_an_upload_stream_and_leaves_it_open() -> None:
    upload = io.BytesIO("Телефон;ПІБ\n380930000000;Іван\n".encode("cp1251"))
    with open_table(upload, filename="upload.csv") as table:
        assert list(table) == [Record(2, "380930000000", "Іван")]
    assert not upload.closed


def test_preview_gives_the_detected_mapping_and_the_first_records(write: Write) -> None:
    rows = "".join(f"38093000{i:04d};Контакт {i}\n" for i in range(100))
    result = preview(write("a.csv", f"Телефон;ПІБ\n{rows}".encode()), limit=3)
    assert (result.format, result.delimiter) == ("csv", ";")
    assert result.mapping.describe()["phone"] == "Телефон"
    assert [r.line for r in result.records] == [2, 3, 4]


def test_it_streams_a_large_csv_without_holding_it_in_memory(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    with path.open("w", encoding="cp1251", newline="") as out:
        out.write("Телефон;ПІБ;Місто;Коментар\r\n")
        for i in range(200_000):
            out.write(f"380{i:09d};Петренко Іван {i};Київ;коментар до контакту номер {i}\r\n")
    size = path.stat().st_size
    tracemalloc.start()
    try:
        count, last = 0, 0
        with open_table(path) as table:
            _, opening_peak = tracemalloc.get_traced_memory()  # the 64 KiB sample, decoded
            tracemalloc.reset_peak()
            for record in table:
                count, last = count + 1, record.line
            _, reading_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 200_000
    assert last == 200_001
    assert opening_peak < size / 10, f"opening peaked at {opening_peak} bytes"
    assert reading_peak < size / 25, f"reading peaked at {reading_peak} bytes for {size} bytes"

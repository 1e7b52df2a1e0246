"""``powerdialer fill --mode single`` against a real ``powerdialer serve``: one number a
request, exactly as the vendor's endpoint takes them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.client.conftest import count_rows, leads_csv, phones, run_fill, write_csv
from tests.conftest import Persona
from tests.e2e.conftest import Server

pytestmark = pytest.mark.e2e


def test_it_sends_every_row_once_and_reports_the_rest(
    live: Server, owner: Persona, tmp_path: Path
) -> None:
    numbers = phones(300)
    rows: list[tuple[str, str]] = [(f"Клієнт {i}", p) for i, p in enumerate(numbers)]
    rows += [("Повтор", "+380 67 " + numbers[5][5:]), ("Bad", "12"), ("Empty", "")]
    source = write_csv(tmp_path / "leads.csv", rows)

    done = run_fill(source, owner.campaign_id, live.url, owner.project_id, owner.key,
                    "--mode", "single")  # fmt: skip

    assert done.code == 3, done.stderr  # some rows rejected
    summary = done.summary
    assert summary["mode"] == "single"
    assert summary["sent"] == 300
    assert summary["duplicates_in_file"] == 1
    assert summary["invalid"] == 2
    assert summary["unsent"] == 0
    assert count_rows(live, owner) == 300
    report = (tmp_path / "leads.rejected.csv").read_text(encoding="utf-8-sig").splitlines()
    assert report[0] == "line,phone_number,fio,external_id,code,reason,message"
    codes = [line.split(",")[4] for line in report[1:]]
    assert codes == ["duplicate_in_file", "invalid_phone_number", "invalid_phone_number"]


def test_a_clean_file_exits_zero_and_a_second_run_sends_nothing(
    live: Server, owner: Persona, tmp_path: Path
) -> None:
    source = leads_csv(tmp_path / "leads.csv", 50)
    first = run_fill(source, owner.campaign_id, live.url, owner.project_id, owner.key,
                     "--mode", "single")  # fmt: skip
    assert first.code == 0, first.stderr
    assert not (tmp_path / "leads.rejected.csv").exists()

    again = run_fill(source, owner.campaign_id, live.url, owner.project_id, owner.key,
                     "--mode", "single")  # fmt: skip

    assert again.code == 0, again.stderr
    assert again.summary["sent"] == 0
    assert again.summary["already_sent"] == 50
    assert "already sent" in again.summary["message"]


def test_it_reads_xlsx_and_json_lines_with_column_overrides(
    live: Server, owner: Persona, tmp_path: Path
) -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Звіт з CRM"])  # a title row above the header
    sheet.append(["Клієнт", "Мобільний", "Робочий"])
    for i, number in enumerate(phones(20)):
        sheet.append([f"Клієнт {i}", int(number), phones(1, 500 + i)[0]])
    book.save(tmp_path / "leads.xlsx")
    lines = [json.dumps({"name": f"J {i}", "tel": p}) for i, p in enumerate(phones(20, 100))]
    (tmp_path / "leads.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")

    xlsx = run_fill(tmp_path / "leads.xlsx", owner.campaign_id, live.url, owner.project_id,
                    owner.key, "--mode", "single", "--phone-column", "Робочий")  # fmt: skip
    jsonl = run_fill(tmp_path / "leads.jsonl", owner.campaign_id, live.url, owner.project_id,
                     owner.key, "--mode", "single", "--phone-column", "tel",
                     "--fio-column", "name")  # fmt: skip

    assert (xlsx.code, jsonl.code) == (0, 0), xlsx.stderr + jsonl.stderr
    assert xlsx.summary["sent"] == 20
    assert jsonl.summary["sent"] == 20
    assert count_rows(live, owner) == 40


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"\x00\x01\x02garbage\xff" * 50, "Error:"),
        ("Ім'я;Email\nІван;a@b.c\n".encode(), "No phone column"),
        (b"", "empty"),
    ],
    ids=["binary", "no-phone-column", "empty"],
)
def test_a_malformed_file_is_refused_before_anything_is_sent(
    live: Server, owner: Persona, tmp_path: Path, content: bytes, expected: str
) -> None:
    source = tmp_path / "leads.csv"
    source.write_bytes(content)

    done = run_fill(source, owner.campaign_id, live.url, owner.project_id, owner.key)

    assert done.code == 2, done.stdout + done.stderr
    assert expected.lower() in done.stderr.lower()
    assert count_rows(live, owner) == 0


def test_a_key_of_another_project_aborts_with_exit_5(
    live: Server, owner: Persona, stranger: Persona, tmp_path: Path
) -> None:
    source = leads_csv(tmp_path / "leads.csv", 100)

    done = run_fill(source, owner.campaign_id, live.url, owner.project_id, stranger.key,
                    "--mode", "single")  # fmt: skip

    assert done.code == 5
    assert "credentials" in done.stderr
    assert done.summary["requests"] == 2  # /limits, then the campaign: refused, not retried
    assert done.summary["unsent"] == 100
    assert count_rows(live, owner) == 0


def test_a_campaign_of_another_project_is_not_found(
    live: Server, owner: Persona, stranger: Persona, tmp_path: Path
) -> None:
    source = leads_csv(tmp_path / "leads.csv", 10)

    done = run_fill(source, stranger.campaign_id, live.url, owner.project_id, owner.key)

    assert done.code == 4
    assert "not found" in done.stderr


def test_dry_run_checks_and_reports_without_sending(
    live: Server, owner: Persona, tmp_path: Path
) -> None:
    source = write_csv(tmp_path / "leads.csv", [("A", phones(1)[0]), ("B", "not a phone")])

    done = run_fill(source, owner.campaign_id, "http://127.0.0.1:9", "", "", "--dry-run")

    assert done.code == 3
    assert done.summary["status"] == "dry_run"
    assert (done.summary["valid"], done.summary["invalid"]) == (1, 1)
    assert (tmp_path / "leads.rejected.csv").exists()
    assert not (tmp_path / "leads.csv.fill.sqlite3").exists()
    assert count_rows(live, owner) == 0


def test_a_broken_json_lines_line_costs_that_row_only(tmp_path: Path) -> None:
    lines = [json.dumps({"phone": p}) for p in phones(3)]
    lines.insert(2, '{"phone": "380671000009",')  # cut off mid-object
    source = tmp_path / "leads.jsonl"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")

    done = run_fill(source, 1, "http://127.0.0.1:9", "", "", "--dry-run")

    assert done.code == 3
    assert (done.summary["valid"], done.summary["invalid"]) == (3, 1)
    report = (tmp_path / "leads.rejected.csv").read_text(encoding="utf-8-sig")
    assert "3,,,,malformed_line" in report

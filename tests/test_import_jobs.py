"""Import jobs end to end: real uploads through the app in process, the background runner and
its worker child, on whichever database the suite runs on.  Each file quirk has its own
fixture file built here; the HTTP surface (auth, isolation, errors) is in test_api_imports."""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
import json
import threading
from pathlib import Path
from typing import Any

import httpx
import openpyxl
import pytest
from sqlalchemy import text

from powerdialer import campaigns
from powerdialer.importing import jobs, runner, uploads, worker
from powerdialer.models import CampaignState, utcnow
from powerdialer.rows.write import ImportChunk, ImportCounts, apply_imports
from powerdialer.settings import Settings
from powerdialer.storage import Store, rows_import
from powerdialer.web.app import PowerDialerApp
from tests.conftest import Persona, StartApp, client_of, stored_rows

pytestmark = pytest.mark.anyio

UA_CSV = "Телефон;ПІБ;Місто\r\n380931234567;Іван Петренко;Київ\r\n+380 50 123 45 67;Олена;Львів\r\n"


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url, rate_limit_per_second=0, data_dir=str(tmp_path / "data")
    )


# --- helpers (test_api_imports uses them too) ------------------------------------------------


async def start_import(
    client: httpx.AsyncClient,
    persona: Persona,
    content: bytes,
    filename: str = "leads.csv",
    **form: str,
) -> dict[str, Any]:
    answer = await client.post(
        f"/power-dialer/campaigns/{persona.campaign_id}/imports",
        headers=persona.headers,
        files={"file": (filename, content)},
        data=form,
    )
    assert answer.status_code == 202, answer.text
    job: dict[str, Any] = answer.json()
    return job


async def wait_for(client: httpx.AsyncClient, persona: Persona, job_id: int) -> dict[str, Any]:
    for _ in range(600):
        answer = await client.get(f"/power-dialer/imports/{job_id}", headers=persona.headers)
        assert answer.status_code == 200, answer.text
        job: dict[str, Any] = answer.json()
        if job["status"] in ("done", "failed"):
            return job
        await asyncio.sleep(0.05)
    raise AssertionError(f"import {job_id} did not finish: {job}")


async def run_import(
    client: httpx.AsyncClient,
    persona: Persona,
    content: bytes,
    filename: str = "leads.csv",
    **form: str,
) -> dict[str, Any]:
    job = await start_import(client, persona, content, filename, **form)
    return await wait_for(client, persona, job["id"])


async def rejected_rows(
    client: httpx.AsyncClient, persona: Persona, job_id: int
) -> list[dict[str, str]]:
    answer = await client.get(
        f"/power-dialer/imports/{job_id}/rejected.csv", headers=persona.headers
    )
    assert answer.status_code == 200, answer.text
    return list(csv.DictReader(io.StringIO(answer.content.decode("utf-8-sig"))))


async def run_ready_tasks() -> None:
    """Let every task that can go on without a thread or a timer take its turn: a fixed
    number of passes of the event loop, not a wait on the clock.  What a task would do at
    once (the runner queues its first write synchronously) has been done afterwards, so a
    test can then say that it was not."""
    for _ in range(20):
        await asyncio.sleep(0)


def numbers(store: Store, persona: Persona) -> list[str]:
    return [e164 for _fio, _raw, e164 in stored_rows(store, persona)]


def counters(job: dict[str, Any]) -> tuple[int, int, int, int, int]:
    return (job["supplied"], job["inserted"], job["duplicates"], job["updated"], job["rejected"])


def xlsx(rows: list[list[object]]) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def uploads_left(settings: Settings) -> list[Path]:
    folder = uploads.instance_dir(settings.data_dir)
    return list(folder.iterdir())


# --- formats, encodings, delimiters, headers --------------------------------------------------


async def test_it_imports_a_cp1251_semicolon_export_with_ukrainian_headers(
    client: httpx.AsyncClient, owner: Persona, store: Store, settings: Settings
) -> None:
    job = await run_import(client, owner, UA_CSV.encode("cp1251"))
    assert job["status"] == "done"
    assert job["error"] is None
    assert (job["format"], job["encoding"], job["delimiter"]) == ("csv", "cp1251", ";")
    assert job["mapping"] == {"phone": "Телефон", "fio": "ПІБ", "external_id": None}
    assert counters(job) == (2, 2, 0, 0, 0)
    assert (job["total"], job["progress"]) == (2, 1.0)
    assert job["started_at"]
    assert job["finished_at"]
    assert stored_rows(store, owner) == [
        ("Іван Петренко", "380931234567", "+380931234567"),
        ("Олена", "+380 50 123 45 67", "+380501234567"),
    ]
    extra = store.read(
        lambda conn: conn.execute(text("SELECT extra FROM campaign_rows ORDER BY id")).scalars()
    )
    assert [json.loads(e) for e in extra] == [{"Місто": "Київ"}, {"Місто": "Львів"}]
    assert uploads_left(settings) == []  # the upload is deleted once the job is done


@pytest.mark.parametrize(
    ("content", "encoding", "delimiter"),
    [
        ("\ufeffPhone,Name\r\n380931234567,Ivan\r\n".encode(), "utf-8-sig", ","),
        ("Телефон\tФИО\n380931234567\tИван Петров\n".encode(), "utf-8", "\t"),
        ('"Номер телефону";"Клієнт"\n"380931234567";"Іван"\n'.encode("cp1251"), "cp1251", ";"),
    ],
    ids=["utf8-bom-comma-english", "utf8-tab-russian", "cp1251-quoted-ukrainian"],
)
async def test_it_reads_encodings_delimiters_and_header_languages(
    client: httpx.AsyncClient,
    owner: Persona,
    store: Store,
    content: bytes,
    encoding: str,
    delimiter: str,
) -> None:
    job = await run_import(client, owner, content)
    assert job["status"] == "done"
    assert (job["encoding"], job["delimiter"]) == (encoding, delimiter)
    assert numbers(store, owner) == ["+380931234567"]
    assert stored_rows(store, owner)[0][0] in ("Ivan", "Иван Петров", "Іван")


async def test_quoted_fields_keep_delimiters_and_newlines_and_lines_stay_physical(
    client: httpx.AsyncClient, owner: Persona, store: Store
) -> None:
    content = (
        'Телефон;ПІБ;Коментар\n380931234567;"Петренко; Іван";"два\nрядки"\n'
        '380501234567;"Олена ""Оля""";ок\nnope;Погана;x\n'
    ).encode()
    job = await run_import(client, owner, content)
    assert counters(job) == (3, 2, 0, 0, 1)
    assert [fio for fio, _, _ in stored_rows(store, owner)] == ["Петренко; Іван", 'Олена "Оля"']
    [reject] = await rejected_rows(client, owner, job["id"])
    assert reject["line"] == "5"  # header 1, the two-line record 2-3, then 4, then 5


async def test_numbers_excel_stored_as_numbers_or_in_scientific_notation_are_read_whole(
    client: httpx.AsyncClient, owner: Persona, store: Store
) -> None:
    content = "Телефон;ПІБ\r\n3,80931234567E+11;Іван\r\n380501234567.0;Олена\r\n".encode("cp1251")
    job = await run_import(client, owner, content)
    assert counters(job) == (2, 2, 0, 0, 0)
    assert numbers(store, owner) == ["+380931234567", "+380501234567"]


async def test_blank_lines_and_rows_of_empty_cells_are_skipped_not_rejected(
    client: httpx.AsyncClient, owner: Persona, store: Store
) -> None:
    content = b"Phone;Name\n\n380931234567;Ivan\n;;\n\n380501234567;Olena\n;\n12;Short\n"
    job = await run_import(client, owner, content)
    assert counters(job) == (3, 2, 0, 0, 1)
    assert [r["line"] for r in await rejected_rows(client, owner, job["id"])] == ["8"]


async def test_it_imports_an_xlsx_workbook_with_numeric_phone_cells(
    client: httpx.AsyncClient, owner: Persona, store: Store
) -> None:
    content = xlsx(
        [
            ["Звіт з CRM"],
            ["ID", "Телефон", "ПІБ"],
            ["crm-1", 380931234567, "Іван"],
            [2, "+380501234567", "Олена"],
            [3, 12345, "Погана"],
        ]
    )
    job = await run_import(client, owner, content, filename="export.xlsx")
    assert job["format"] == "xlsx"
    assert job["mapping"] == {"phone": "Телефон", "fio": "ПІБ", "external_id": "ID"}
    assert counters(job) == (3, 2, 0, 0, 1)
    assert numbers(store, owner) == ["+380931234567", "+380501234567"]
    ids = store.read(
        lambda conn: conn.execute(text("SELECT external_id FROM campaign_rows ORDER BY id"))
    ).scalars()
    assert list(ids) == ["crm-1", "2"]
    [reject] = await rejected_rows(client, owner, job["id"])
    assert (reject["line"], reject["phone_number"], reject["fio"]) == ("5", "12345", "Погана")


async def test_it_imports_json_lines_and_rejects_a_line_that_is_not_an_object(
    client: httpx.AsyncClient, owner: Persona, store: Store
) -> None:
    content = (
        '{"phone": "380931234567", "name": "Іван", "city": "Київ"}\n'
        "not json\n"
        '{"phone": 380501234567, "name": "Олена"}\n'
    ).encode()
    job = await run_import(client, owner, content, filename="leads.jsonl")
    assert job["format"] == "jsonl"
    assert counters(job) == (3, 2, 0, 0, 1)
    [reject] = await rejected_rows(client, owner, job["id"])
    assert (reject["line"], reject["code"]) == ("2", "malformed_line")


async def test_bad_json_lines_reject_only_themselves_never_the_storage(
    client: httpx.AsyncClient, owner: Persona, store: Store
) -> None:
    good = [f'{{"phone": "38093{i:07d}", "fio": "Клієнт {i}"}}'.encode() for i in range(40)]
    bad = [
        b'{"phone": "380670000001", "fio": "\xff\xfe"}',  # not UTF-8
        b'{"phone": "380670000002", "x": ' + b"[" * 50_000 + b"]" * 50_000 + b"}",
        b'{"phone": "380670000003", "fio": "\\ud800"}',  # a lone surrogate: no database takes it
        b'{"phone": "380670000004", "\\udc00": "x"}',
        b'{"phone": "380670000005", "fio": "null \\u0000 byte", "c": "\\u0000"}',
        b'"just a string"',
    ]
    content = b"\n".join(good[:20] + bad + good[20:]) + b"\n"
    job = await run_import(client, owner, content, filename="leads.jsonl")
    assert (job["status"], job["error"]) == ("done", None)
    assert counters(job) == (46, 41, 0, 0, 5)
    rejected = await rejected_rows(client, owner, job["id"])
    assert [(r["line"], r["code"]) for r in rejected] == [
        (str(line), "malformed_line") for line in (21, 22, 23, 24, 26)
    ]
    assert "+380670000005" in numbers(store, owner)


async def test_a_csv_cell_over_the_size_limit_is_one_rejected_row(
    client: httpx.AsyncClient, owner: Persona, store: Store
) -> None:
    content = f"Телефон;ПІБ\n380931234567;Іван\n380501234567;{'я' * 140_000}\n380671234567;Ok\n"
    job = await run_import(client, owner, content.encode())
    assert (job["status"], counters(job)) == ("done", (3, 2, 0, 0, 1))
    [reject] = await rejected_rows(client, owner, job["id"])
    assert (reject["line"], reject["code"]) == ("3", "malformed_line")
    assert "over 131,072 characters" in reject["message"]


async def test_a_quote_that_never_closes_imports_nothing_and_names_its_line(
    client: httpx.AsyncClient, owner: Persona, store: Store
) -> None:
    rows = "".join(f"38093{i:07d};Клієнт {i}\n" for i in range(500))
    content = f'Телефон;ПІБ\n380501234567;"Олена\n{rows}'.encode()
    job = await run_import(client, owner, content)
    assert (job["status"], job["error"]["code"]) == ("failed", "malformed_line")
    assert "line 2" in job["error"]["message"]
    assert numbers(store, owner) == []


async def test_a_header_less_list_of_numbers_is_imported(
    client: httpx.AsyncClient, owner: Persona, store: Store
) -> None:
    job = await run_import(client, owner, b"380931234567\n380501234567\n")
    assert counters(job) == (2, 2, 0, 0, 0)


async def test_an_explicit_mapping_overrides_detection(
    client: httpx.AsyncClient, owner: Persona, store: Store
) -> None:
    content = "Телефон;Мобільний;ПІБ;Код\n380441234567;380931234567;Іван;A1\n".encode()
    mapping = {"phone": "Мобільний", "fio": None, "external_id": 3}
    job = await run_import(client, owner, content, mapping=json.dumps(mapping))
    assert job["mapping"] == {"phone": "Мобільний", "fio": None, "external_id": "Код"}
    assert stored_rows(store, owner) == [(None, "380931234567", "+380931234567")]


# --- rejected rows, duplicates ---------------------------------------------------------------


async def test_invalid_rows_are_rejected_with_their_line_and_the_valid_ones_imported(
    client: httpx.AsyncClient, owner: Persona, store: Store
) -> None:
    lines = ["Телефон;ПІБ"] + [f"38093123456{i};Контакт {i}" for i in range(5)]
    lines.insert(6, "093-000;Погана Ольга")  # line 7 of the file
    job = await run_import(client, owner, "\n".join(lines).encode())
    assert counters(job) == (6, 5, 0, 0, 1)
    assert await rejected_rows(client, owner, job["id"]) == [
        {
            "line": "7",
            "phone_number": "093-000",
            "fio": "Погана Ольга",
            "code": "invalid_phone_number",
            "reason": "too_short",
            "message": "phone_number '093-000' is not a valid phone number: the number has too "
            "few digits; send the full number, e.g. 380930000000.",
        }
    ]


async def test_duplicates_within_the_file_and_against_existing_rows_are_not_stored_twice(
    client: httpx.AsyncClient, owner: Persona, store: Store, app: PowerDialerApp
) -> None:
    app.services.imports.chunk_rows = 2  # repeats across chunks too
    await client.post(
        "/power-dialer/campaigns/campaign-rows",
        headers=owner.headers,
        json=owner.row("380501234567"),
    )
    content = (
        "Телефон;ПІБ\n380931234567;Перший\n0931234567;Другий\n380501234567;Третій\n"
        "+380 93 123 45 67;Четвертий\n380671234567;П'ятий\n"
    ).encode()
    job = await run_import(client, owner, content)
    assert counters(job) == (5, 2, 3, 0, 0)
    assert stored_rows(store, owner) == [
        ("Іван Петренко", "380501234567", "+380501234567"),
        ("Перший", "380931234567", "+380931234567"),
        ("П'ятий", "380671234567", "+380671234567"),
    ]


async def test_under_the_update_policy_repeated_numbers_update_the_stored_row(
    client: httpx.AsyncClient, owner: Persona, store: Store
) -> None:
    store.write(lambda conn: conn.execute(text("UPDATE campaigns SET duplicate_policy = 'update'")))
    content = "Телефон;ПІБ\n380931234567;Старе ім'я\n380931234567;Нове ім'я\n".encode()
    job = await run_import(client, owner, content)
    assert counters(job) == (2, 1, 0, 1, 0)
    assert stored_rows(store, owner) == [("Нове ім'я", "380931234567", "+380931234567")]


# --- broken files: all or nothing -----------------------------------------------------------

VALID_ROWS = "".join(f"38093{i:07d},Іван Петренко {i}\n" for i in range(3000))
UNDECODABLE = (
    ("Phone,Name\n" + VALID_ROWS).encode() + b"380501234567,\xff\xfe\n" + b"380501234568,x\n"
)
UNCLOSED = ("Phone,Name\n" + VALID_ROWS + '380501234567,"unclosed\n' + VALID_ROWS * 3).encode()


@pytest.mark.parametrize(
    ("content", "filename", "code"),
    [
        (UNDECODABLE, "leads.csv", "undecodable"),
        (UNCLOSED, "leads.csv", "malformed_line"),
        ("Ім'я;Місто\nІван;Київ\n".encode(), "leads.csv", "no_phone_column"),
        (b"PK\x03\x04 not really a workbook" * 20, "leads.xlsx", "corrupt_file"),
        (b'[{"phone": "380931234567"}]', "leads.jsonl", "unsupported_format"),
    ],
    ids=["undecodable-mid-file", "unclosed-quote", "no-phone-column", "corrupt-xlsx", "json-array"],
)
async def test_a_broken_file_imports_nothing(
    client: httpx.AsyncClient,
    owner: Persona,
    store: Store,
    settings: Settings,
    content: bytes,
    filename: str,
    code: str,
) -> None:
    job = await run_import(client, owner, content, filename)
    assert job["status"] == "failed"
    assert job["error"]["code"] == code
    assert job["error"]["message"]
    assert counters(job) == (0, 0, 0, 0, 0)
    assert numbers(store, owner) == []
    assert uploads_left(settings) == []


class _Pipe:
    """A worker child's end of the pipe, played back: ``last`` holds the final event back
    until it is set (``held`` is set once the reader waits for it)."""

    def __init__(self, events: list[worker.Event], last: threading.Event | None = None) -> None:
        self.events = events
        self.last = last
        self.held = threading.Event()

    def recv(self) -> worker.Event:
        if self.last is not None and len(self.events) == 1:
            self.held.set()
            assert self.last.wait(10)
        if not self.events:
            raise EOFError
        return self.events.pop(0)


@pytest.mark.parametrize("verdict", ["broken", "counted"])
async def test_no_row_is_stored_before_the_structure_pass_vouches_for_the_file(
    app: PowerDialerApp,
    store: Store,
    owner: Persona,
    monkeypatch: pytest.MonkeyPatch,
    verdict: str,
) -> None:
    # The two passes run side by side: the records' chunks arrive before the count does.
    seen = record_submits(app, monkeypatch)
    upload = app.services.imports.new_upload("leads.csv")
    job = jobs.create_job(
        store,
        owner.project_id,
        owner.campaign_id,
        filename="leads.csv",
        file_path=str(upload.path),
        keep_valid=False,
    )
    rows = [(None, f"093{i:07d}", f"+38093{i:07d}", None, None) for i in range(30)]
    chunks: list[worker.Event] = [worker.Chunk(rows[i : i + 10], [], 10) for i in (0, 10, 20)]
    reading = _Pipe([*chunks, worker.Finished()])
    answer = threading.Event()
    last = worker.Broken("undecodable", "broken at line 31", 31) if verdict == "broken" else None
    counting = _Pipe(
        [worker.Opened("csv", "utf-8", ",", {"phone": "Phone"}), last or worker.Counted(30)],
        last=answer,
    )
    pumped = asyncio.Event()
    pump = runner._Job.pump

    async def pump_then_say_so(events: Any, held: asyncio.Queue[Any]) -> None:
        await pump(events, held)
        pumped.set()

    monkeypatch.setattr(runner._Job, "pump", staticmethod(pump_then_say_so))
    driving = asyncio.ensure_future(
        runner._Job(app.services.imports, job, upload).drive(counting, reading)
    )
    await asyncio.wait_for(pumped.wait(), 10)  # every chunk has reached the server...
    assert await asyncio.to_thread(counting.held.wait, 10)  # ...which waits for the count...
    await run_ready_tasks()
    assert not reading.events
    assert not [p for p in seen if isinstance(p, ImportChunk)]  # ...and has stored none
    answer.set()
    await driving
    done = jobs.get_job(store, owner.project_id, job.id)
    if verdict == "broken":
        assert (done.status, done.error and done.error.code) == ("failed", "undecodable")
        assert numbers(store, owner) == []
    else:
        assert (done.status, done.inserted, done.total) == ("done", 30, 30)
        assert len(numbers(store, owner)) == 30


async def test_with_keep_valid_a_broken_file_keeps_the_rows_before_the_break(
    client: httpx.AsyncClient, owner: Persona, store: Store
) -> None:
    job = await run_import(client, owner, UNDECODABLE, keep_valid="true")
    assert job["status"] == "done"
    assert job["error"]["code"] == "undecodable"
    # The decoder reads ahead, so the break is reported a little before the bad line.
    assert 1000 < job["inserted"] <= 3000
    assert job["supplied"] == job["inserted"] == job["total"]
    assert len(numbers(store, owner)) == job["inserted"]


async def test_with_keep_valid_a_file_without_a_phone_column_still_fails(
    client: httpx.AsyncClient, owner: Persona
) -> None:
    job = await run_import(client, owner, "Ім'я\nІван\n".encode(), keep_valid="true")
    assert (job["status"], job["error"]["code"]) == ("failed", "no_phone_column")


# --- progress, and what happens to the campaign meanwhile -----------------------------------


def record_submits(app: PowerDialerApp, monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Every payload the app's writer is given, in order."""
    seen: list[object] = []
    enqueue = app.services.writer.enqueue

    def recording(payload: object) -> object:
        seen.append(payload)
        return enqueue(payload)

    monkeypatch.setattr(app.services.writer, "enqueue", recording)
    return seen


async def test_progress_is_stored_chunk_by_chunk_with_the_rows_it_counts(
    client: httpx.AsyncClient,
    owner: Persona,
    app: PowerDialerApp,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app.services.imports.chunk_rows = 10
    seen = record_submits(app, monkeypatch)
    content = "Телефон\n" + "".join(f"38093{i:07d}\n" for i in range(43)) + "bad\nbad\n"
    job = await run_import(client, owner, content.encode())
    assert counters(job) == (45, 43, 0, 0, 2)
    chunks = [p for p in seen if isinstance(p, ImportChunk)]
    assert [(len(p.rows), p.read, len(p.rejects)) for p in chunks] == [
        (10, 10, 0), (10, 10, 0), (10, 10, 0), (10, 10, 0), (3, 5, 2),
    ]  # fmt: skip
    assert {(p.job_id, p.source) for p in chunks} == {(job["id"], "import")}
    # The upload is stored while the file is checked, and whole before the first row.
    whole = [
        i for i, p in enumerate(seen) if isinstance(p, jobs.JobUpdate) and "upload_size" in p.values
    ]
    assert len(whole) == 1
    assert whole[0] < min(i for i, p in enumerate(seen) if isinstance(p, ImportChunk))
    updates = [p.values for p in seen if isinstance(p, jobs.JobUpdate)]
    updates = [u for u in updates if "upload_size" not in u]
    assert updates[0]["status"] == "running"
    assert updates[-1]["status"] == "done"
    assert not [u for u in updates if set(u) & {"supplied", "inserted", "rejected"}]


def job_and_stored(store: Store, persona: Persona, job_id: int) -> tuple[int, ...]:
    """The job's counters and the rows in its campaign, read in ONE statement (one snapshot,
    on both databases): ``(supplied, inserted, duplicates, updated, rejected, stored)``."""
    query = text(
        "SELECT supplied, inserted, duplicates, updated, rejected, "
        "(SELECT count(*) FROM campaign_rows WHERE project_id = :p AND campaign_id = :c) "
        "FROM import_jobs WHERE project_id = :p AND id = :j"
    )
    params = {"p": persona.project_id, "c": persona.campaign_id, "j": job_id}
    row = store.read(lambda conn: conn.execute(query, params).one())
    return tuple(int(v) for v in row)


def assert_accounted(snapshot: tuple[int, ...]) -> None:
    supplied, inserted, duplicates, updated, rejected, stored = snapshot
    assert supplied >= inserted + duplicates + updated + rejected, snapshot
    assert inserted == stored, snapshot


async def test_counters_agree_with_the_rows_stored_at_every_poll(
    client: httpx.AsyncClient,
    owner: Persona,
    store: Store,
    app: PowerDialerApp,
) -> None:
    app.services.imports.chunk_rows, app.services.imports.write_rows = 20, 7
    lines = [f"38093{i % 900:07d}" if i % 13 else "bad" for i in range(1200)]
    content = ("Телефон\n" + "\n".join(lines) + "\n").encode()
    job = await start_import(client, owner, content)
    snapshots = []
    for _ in range(2000):
        snapshot = job_and_stored(store, owner, job["id"])
        snapshots.append(snapshot)
        assert_accounted(snapshot)
        answer = await client.get(f"/power-dialer/imports/{job['id']}", headers=owner.headers)
        polled = answer.json()
        assert polled["supplied"] >= sum(counters(polled)[1:]), polled
        if polled["status"] in ("done", "failed"):
            break
        await asyncio.sleep(0.005)
    done = await wait_for(client, owner, job["id"])
    rejected, inserted = lines.count("bad"), len(set(lines) - {"bad"})
    assert counters(done) == (1200, inserted, 1200 - rejected - inserted, 0, rejected)
    assert_accounted(job_and_stored(store, owner, job["id"]))
    assert len({s[1] for s in snapshots}) > 2  # some polls did land mid-import


class _Process:
    """Stands for a worker child whose events a test plays back."""

    def is_alive(self) -> bool:
        return False

    def terminate(self) -> None:
        pass

    def join(self) -> None:
        pass


async def test_a_job_interrupted_mid_import_counts_exactly_the_rows_it_stored(
    app: PowerDialerApp, store: Store, owner: Persona, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Two chunks stored, then the reading child stalls and the server shuts down: the job is
    # let go of (for a takeover), and its counters are those of the two chunks, rejects included.
    rows = [(None, f"093{i:07d}", f"+38093{i:07d}", None, None) for i in range(20)]
    reject = (99, "12", None, "invalid_phone_number", "too_short", "too short")
    stall = threading.Event()
    opened = worker.Opened("csv", "utf-8", ";", {"phone": "Телефон"})
    chunks = [worker.Chunk(rows[:10], [], 10), worker.Chunk(rows[10:], [reject], 11)]
    pipes = {
        "count": _Pipe([opened, worker.Counted(99)]),
        "records": _Pipe([*chunks, worker.Finished()], last=stall),
    }
    monkeypatch.setattr(worker, "start", lambda task, part: (_Process(), pipes[part]))
    upload = app.services.imports.new_upload("leads.csv")
    job = jobs.create_job(
        store,
        owner.project_id,
        owner.campaign_id,
        filename="leads.csv",
        file_path=str(upload.path),
        keep_valid=False,
    )
    app.services.imports.launch(job, upload, None)
    try:
        for _ in range(500):
            if len(numbers(store, owner)) == 20:
                break
            await asyncio.sleep(0.01)
        assert await asyncio.to_thread(pipes["records"].held.wait, 10)  # the child stalls
        await app.services.imports.stop()
    finally:
        stall.set()
    stopped = jobs.get_job(store, owner.project_id, job.id)
    # Left for another instance (or this one, restarted) to resume: its lease let go of.
    assert (stopped.status, stopped.error, stopped.owner) == ("running", None, None)
    assert stopped.lease_until is not None
    assert stopped.lease_until <= utcnow()
    assert (stopped.supplied, stopped.inserted, stopped.rejected) == (21, 20, 1)
    assert_accounted(job_and_stored(store, owner, job.id))
    rejected = store.read(lambda conn: conn.execute(text("SELECT line FROM import_rejects")).all())
    assert [r.line for r in rejected] == [99]


async def test_a_campaign_archived_mid_import_fails_the_job_and_keeps_what_was_stored(
    client: httpx.AsyncClient,
    owner: Persona,
    store: Store,
    app: PowerDialerApp,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app.services.imports.chunk_rows = 10
    monkeypatch.setattr(runner, "AHEAD", 1)  # the first chunk is stored before the second
    enqueue = app.services.writer.enqueue
    writes = 0

    def archive_after_first_chunk(payload: object) -> object:
        nonlocal writes
        if isinstance(payload, ImportChunk):
            writes += 1
            if writes == 2:
                campaigns.set_campaign_state(
                    store, owner.project_id, owner.campaign_id, CampaignState.ARCHIVED
                )
        return enqueue(payload)

    monkeypatch.setattr(app.services.writer, "enqueue", archive_after_first_chunk)
    content = "Телефон\n" + "".join(f"38093{i:07d}\n" for i in range(30))
    job = await run_import(client, owner, content.encode())
    assert (job["status"], job["error"]["code"]) == ("failed", "campaign_archived")
    assert job["inserted"] == 10
    assert len(numbers(store, owner)) == 10


async def test_a_campaign_deleted_mid_import_takes_its_job_with_it(
    client: httpx.AsyncClient,
    owner: Persona,
    store: Store,
    app: PowerDialerApp,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app.services.imports.chunk_rows = 10
    enqueue = app.services.writer.enqueue
    deleted = asyncio.Event()

    def delete_on_first_chunk(payload: object) -> object:
        if isinstance(payload, ImportChunk) and not deleted.is_set():
            campaigns.delete_campaign(store, owner.project_id, owner.campaign_id)
            deleted.set()
        return enqueue(payload)

    monkeypatch.setattr(app.services.writer, "enqueue", delete_on_first_chunk)
    content = "Телефон\n" + "".join(f"38093{i:07d}\n" for i in range(30))
    job = await start_import(client, owner, content.encode())
    await deleted.wait()
    for _ in range(200):
        if not app.services.imports._tasks:
            break
        await asyncio.sleep(0.05)
    answer = await client.get(f"/power-dialer/imports/{job['id']}", headers=owner.headers)
    assert answer.status_code == 404
    assert uploads_left(settings) == []


# --- restarts -------------------------------------------------------------------------------


async def test_startup_deletes_local_uploads_no_live_process_holds_and_leaves_jobs_to_leases(
    settings: Settings, started_app: StartApp, store: Store, owner: Persona
) -> None:
    folder = uploads.instance_dir(settings.data_dir)
    held = uploads.Upload(folder, ".csv")  # a live sibling process's upload: locked
    dead = folder / "dead.csv"
    dead.write_bytes(b"380931234567\n")
    created = jobs.create_job(
        store,
        owner.project_id,
        owner.campaign_id,
        filename="x.csv",
        file_path=str(dead),
        keep_valid=False,
        owner="a-live-process",
        lease_until=utcnow() + dt.timedelta(hours=1),
    )
    async with started_app():
        pass
    assert not dead.exists()
    assert held.path.exists()
    held.release()
    kept = jobs.get_job(store, owner.project_id, created.id)
    assert (kept.status, kept.owner) == ("queued", "a-live-process")  # its lease holds


async def test_shutdown_lets_go_of_the_jobs_still_queued_or_running(
    settings: Settings,
    started_app: StartApp,
    store: Store,
    owner: Persona,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with started_app() as application:
        imports = application.services.imports
        assert imports is not None
        await imports._slots.acquire()  # a job holds the only slot: the next one queues
        seen = record_submits(application, monkeypatch)
        async with client_of(application) as client:
            job = await start_import(client, owner, UA_CSV.encode())
        await run_ready_tasks()
        for _ in range(500):  # the upload is stored before the job waits for its slot
            queued = jobs.get_job(store, owner.project_id, job["id"])
            if queued.upload_size is not None:
                break
            await asyncio.sleep(0.01)
        started = [p for p in seen if isinstance(p, jobs.JobUpdate) and "status" in p.values]
        assert not started  # it has not started...
        assert (queued.status, queued.owner) == ("queued", imports.owner)
        assert queued.upload_size == len(UA_CSV.encode())  # ...but any instance can finish it
    stopped = jobs.get_job(store, owner.project_id, job["id"])
    assert (stopped.status, stopped.error, stopped.owner) == ("queued", None, None)
    assert uploads_left(settings) == []


async def test_chunks_are_stored_in_writes_small_enough_for_the_live_api(
    client: httpx.AsyncClient,
    owner: Persona,
    app: PowerDialerApp,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app.services.imports.chunk_rows, app.services.imports.write_rows = 10, 4
    seen = record_submits(app, monkeypatch)
    content = "Телефон\n" + "".join(f"38093{i:07d}\n" for i in range(25))
    job = await run_import(client, owner, content.encode())
    assert counters(job) == (25, 25, 0, 0, 0)
    assert [len(p.rows) for p in seen if isinstance(p, ImportChunk)] == [4, 4, 2, 4, 4, 2, 4, 1]


# --- the import's own write (rows.write.ImportChunk) -------------------------------------------


def chunk(persona: Persona, *rows: tuple[str, str | None]) -> ImportChunk:
    """An ImportChunk of ``(national number, fio)`` rows, as the worker child sends them."""
    return ImportChunk(
        persona.project_id,
        persona.campaign_id,
        [(fio, f"0{n}", f"+380{n}", None, '{"city":"Київ"}') for n, fio in rows],
    )


def test_an_import_chunk_counts_repeats_within_it_and_numbers_already_stored(
    store: Store, owner: Persona
) -> None:
    first = chunk(owner, ("931111111", "old"))
    assert store.write(lambda conn: apply_imports(conn, [first])) == [ImportCounts(1, 0, 0)]
    second = chunk(
        owner,
        ("932222222", "new"),
        ("931111111", "again"),  # in the campaign already
        ("933333333", "first"),
        ("933333333", "repeat"),  # earlier in this chunk
        ("932222222", "repeat"),
    )
    assert store.write(lambda conn: apply_imports(conn, [second])) == [ImportCounts(2, 3, 0)]
    assert sorted(stored_rows(store, owner)) == [
        ("first", "0933333333", "+380933333333"),
        ("new", "0932222222", "+380932222222"),
        ("old", "0931111111", "+380931111111"),
    ]


def test_the_driver_counts_only_the_rows_a_multi_row_insert_on_conflict_stored(
    store: Store, owner: Persona, monkeypatch: pytest.MonkeyPatch
) -> None:
    # insert_skipping reads the count from cursor.rowcount: on both drivers it is the rows
    # actually inserted by INSERT … VALUES (…), (…) ON CONFLICT DO NOTHING, conflicts excluded.
    monkeypatch.setattr(rows_import, "_SQLITE_ROWS", 3)  # several statements in one call
    head = (owner.project_id, owner.campaign_id, "import")
    rows = chunk(owner, *[(f"93{n % 5:07d}", None) for n in range(8)]).rows
    counts = [store.write(lambda c: rows_import.insert_skipping(c, head, rows, utcnow()))]
    counts.append(store.write(lambda c: rows_import.insert_skipping(c, head, rows, utcnow())))
    assert counts == [5, 0]
    assert len(stored_rows(store, owner)) == 5


def test_an_import_chunk_answers_each_campaigns_error(
    store: Store, owner: Persona, stranger: Persona
) -> None:
    archived = campaigns.create_campaign(store, owner.project_id, "archived")
    campaigns.set_campaign_state(store, owner.project_id, archived.id, CampaignState.ARCHIVED)
    items = [
        chunk(owner, ("931111111", None)),
        ImportChunk(owner.project_id, archived.id, chunk(owner, ("931111111", None)).rows),
        ImportChunk(owner.project_id, stranger.campaign_id, chunk(owner, ("93", None)).rows),
    ]
    results = store.write(lambda conn: apply_imports(conn, items))
    assert results[0] == ImportCounts(1, 0, 0)
    assert [getattr(r, "code", None) for r in results[1:]] == [
        "campaign_archived",
        "campaign_not_found",
    ]
    assert stored_rows(store, stranger) == []


async def test_an_import_into_an_update_campaign_merges_and_counts_updates(
    client: httpx.AsyncClient, owner: Persona, store: Store, app: PowerDialerApp
) -> None:
    store.write(
        lambda conn: conn.execute(
            text("UPDATE campaigns SET duplicate_policy = 'update' WHERE id = :id"),
            {"id": owner.campaign_id},
        )
    )
    app.services.imports.chunk_rows = 2
    content = "Телефон;ПІБ\n380931234567;Перший\n380501234567;Олена\n380931234567;Другий\n"
    job = await run_import(client, owner, content.encode())
    assert counters(job) == (3, 2, 0, 1, 0)
    assert sorted(fio for fio, _, _ in stored_rows(store, owner)) == ["Другий", "Олена"]

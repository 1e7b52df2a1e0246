"""The do-not-call list: the API under /power-dialer/dnc (add, list, check, remove, CSV import
and export), project isolation on each, and the refusal with ``do_not_call`` of a listed
number on every surface that adds rows (compatible, bulk, imports, the UI's add-row)."""

from __future__ import annotations

import csv
import io
from typing import Any

import httpx
import pytest

from powerdialer import dnc, dnc_csv
from powerdialer.storage import Store
from tests.conftest import COMPAT, Persona, stored_rows

pytestmark = pytest.mark.anyio

DNC = "/power-dialer/dnc"


async def add(client: httpx.AsyncClient, persona: Persona, body: object) -> dict[str, Any]:
    response = await client.post(DNC, json=body, headers=persona.headers)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def listed(store: Store, persona: Persona) -> list[str]:
    page = dnc.list_numbers(store, persona.project_id, limit=1000)
    return [entry.phone_e164 for entry in page.items]


async def test_it_adds_one_number_with_who_and_why(
    client: httpx.AsyncClient, owner: Persona
) -> None:
    body = await add(client, owner, {"number": "093 000 00 00", "reason": "asked not to call"})
    assert body["added"] == 1
    assert body["results"] == [
        {"index": 0, "status": "added", "number": "+380930000000", "error": None}
    ]
    check = (await client.get(f"{DNC}/+380930000000", headers=owner.headers)).json()
    assert check["listed"] is True
    entry = check["entry"]
    key_id = owner.key.split("_")[1]
    assert entry["reason"] == "asked not to call"
    assert entry["source"] == "api"
    assert entry["added_by"] == f"key:{key_id}"
    assert entry["added_at"]


async def test_it_adds_a_list_rejecting_bad_numbers_alone(
    client: httpx.AsyncClient, owner: Persona, store: Store
) -> None:
    numbers = [{"number": "380930000001"}, {"number": "12"}, {"number": "+380930000001"}]
    body = await add(client, owner, {"numbers": numbers})
    assert [r["status"] for r in body["results"]] == ["added", "rejected", "listed"]
    error = body["results"][1]["error"]
    assert error["code"] == "invalid_phone_number"
    assert error["field"] == "number"
    assert error["message"].startswith("number '12'")
    assert (body["added"], body["listed"], body["rejected"]) == (1, 1, 1)
    assert listed(store, owner) == ["+380930000001"]


async def test_a_number_listed_again_keeps_its_first_entry(
    client: httpx.AsyncClient, owner: Persona
) -> None:
    await add(client, owner, {"number": "380930000002", "reason": "first"})
    body = await add(client, owner, {"number": "380930000002", "reason": "second"})
    assert body["results"][0]["status"] == "listed"
    check = (await client.get(f"{DNC}/380930000002", headers=owner.headers)).json()
    assert check["entry"]["reason"] == "first"


async def test_it_refuses_a_body_that_is_not_numbers(
    client: httpx.AsyncClient, owner: Persona
) -> None:
    response = await client.post(DNC, json={"numbers": []}, headers=owner.headers)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_body"
    response = await client.post(DNC, content=b"[1", headers=owner.headers)
    assert response.json()["error"]["code"] == "malformed_json"


async def test_it_lists_by_prefix_a_page_at_a_time(
    client: httpx.AsyncClient, owner: Persona
) -> None:
    numbers = ["380930000005", "380930000003", "380670000000", "380930000004"]
    await add(client, owner, {"numbers": [{"number": n} for n in numbers]})
    first = await client.get(DNC, params={"prefix": "38093", "limit": 2}, headers=owner.headers)
    page = first.json()
    assert [e["number"] for e in page["items"]] == ["+380930000003", "+380930000004"]
    assert page["next_cursor"] == "+380930000004"
    second = await client.get(
        DNC,
        params={"prefix": "+38093", "limit": 2, "cursor": page["next_cursor"]},
        headers=owner.headers,
    )
    assert [e["number"] for e in second.json()["items"]] == ["+380930000005"]
    assert second.json()["next_cursor"] is None
    bad = await client.get(DNC, params={"prefix": "38x"}, headers=owner.headers)
    assert bad.status_code == 422
    assert bad.json()["error"]["field"] == "prefix"


async def test_it_removes_a_number(client: httpx.AsyncClient, owner: Persona, store: Store) -> None:
    await add(client, owner, {"number": "380930000006"})
    response = await client.delete(f"{DNC}/+380930000006", headers=owner.headers)
    assert response.status_code == 204
    assert listed(store, owner) == []
    again = await client.delete(f"{DNC}/+380930000006", headers=owner.headers)
    assert again.status_code == 404
    assert again.json()["error"]["code"] == "dnc_not_found"
    check = (await client.get(f"{DNC}/380930000006", headers=owner.headers)).json()
    assert check == {"number": "+380930000006", "listed": False, "entry": None}


async def test_a_stranger_never_sees_nor_changes_the_owners_list(
    client: httpx.AsyncClient, owner: Persona, stranger: Persona, store: Store
) -> None:
    await add(client, owner, {"number": "380930000007", "reason": "owner's"})
    page = (await client.get(DNC, headers=stranger.headers)).json()
    assert page["items"] == []
    check = (await client.get(f"{DNC}/380930000007", headers=stranger.headers)).json()
    assert check["listed"] is False
    deleted = await client.delete(f"{DNC}/380930000007", headers=stranger.headers)
    assert deleted.status_code == 404
    export = await client.get(f"{DNC}/export", headers=stranger.headers)
    assert "+380930000007" not in export.text
    await add(client, stranger, {"number": "380930000007", "reason": "stranger's"})
    entry = dnc.check_number(store, owner.project_id, "380930000007", region="UA")[1]
    assert entry is not None
    assert entry.reason == "owner's"


async def test_every_route_wants_a_key(client: httpx.AsyncClient, owner: Persona) -> None:
    wrong = {**owner.headers, "Auth-key": "pd_nope_nope"}
    for method, path in [("GET", DNC), ("GET", f"{DNC}/380930000000"), ("GET", f"{DNC}/export")]:
        response = await client.request(method, path, headers=wrong)
        assert response.status_code == 401, path
    response = await client.post(DNC, json={"number": "380930000000"}, headers=wrong)
    assert response.status_code == 401


async def test_csv_import_and_export_round_trip(
    client: httpx.AsyncClient, owner: Persona, stranger: Persona
) -> None:
    data = "Телефон;Причина\n093 000 00 10;просив не дзвонити\n12;\n380930000011;\n".encode(
        "cp1251"
    )
    files = {"file": ("dnc.csv", data, "text/csv")}
    response = await client.post(f"{DNC}/import", files=files, headers=owner.headers)
    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["added"], report["listed"], report["rejected"]) == (2, 0, 1)
    assert report["rejects"][0]["line"] == 3
    assert report["rejects"][0]["error"]["code"] == "invalid_phone_number"
    export = await client.get(f"{DNC}/export", headers=owner.headers)
    assert export.status_code == 200
    assert export.headers["content-type"].startswith("text/csv")
    lines = list(csv.reader(io.StringIO(export.content.decode("utf-8-sig"))))
    assert lines[0] == list(dnc_csv.HEADER)
    assert [line[:3] for line in lines[1:]] == [
        ["+380930000010", "просив не дзвонити", "import"],
        ["+380930000011", "", "import"],
    ]
    # The export is a file the import reads: into another project, it lists the same.
    again = await client.post(
        f"{DNC}/import", files={"file": ("x.csv", export.content)}, headers=stranger.headers
    )
    assert again.json()["added"] == 2
    assert again.json()["rejected"] == 0


async def test_csv_import_without_a_header_takes_the_first_column(
    owner: Persona, store: Store
) -> None:
    report = dnc_csv.import_csv(
        store,
        owner.project_id,
        b"380930000020,moved abroad\n380930000021\n380930000020,again\n",
        source="cli",
        region="UA",
        added_by="admin@example.com",
    )
    assert (report.added, report.listed, report.rejected) == (2, 1, 0)
    entry = dnc.check_number(store, owner.project_id, "380930000020", region="UA")[1]
    assert entry is not None
    assert (entry.reason, entry.source, entry.added_by) == (
        "moved abroad",
        "cli",
        "admin@example.com",
    )


async def test_csv_import_is_bounded(client: httpx.AsyncClient, owner: Persona) -> None:
    big = b"380930000000\n" * (dnc_csv.MAX_IMPORT_BYTES // 13 + 1)
    response = await client.post(
        f"{DNC}/import", files={"file": ("big.csv", big)}, headers=owner.headers
    )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "body_too_large"


async def test_a_quote_that_never_closes_refuses_the_file_and_lists_nothing(
    client: httpx.AsyncClient, owner: Persona, store: Store
) -> None:
    # 6,000 good numbers first (past one batch of 5,000), then a quote that never closes.
    good = "".join(f"38093{i:07d}\n" for i in range(6000))
    data = (good + '380930099999,"moved\n' + "380930000001\n" * 20_000).encode()
    response = await client.post(
        f"{DNC}/import", files={"file": ("open.csv", data)}, headers=owner.headers
    )
    assert response.status_code == 422
    error = response.json()["error"]
    assert (error["code"], error["field"]) == ("malformed_line", "file")
    assert "line 6001 " in error["message"]
    assert dnc_csv.export_csv(store, owner.project_id).__next__()  # the header only
    assert list(dnc_csv.export_csv(store, owner.project_id))[1:] == []


async def test_a_cp1251_file_is_read_and_a_quoted_reason_over_two_lines_keeps_the_next_lines_number(
    owner: Persona, store: Store
) -> None:
    data = (
        'Телефон;Причина\n380930000050;"просив\nне дзвонити"\n380930000051;скарга\nx;y\n'
    ).encode("cp1251")
    report = dnc_csv.import_csv(
        store, owner.project_id, io.BytesIO(data), source="cli", region="UA"
    )
    assert (report.added, report.listed, report.rejected) == (2, 0, 1)
    assert [(r.line, r.value) for r in report.rejects] == [(5, "x")]
    entry = dnc.check_number(store, owner.project_id, "380930000050", region="UA")[1]
    assert entry is not None
    assert entry.reason == "просив не дзвонити"  # a reason is kept on one line


class _Reads(io.BytesIO):
    """A file that remembers the largest piece read from it at once."""

    largest = 0

    def read(self, size: int | None = -1) -> bytes:
        chunk = super().read(size)
        self.largest = max(self.largest, len(chunk))
        return chunk

    def read1(self, size: int = -1) -> bytes:
        chunk = super().read1(size)
        self.largest = max(self.largest, len(chunk))
        return chunk


def test_an_import_reads_the_file_a_piece_at_a_time(owner: Persona, store: Store) -> None:
    # The old import read the whole file into memory, then its whole text.
    numbers = b"".join(b"38093%07d\n" % i for i in range(1000))
    data = _Reads(numbers + b",\n" * 200_000)

    report = dnc_csv.import_csv(store, owner.project_id, data, source="cli", region="UA")

    assert report.added == 1000
    assert 0 < data.largest <= 64 * 1024
    assert not data.closed  # the caller's file, theirs to close


# --- the refusal at insert -------------------------------------------------------------------


async def test_the_compatible_endpoint_refuses_a_listed_number(
    client: httpx.AsyncClient, owner: Persona, stranger: Persona, store: Store
) -> None:
    await add(client, owner, {"number": "380930000030"})
    response = await client.post(COMPAT, json=owner.row("380930000030"), headers=owner.headers)
    assert response.status_code == 409
    assert response.json() == {
        "result": False,
        "error": {
            "code": "do_not_call",
            "message": "phone_number +380930000030 is on the project's do-not-call list: "
            "remove it from the list to call it.",
            "field": "phone_number",
            "reason": "listed",
        },
    }
    assert stored_rows(store, owner) == []
    # Another number, and the same number in another project, are stored.
    ok = await client.post(COMPAT, json=owner.row("380930000031"), headers=owner.headers)
    assert ok.json() == {"result": True}
    theirs = await client.post(COMPAT, json=stranger.row("380930000030"), headers=stranger.headers)
    assert theirs.json() == {"result": True}
    # Removed from the list, it is accepted again.
    await client.delete(f"{DNC}/380930000030", headers=owner.headers)
    back = await client.post(COMPAT, json=owner.row("380930000030"), headers=owner.headers)
    assert back.json() == {"result": True}


async def test_the_bulk_endpoint_rejects_a_listed_number_alone(
    client: httpx.AsyncClient, owner: Persona, store: Store
) -> None:
    await add(client, owner, {"number": "380930000040"})
    rows = [{"phone_number": "380930000041"}, {"phone_number": "+380 93 000 00 40"}]
    response = await client.post(
        f"/power-dialer/campaigns/{owner.campaign_id}/rows",
        json={"rows": rows},
        headers=owner.headers,
    )
    body = response.json()
    assert [r["status"] for r in body["results"]] == ["inserted", "rejected"]
    assert body["results"][1]["error"]["code"] == "do_not_call"
    assert body["results"][1]["error"]["field"] == "phone_number"
    assert (body["inserted"], body["rejected"]) == (1, 1)
    assert [e164 for _, _, e164 in stored_rows(store, owner)] == ["+380930000041"]


async def test_an_import_rejects_listed_numbers_with_their_line(
    client: httpx.AsyncClient, owner: Persona, store: Store
) -> None:
    from tests.test_import_jobs import rejected_rows, run_import

    await add(client, owner, {"number": "380930000050", "reason": "asked"})
    content = "Телефон;ПІБ\n380930000051;Анна\n093 000 00 50;Борис\n380930000052;Віра\n"
    job = await run_import(client, owner, content.encode())
    assert (job["inserted"], job["rejected"]) == (2, 1)
    [reject] = await rejected_rows(client, owner, job["id"])
    assert (reject["line"], reject["code"], reject["fio"]) == ("3", "do_not_call", "Борис")
    assert sorted(e164 for _, _, e164 in stored_rows(store, owner)) == [
        "+380930000051",
        "+380930000052",
    ]


async def test_an_import_under_the_update_policy_rejects_listed_numbers_too(
    client: httpx.AsyncClient, owner: Persona, store: Store
) -> None:
    from tests.test_import_jobs import run_import

    await client.patch(
        f"/power-dialer/campaigns/{owner.campaign_id}",
        json={"duplicate_policy": "update"},
        headers=owner.headers,
    )
    await add(client, owner, {"number": "380930000060"})
    job = await run_import(client, owner, b"phone\n380930000060\n380930000061\n")
    assert (job["inserted"], job["rejected"]) == (1, 1)
    assert [e164 for _, _, e164 in stored_rows(store, owner)] == ["+380930000061"]


# --- the CLI ---------------------------------------------------------------------------------


def cli_run(database_url: str, *args: str, expect: int = 0) -> str:
    from click.testing import CliRunner

    from powerdialer.cli import cli

    result = CliRunner().invoke(cli, [*args, "--database-url", database_url])
    assert result.exit_code == expect, (result.output, result.exception)
    return result.output


def test_the_cli_adds_lists_exports_and_removes(
    database_url: str, owner: Persona, stranger: Persona, store: Store, tmp_path: Any
) -> None:
    project = str(owner.project_id)
    out = cli_run(
        database_url, "dnc", "add", "--project", project, "093 000 00 70", "380930000071",
        "--reason", "asked", "--by", "anna@example.com",
    )  # fmt: skip
    assert "Listed +380930000070." in out
    bad = cli_run(database_url, "dnc", "add", "--project", project, "12", expect=2)
    assert "number '12' is not a valid phone number" in bad
    listed_json = cli_run(database_url, "dnc", "list", "--project", project, "--json")
    import json

    entries = json.loads(listed_json)
    assert [e["number"] for e in entries] == ["+380930000070", "+380930000071"]
    assert {(e["reason"], e["source"], e["added_by"]) for e in entries} == {
        ("asked", "cli", "anna@example.com")
    }
    assert cli_run(database_url, "dnc", "list", "--project", str(stranger.project_id), "--json")
    assert (
        json.loads(
            cli_run(database_url, "dnc", "list", "--project", str(stranger.project_id), "--json")
        )
        == []
    )
    exported = cli_run(database_url, "dnc", "export", "--project", project)
    assert exported.splitlines()[1].startswith("+380930000070,asked,cli,anna@example.com,")
    file = tmp_path / "dnc.csv"
    file.write_text(exported.lstrip("\ufeff") + "nonsense\n", encoding="utf-8")
    imported = cli_run(
        database_url, "dnc", "import", "--project", str(stranger.project_id), str(file), expect=2
    )
    assert "Listed 2 numbers; 0 were listed already; 1 lines rejected." in imported
    assert listed(store, stranger) == ["+380930000070", "+380930000071"]
    removed = cli_run(database_url, "dnc", "remove", "--project", project, "+380930000070")
    assert "Removed +380930000070" in removed
    cli_run(database_url, "dnc", "remove", "--project", project, "+380930000070", expect=3)
    assert listed(store, owner) == ["+380930000071"]
    assert listed(store, stranger) == ["+380930000070", "+380930000071"]


def test_the_cli_refuses_an_unknown_project(database_url: str) -> None:
    out = cli_run(database_url, "dnc", "add", "--project", "999", "380930000000", expect=3)
    assert "999" in out

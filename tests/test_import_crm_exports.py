"""Real CRM exports import: 60-150 columns with long titles (Bitrix24, amoCRM, KeyCRM, built
in tests/crm_exports.py) import their phones and names; the columns past the custom-field
limits are left out with a notice on the job and in the preview, not every row rejected; the
mapping can choose the custom fields."""

from __future__ import annotations

import json

import httpx
import pytest
from sqlalchemy import text

from powerdialer.storage import Store
from tests.conftest import Persona, stored_rows
from tests.crm_exports import EXPORTS, LONG_TITLE, Export
from tests.test_import_jobs import counters, run_import

pytestmark = pytest.mark.anyio


def extras(store: Store) -> list[dict[str, str]]:
    found = store.read(
        lambda conn: conn.execute(text("SELECT extra FROM campaign_rows ORDER BY id")).scalars()
    )
    return [json.loads(e) if e else {} for e in found]


def expected_left_out(export: Export) -> list[tuple[str, str]]:
    """Every column past the first 50 custom fields, and every title over 64 characters."""
    names = ("Мобильный телефон", "Имя", "Фамилия", "Отчество")
    mapped = {"ID"} | {n for n in export.headers if n in names}
    mapped |= {"Рабочий телефон (контакт)", "Полное имя контакта", "ПІБ", "Телефон"}
    kept, left = 0, []
    for name in export.headers:
        if name in mapped:
            continue
        if len(name) > 64:
            left.append((name, "name_too_long"))
        elif kept == 50:
            left.append((name, "too_many_fields"))
        else:
            kept += 1
    return left


async def preview(client: httpx.AsyncClient, persona: Persona, content: bytes, **form: str) -> dict:  # type: ignore[type-arg]
    answer = await client.post(
        "/power-dialer/imports/preview",
        headers=persona.headers,
        files={"file": ("export.csv", content)},
        data=form,
    )
    assert answer.status_code == 200, answer.text
    return answer.json()  # type: ignore[no-any-return]


@pytest.mark.parametrize("crm", sorted(EXPORTS))
async def test_a_wide_crm_export_imports_every_phone_and_name_and_says_what_it_left_out(
    client: httpx.AsyncClient, owner: Persona, store: Store, crm: str
) -> None:
    export = EXPORTS[crm]()
    assert 60 <= len(export.headers) <= 150
    job = await run_import(client, owner, export.csv(), "export.csv")
    assert (job["status"], job["error"]) == ("done", None)
    assert counters(job) == (30, 30, 0, 0, 0)
    assert [(fio, e164) for fio, _, e164 in stored_rows(store, owner)] == list(
        zip(export.names, export.phones, strict=True)
    )
    left_out = [(c["column"], c["reason"]) for c in job["left_out"]]
    assert left_out == expected_left_out(export)
    assert left_out, "these exports are wider than the limits"
    assert all(c["message"] for c in job["left_out"])
    assert all(len(row) <= 50 for row in extras(store))
    assert all(name not in row for name, _ in left_out for row in extras(store))
    looked = await preview(client, owner, export.csv())
    assert looked["left_out"] == job["left_out"]
    assert all(row["error"] is None for row in looked["rows"])


async def test_a_bitrix24_export_reads_the_work_phone_when_the_mobile_one_is_empty(
    client: httpx.AsyncClient, owner: Persona, store: Store
) -> None:
    export = EXPORTS["bitrix24"]()
    job = await run_import(client, owner, export.csv(), "export.csv")
    assert job["mapping"]["phone"] == "Мобильный телефон"
    numbers = [e164 for _, _, e164 in stored_rows(store, owner)]
    assert numbers[0] == "+380440000000"  # row 0: no mobile phone
    assert numbers[1] == "+380670000001"


async def test_the_mapping_chooses_the_columns_that_become_custom_fields(
    client: httpx.AsyncClient, owner: Persona, store: Store
) -> None:
    export = EXPORTS["bitrix24"]()
    mapping = json.dumps({"fields": ["Город", "UF_CRM_1600000090", 6, LONG_TITLE]})
    job = await run_import(client, owner, export.csv(), "export.csv", mapping=mapping)
    assert counters(job) == (30, 30, 0, 0, 0)
    assert extras(store)[0] == {
        "Город": "Киев",
        "UF_CRM_1600000090": "значение 90",
        "Должность": "Менеджер",
    }
    assert [(c["column"], c["reason"]) for c in job["left_out"]] == [(LONG_TITLE, "name_too_long")]
    none = await run_import(client, owner, export.csv(), "export.csv", mapping='{"fields": null}')
    assert (none["status"], none["left_out"]) == ("done", [])


@pytest.mark.parametrize(
    "fields",
    ['"Город"', "[true]", "[-1]", json.dumps([f"c{n}" for n in range(51)])],
)
async def test_a_fields_choice_that_is_not_a_list_of_at_most_50_columns_is_refused(
    client: httpx.AsyncClient, owner: Persona, fields: str
) -> None:
    answer = await client.post(
        "/power-dialer/imports/preview",
        headers=owner.headers,
        files={"file": ("export.csv", EXPORTS["keycrm"]().csv())},
        data={"mapping": f'{{"fields": {fields}}}'},
    )
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["code"] == "invalid_mapping"

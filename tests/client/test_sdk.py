"""The SDK against the real app: in process through ``httpx.ASGITransport`` (the injectable
transport), and the synchronous client against a real server process."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from powerdialer.client import (
    AsyncClient,
    AuthenticationError,
    BulkResult,
    Client,
    ConflictError,
    NewRow,
    NotFoundError,
    ValidationError,
)
from powerdialer.web.app import PowerDialerApp
from tests.client.conftest import phones, write_csv
from tests.conftest import Persona, stored_rows
from tests.e2e.conftest import Server

pytestmark = pytest.mark.anyio


def sdk(app: PowerDialerApp, persona: Persona, **kwargs: object) -> AsyncClient:
    options: dict[str, object] = {"project_id": persona.project_id, "key": persona.key}
    options.update(kwargs)
    return AsyncClient(
        base_url="http://testserver",
        transport=httpx.ASGITransport(app=app),
        **options,  # type: ignore[arg-type]
    )


@pytest.fixture
async def owner_sdk(app: PowerDialerApp, owner: Persona) -> AsyncIterator[AsyncClient]:
    async with sdk(app, owner) as client:
        yield client


async def test_add_row_stores_the_number(
    owner_sdk: AsyncClient, owner: Persona, store: object
) -> None:
    await owner_sdk.add_row(owner.campaign_id, "380930000000", fio="Іван Петренко")
    await owner_sdk.add_row(owner.campaign_id, "+380 93 000 00 00")  # the same number

    assert stored_rows(store, owner) == [("Іван Петренко", "380930000000", "+380930000000")]  # type: ignore[arg-type]


async def test_a_bad_number_raises_validation_error_naming_the_field(
    owner_sdk: AsyncClient, owner: Persona
) -> None:
    with pytest.raises(ValidationError) as caught:
        await owner_sdk.add_row(owner.campaign_id, "12")

    error = caught.value
    assert (error.status, error.code) == (422, "invalid_phone_number")
    assert (error.field, error.reason) == ("phone_number", "too_short")
    assert "phone_number" in error.message


async def test_a_wrong_key_raises_authentication_error_without_retrying(
    app: PowerDialerApp, owner: Persona, stranger: Persona
) -> None:
    calls: list[str] = []
    async with sdk(app, owner, key=stranger.key, on_retry=lambda e: calls.append(e.path)) as client:
        with pytest.raises(AuthenticationError) as caught:
            await client.add_row(owner.campaign_id, "380930000000")

    assert caught.value.status == 401
    assert calls == []


async def test_another_projects_campaign_is_not_found(
    owner_sdk: AsyncClient, stranger: Persona
) -> None:
    with pytest.raises(NotFoundError) as caught:
        await owner_sdk.add_row(stranger.campaign_id, "380930000000")
    assert caught.value.code == "campaign_not_found"


async def test_limits_say_bulk_is_supported(owner_sdk: AsyncClient) -> None:
    limits = await owner_sdk.detect_limits()

    assert limits is not None
    assert limits.bulk_max_rows > 0
    assert limits.body_max_bytes > 0


async def test_add_rows_answers_per_row(owner_sdk: AsyncClient, owner: Persona) -> None:
    await owner_sdk.add_row(owner.campaign_id, phones(1)[0])
    rows = [
        NewRow(phones(1)[0], "Was there"),
        NewRow(phones(1, 1)[0], "New", external_id="crm-7", fields={"city": "Київ"}),
        {"phone_number": "nonsense"},
    ]

    result = await owner_sdk.add_rows(owner.campaign_id, rows)

    assert isinstance(result, BulkResult)
    assert (result.inserted, result.duplicates, result.rejected) == (1, 1, 1)
    assert [r.status for r in result.results] == ["duplicate", "inserted", "rejected"]
    assert result.results[2].error is not None
    assert result.results[2].error.code == "invalid_phone_number"
    row = await owner_sdk.get_row(owner.campaign_id, result.results[1].id or 0)
    assert (row.external_id, row.fields) == ("crm-7", {"city": "Київ"})


async def test_the_dialers_fields_go_out_with_a_new_row_and_come_back_on_the_row(
    owner_sdk: AsyncClient, owner: Persona
) -> None:
    consent = dt.datetime(2026, 11, 20, 10, 15, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    row = NewRow(
        phones(1, 5)[0],
        priority=7,
        call_next=True,
        tz="Europe/Kyiv",
        consent_basis="opt-in form",
        consent_at=consent,
        consent_source="https://example.com/form",
    )

    result = await owner_sdk.add_rows(owner.campaign_id, [row, NewRow(phones(1, 6)[0])])

    stored = await owner_sdk.get_row(owner.campaign_id, result.results[0].id or 0)
    assert (stored.priority, stored.call_next, stored.tz) == (7, True, "Europe/Kyiv")
    assert (stored.consent_basis, stored.consent_source) == (
        "opt-in form",
        "https://example.com/form",
    )
    assert stored.consent_at == consent
    assert stored.final_state is None
    assert stored.due_at is not None
    plain = await owner_sdk.get_row(owner.campaign_id, result.results[1].id or 0)
    assert (plain.priority, plain.call_next, plain.tz, plain.consent_at) == (0, False, None, None)


async def test_a_repeated_idempotency_key_replays_the_first_answer(
    owner_sdk: AsyncClient, owner: Persona
) -> None:
    rows = [NewRow(phones(1, 9)[0])]

    first = await owner_sdk.add_rows(owner.campaign_id, rows, idempotency_key="k-1")
    second = await owner_sdk.add_rows(owner.campaign_id, rows, idempotency_key="k-1")

    assert first == second  # replayed: "inserted" again, not "duplicate"
    assert first.inserted == 1


async def test_campaigns_can_be_created_read_changed_and_deleted(owner_sdk: AsyncClient) -> None:
    created = await owner_sdk.create_campaign("Webinar leads", duplicate_policy="update")

    assert created.name == "Webinar leads"
    assert created.duplicate_policy == "update"
    assert created.created_at is not None
    assert created.id in [c.id for c in await owner_sdk.list_campaigns()]
    renamed = await owner_sdk.update_campaign(created.id, name="Webinar", state="archived")
    assert (renamed.name, renamed.state) == ("Webinar", "archived")
    with pytest.raises(ConflictError):
        await owner_sdk.add_row(created.id, "380930000000")
    await owner_sdk.delete_campaign(created.id)
    with pytest.raises(NotFoundError):
        await owner_sdk.get_campaign(created.id)


async def test_rows_can_be_listed_paged_filtered_exported_and_deleted(
    owner_sdk: AsyncClient, owner: Persona
) -> None:
    numbers = phones(5)
    await owner_sdk.add_rows(
        owner.campaign_id, [NewRow(n, f"K {i}") for i, n in enumerate(numbers)]
    )

    page = await owner_sdk.list_rows(owner.campaign_id, limit=2)
    every = [row async for row in owner_sdk.iter_rows(owner.campaign_id, page_size=2)]
    found = await owner_sdk.list_rows(owner.campaign_id, phone=numbers[3])
    export = io.BytesIO()
    await owner_sdk.export(owner.campaign_id, export)

    assert len(page.items) == 2
    assert page.next_cursor
    assert [r.phone_e164 for r in every] == ["+" + n for n in numbers]
    assert [r.fio for r in found.items] == ["K 3"]
    assert export.getvalue().decode("utf-8-sig").count("\n") >= 6
    await owner_sdk.delete_row(owner.campaign_id, every[0].id)
    assert await owner_sdk.delete_rows(owner.campaign_id) == 4
    assert (await owner_sdk.get_campaign(owner.campaign_id)).counts.rows == 0


async def test_an_import_job_runs_and_lists_its_rejects(
    owner_sdk: AsyncClient, owner: Persona, tmp_path: Path
) -> None:
    source = write_csv(tmp_path / "leads.csv", [("A", phones(1)[0]), ("B", "12")])

    job = await owner_sdk.start_import(owner.campaign_id, source)
    done = await owner_sdk.wait_import(job.id, poll=0.05, timeout=30)
    rejected = io.BytesIO()
    await owner_sdk.download_rejected(job.id, rejected)

    assert job.campaign_id == owner.campaign_id
    assert (done.status, done.inserted, done.rejected) == ("done", 1, 1)
    assert b"invalid_phone_number" in rejected.getvalue()


@pytest.mark.e2e
def test_the_sync_client_against_a_real_server(live: Server, owner: Persona) -> None:
    with Client(base_url=live.url, project_id=owner.project_id, key=owner.key) as client:
        client.add_row(owner.campaign_id, "380930000000", "Іван")
        with pytest.raises(ValidationError):
            client.add_row(owner.campaign_id, "12")
        assert client.detect_limits() is not None
        assert client.get_campaign(owner.campaign_id).counts.rows == 1
        assert [r.fio for r in client.iter_rows(owner.campaign_id)] == ["Іван"]

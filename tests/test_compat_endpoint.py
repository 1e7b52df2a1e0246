"""The vendor-compatible endpoint, in process: every success shape and failure path of
SPEC §3, and the error shape pinned."""

from __future__ import annotations

import httpx
import pytest

from powerdialer import campaigns, projects
from powerdialer.models import CampaignState
from powerdialer.storage import Store
from tests.conftest import COMPAT, Persona, stored_rows

pytestmark = pytest.mark.anyio


async def post(
    client: httpx.AsyncClient, persona: Persona, body: object, **headers: str
) -> httpx.Response:
    return await client.post(COMPAT, json=body, headers={**persona.headers, **headers})


def assert_error(response: httpx.Response, status: int, code: str) -> dict[str, object]:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["result"] is False
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str)
    assert body["error"]["message"]
    assert set(body) == {"result", "error"}
    assert set(body["error"]) <= {"code", "message", "field", "reason"}
    return body["error"]  # type: ignore[no-any-return]


async def test_it_stores_the_articles_row_and_answers_result_true(
    client: httpx.AsyncClient, owner: Persona, store: Store
) -> None:
    response = await post(client, owner, owner.row())
    assert response.status_code == 200
    assert response.json() == {"result": True}
    assert response.headers["content-type"] == "application/json"
    assert stored_rows(store, owner) == [("Іван Петренко", "380930000000", "+380930000000")]


@pytest.mark.parametrize(
    "phone",
    [
        "380930000000",
        "+380 93 000 00 00",
        "093-000-00-00",
        "(093) 000 00 00",
        380930000000,
        "00380930000000",
    ],
)
async def test_it_treats_every_way_of_writing_a_number_as_one_number(
    client: httpx.AsyncClient, owner: Persona, store: Store, phone: object
) -> None:
    first = await post(client, owner, owner.row("380930000000"))
    again = await post(client, owner, owner.row(phone))  # type: ignore[arg-type]
    assert first.json() == again.json() == {"result": True}
    assert [r[2] for r in stored_rows(store, owner)] == ["+380930000000"]


async def test_it_accepts_a_campaign_id_as_a_string_of_digits(
    client: httpx.AsyncClient, owner: Persona, store: Store
) -> None:
    response = await post(client, owner, owner.row(campaignId=str(owner.campaign_id)))
    assert response.json() == {"result": True}
    assert len(stored_rows(store, owner)) == 1


async def test_it_takes_fio_as_optional_and_ignores_unknown_fields(
    client: httpx.AsyncClient, owner: Persona, store: Store
) -> None:
    body = {"campaignId": owner.campaign_id, "phone_number": "+380501234567", "crm": {"x": 1}}
    response = await post(client, owner, body)
    assert response.json() == {"result": True}
    assert stored_rows(store, owner) == [(None, "+380501234567", "+380501234567")]


async def test_header_names_are_case_insensitive(client: httpx.AsyncClient, owner: Persona) -> None:
    headers = {"X-PROJECT-ID": str(owner.project_id), "auth-KEY": owner.key}
    response = await client.post(COMPAT, json=owner.row(), headers=headers)
    assert response.json() == {"result": True}


async def test_it_parses_json_whatever_the_content_type_says(
    client: httpx.AsyncClient, owner: Persona, store: Store
) -> None:
    # `curl -d` without -H sends application/x-www-form-urlencoded; the body is still JSON.
    content = f'{{"campaignId": {owner.campaign_id}, "phone_number": "380930000001"}}'
    response = await client.post(
        COMPAT,
        content=content,
        headers={**owner.headers, "content-type": "application/x-www-form-urlencoded"},
    )
    assert response.json() == {"result": True}
    assert len(stored_rows(store, owner)) == 1


async def test_a_number_already_in_the_campaign_is_not_added_twice(
    client: httpx.AsyncClient, owner: Persona, store: Store
) -> None:
    for fio in ("First", "Second"):
        response = await post(client, owner, owner.row(fio=fio))
        assert response.json() == {"result": True}
    assert stored_rows(store, owner) == [("First", "380930000000", "+380930000000")]


async def test_the_same_number_may_sit_in_two_campaigns(
    client: httpx.AsyncClient, owner: Persona, store: Store
) -> None:
    other = campaigns.create_campaign(store, owner.project_id, "Second list")
    assert (await post(client, owner, owner.row())).json() == {"result": True}
    assert (await post(client, owner, owner.row(campaignId=other.id))).json() == {"result": True}


async def test_it_answers_400_to_malformed_json_and_stores_nothing(
    client: httpx.AsyncClient, owner: Persona, store: Store
) -> None:
    response = await client.post(COMPAT, content=b'{"campaignId": 1,', headers=owner.headers)
    assert_error(response, 400, "malformed_json")
    assert stored_rows(store, owner) == []


@pytest.mark.parametrize("content", [b"[1, 2]", b'"text"', b"42", b"null", b""])
async def test_it_answers_400_to_a_body_that_is_not_an_object(
    client: httpx.AsyncClient, owner: Persona, content: bytes
) -> None:
    response = await client.post(COMPAT, content=content, headers=owner.headers)
    assert response.status_code == 400
    assert response.json()["error"]["code"] in {"invalid_body", "malformed_json"}


async def test_it_answers_401_without_a_key(client: httpx.AsyncClient, owner: Persona) -> None:
    response = await client.post(
        COMPAT, json=owner.row(), headers={"x-project-id": str(owner.project_id)}
    )
    error = assert_error(response, 401, "missing_auth_key")
    assert error["field"] == "Auth-key"


async def test_it_answers_401_without_a_project_id(
    client: httpx.AsyncClient, owner: Persona
) -> None:
    response = await client.post(COMPAT, json=owner.row(), headers={"Auth-key": owner.key})
    error = assert_error(response, 401, "missing_project_id")
    assert error["field"] == "x-project-id"


@pytest.mark.parametrize("project_id", ["abc", "-1", "1.5", "99999999999999999999999"])
async def test_it_answers_401_to_a_project_id_that_is_not_an_integer(
    client: httpx.AsyncClient, owner: Persona, project_id: str
) -> None:
    response = await client.post(
        COMPAT, json=owner.row(), headers={"x-project-id": project_id, "Auth-key": owner.key}
    )
    assert_error(response, 401, "invalid_project_id")


@pytest.mark.parametrize("key", ["xxx", "pd_000000000000_wrong", "your_unique_auth_key"])
async def test_it_rejects_wrong_api_key(
    client: httpx.AsyncClient, owner: Persona, store: Store, key: str
) -> None:
    response = await post(client, owner, owner.row(), **{"Auth-key": key})
    assert_error(response, 401, "invalid_auth_key")
    assert stored_rows(store, owner) == []


async def test_it_rejects_a_right_key_with_a_wrong_secret(
    client: httpx.AsyncClient, owner: Persona, store: Store
) -> None:
    tampered = owner.key[:-4] + ("AAAA" if not owner.key.endswith("AAAA") else "BBBB")
    response = await post(client, owner, owner.row(), **{"Auth-key": tampered})
    assert_error(response, 401, "invalid_auth_key")
    assert stored_rows(store, owner) == []


async def test_a_key_of_another_project_is_rejected(
    client: httpx.AsyncClient, owner: Persona, stranger: Persona, store: Store
) -> None:
    response = await post(client, owner, owner.row(), **{"Auth-key": stranger.key})
    assert_error(response, 401, "invalid_auth_key")
    assert stored_rows(store, owner) == []


async def test_a_revoked_key_stops_working_at_once(
    client: httpx.AsyncClient, owner: Persona, store: Store
) -> None:
    assert (await post(client, owner, owner.row())).json() == {"result": True}
    projects.revoke_key(store, owner.project_id, owner.key)
    response = await post(client, owner, owner.row("380930000002"))
    assert_error(response, 401, "invalid_auth_key")
    assert len(stored_rows(store, owner)) == 1


async def test_a_wrong_key_is_reported_before_a_bad_body(
    client: httpx.AsyncClient, owner: Persona
) -> None:
    response = await client.post(
        COMPAT, content=b"{oops", headers={**owner.headers, "Auth-key": "pd_000000000000_x"}
    )
    assert_error(response, 401, "invalid_auth_key")


async def test_it_answers_404_to_a_campaign_that_does_not_exist(
    client: httpx.AsyncClient, owner: Persona
) -> None:
    response = await post(client, owner, owner.row(campaignId=999_999))
    error = assert_error(response, 404, "campaign_not_found")
    assert error["field"] == "campaignId"


async def test_another_projects_campaign_answers_exactly_like_a_missing_one(
    client: httpx.AsyncClient, owner: Persona, stranger: Persona, store: Store
) -> None:
    theirs = await post(client, owner, owner.row(campaignId=stranger.campaign_id))
    # The same id shape that does not exist at all: the answers must be indistinguishable.
    missing_id = stranger.campaign_id + 1000
    missing = await post(client, owner, owner.row(campaignId=missing_id))
    assert theirs.status_code == missing.status_code == 404
    assert theirs.text.replace(str(stranger.campaign_id), "N") == missing.text.replace(
        str(missing_id), "N"
    )
    assert stored_rows(store, stranger) == []


async def test_an_archived_campaign_refuses_new_rows(
    client: httpx.AsyncClient, owner: Persona, store: Store
) -> None:
    campaigns.set_campaign_state(store, owner.project_id, owner.campaign_id, CampaignState.ARCHIVED)
    response = await post(client, owner, owner.row())
    assert_error(response, 409, "campaign_archived")
    assert stored_rows(store, owner) == []
    campaigns.set_campaign_state(store, owner.project_id, owner.campaign_id, CampaignState.ACTIVE)
    assert (await post(client, owner, owner.row())).json() == {"result": True}


@pytest.mark.parametrize(
    ("body_update", "field", "reason"),
    [
        ({"phone_number": None}, "phone_number", "missing"),
        ({"phone_number": ""}, "phone_number", "missing"),
        ({"phone_number": "12"}, "phone_number", "too_short"),
        ({"phone_number": "3809300000001234567"}, "phone_number", "too_long"),
        ({"phone_number": "abc"}, "phone_number", "not_a_number"),
        ({"phone_number": "+999 123 456 789"}, "phone_number", "invalid_country_code"),
        ({"phone_number": "+380 00 000 00 00"}, "phone_number", "invalid_number"),
        ({"phone_number": True}, "phone_number", "wrong_type"),
        ({"phone_number": ["380930000000"]}, "phone_number", "wrong_type"),
        ({"phone_number": 3.5}, "phone_number", "not_a_number"),
        ({"campaignId": None}, "campaignId", "missing"),
        ({"campaignId": "abc"}, "campaignId", "wrong_type"),
        ({"campaignId": True}, "campaignId", "wrong_type"),
        ({"campaignId": 1.5}, "campaignId", "wrong_type"),
        ({"campaignId": 0}, "campaignId", "out_of_range"),
        ({"campaignId": -4}, "campaignId", "out_of_range"),
        ({"campaignId": 2**70}, "campaignId", "out_of_range"),
        ({"fio": 42}, "fio", "wrong_type"),
        ({"fio": "я" * 256}, "fio", "too_long"),
    ],
)
async def test_it_answers_422_naming_the_invalid_field(
    client: httpx.AsyncClient,
    owner: Persona,
    store: Store,
    body_update: dict[str, object],
    field: str,
    reason: str,
) -> None:
    body = {**owner.row(), **body_update}
    code = {"campaignId": "invalid_campaign_id"}.get(field, f"invalid_{field}")
    error = assert_error(await post(client, owner, body), 422, code)
    assert error["field"] == field
    assert error["reason"] == reason
    assert field in str(error["message"])
    assert stored_rows(store, owner) == []


async def test_a_missing_phone_number_field_is_422(
    client: httpx.AsyncClient, owner: Persona
) -> None:
    body = {"campaignId": owner.campaign_id, "fio": "No number"}
    error = assert_error(await post(client, owner, body), 422, "invalid_phone_number")
    assert error["reason"] == "missing"


async def test_fio_is_trimmed_and_control_characters_become_spaces(
    client: httpx.AsyncClient, owner: Persona, store: Store
) -> None:
    response = await post(client, owner, owner.row(fio="  Іван\x00\tПетренко\n "))
    assert response.json() == {"result": True}
    assert stored_rows(store, owner)[0][0] == "Іван Петренко"


async def test_it_answers_413_to_a_body_over_the_limit_without_reading_it(
    client: httpx.AsyncClient, owner: Persona, store: Store
) -> None:
    body = owner.row(fio="x" * 40_000)
    error = assert_error(await post(client, owner, body), 413, "body_too_large")
    assert "bytes" in str(error["message"])
    assert stored_rows(store, owner) == []


async def test_it_answers_413_to_a_chunked_body_over_the_limit(
    client: httpx.AsyncClient, owner: Persona
) -> None:
    async def chunks():  # type: ignore[no-untyped-def]
        yield b'{"campaignId": 1, "fio": "'
        for _ in range(40):
            yield b"x" * 1024
        yield b'"}'

    response = await client.post(COMPAT, content=chunks(), headers=owner.headers)
    assert_error(response, 413, "body_too_large")


async def test_get_is_405_with_allow_header(client: httpx.AsyncClient) -> None:
    response = await client.get(COMPAT)
    assert_error(response, 405, "method_not_allowed")
    assert response.headers["allow"] == "POST"


async def test_healthz_reports_the_database(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"

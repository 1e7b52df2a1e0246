"""Settings → Integration → Webhooks: owners only; add a webhook (an internal address
refused with a translated reason), its secret shown once, the test event and its delivery in
the log, resend, a disabled webhook's notice and Enable; another project's deliveries are 404."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import httpx
import pytest

from powerdialer.outbound import Policy, parse_allow
from powerdialer.settings import Settings
from powerdialer.storage import Store
from powerdialer.web.app import PowerDialerApp
from powerdialer.webhooks import subscriptions
from tests.conftest import Persona
from tests.ui.conftest import User, csrf_of, form_post, text_of
from tests.webhooks.receiver import receiver

pytestmark = pytest.mark.anyio

PAGE = "/settings/integration/webhooks"


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """The sender's loop off: the test ticks it."""
    return Settings(
        database_url=database_url,
        rate_limit_per_second=0,
        data_dir=str(tmp_path / "data"),
        webhook_sender=False,
    )


async def test_only_owners_see_the_page(
    as_anna: httpx.AsyncClient, as_oleh: httpx.AsyncClient
) -> None:
    page = await as_anna.get(PAGE)
    assert page.status_code == 200
    assert "Вебхуки" in page.text
    assert (await as_oleh.get(PAGE)).status_code == 403
    settings_page = await as_oleh.get("/settings")
    assert PAGE not in settings_page.text


async def test_an_internal_address_is_refused_with_a_translated_reason(
    as_anna: httpx.AsyncClient, store: Store, owner: Persona
) -> None:
    answer = await form_post(
        as_anna,
        PAGE,
        PAGE,
        {"url": "http://169.254.169.254/latest", "event_types": "row.added"},
    )
    assert answer.status_code == 422
    assert "Цю адресу не дозволено" in text_of(answer.text)
    assert subscriptions.list_all(store, owner.project_id) == []
    english = await as_anna.get(f"{PAGE}?lang=en")
    answer = await as_anna.post(
        PAGE,
        data={"csrf_token": csrf_of(english.text), "url": "http://127.0.0.1:9/h"},
    )
    assert answer.status_code == 422
    assert "Choose at least one event." in text_of(answer.text)


async def test_the_life_of_a_webhook_in_the_ui(
    app: PowerDialerApp,
    as_anna: httpx.AsyncClient,
    as_mallory: httpx.AsyncClient,
    store: Store,
    owner: Persona,
    anna: User,
) -> None:
    app.services.webhooks.policy = Policy(allow=parse_allow("127.0.0.1/32"))
    async with receiver() as target:
        made = await form_post(as_anna, PAGE, PAGE, {"url": target.url, "event_types": "row.added"})
        assert made.status_code == 303
        first = await as_anna.get(PAGE)
        assert 'id="new-secret"' in first.text
        [hook] = subscriptions.list_all(store, owner.project_id)
        again = await as_anna.get(PAGE)
        assert 'id="new-secret"' not in again.text  # shown once
        queued = await form_post(as_anna, PAGE, f"{PAGE}/{hook.id}/test")
        assert queued.status_code == 303
        later = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=5)
        assert (await app.services.webhooks.tick(later)).delivered == 1
        log = text_of((await as_anna.get(PAGE)).text)
        assert "webhook.test" in log
        assert "доставлено" in log
        [delivery] = subscriptions.deliveries(store, owner.project_id, hook.id)
        resend = f"{PAGE}/deliveries/{delivery.row.id}/resend"
        assert (await form_post(as_mallory, "/settings", resend)).status_code == 404
        assert (await form_post(as_anna, PAGE, resend)).status_code == 303
        assert (await app.services.webhooks.tick(later)).delivered == 1
        assert len(target.got) == 2
        assert target.got[0].headers["webhook-id"] == target.got[1].headers["webhook-id"]
        # Disabled (as the sender does after 5 failing days): the notice, then Enable.
        await subscriptions.change(store, owner.project_id, hook.id, policy=Policy(), enabled=False)
        page = await as_anna.get(PAGE)
        assert f'id="webhook-{hook.id}-disabled"' in page.text
        enabled = await form_post(as_anna, PAGE, f"{PAGE}/{hook.id}/enable")
        assert enabled.status_code == 303
        assert f'id="webhook-{hook.id}-disabled"' not in (await as_anna.get(PAGE)).text
        assert (
            await form_post(as_mallory, "/settings", f"{PAGE}/{hook.id}/delete")
        ).status_code in (403, 404)
        deleted = await form_post(as_anna, PAGE, f"{PAGE}/{hook.id}/delete")
        assert deleted.status_code == 303
        assert subscriptions.list_all(store, owner.project_id) == []


@pytest.mark.parametrize(
    ("locale", "word"), [("uk", "Вебхуки"), ("en", "Webhooks"), ("ru", "Вебхуки")]
)
async def test_the_page_renders_in_every_language(
    as_anna: httpx.AsyncClient, locale: str, word: str
) -> None:
    page = await as_anna.get(f"{PAGE}?lang={locale}")
    assert page.status_code == 200
    assert f'<html lang="{locale}">' in page.text
    assert f"<h1>{word}</h1>" in page.text

#!/usr/bin/env python3
"""Screenshots of the web UI for the README and docs/ui.md, taken in headless Chromium
(Debian's /usr/bin/chromium, through Playwright) from a real server on demo data.

    .venv/bin/python scripts/screenshots.py            # writes docs/screenshots/*.png

The demo data lives in a temporary folder and is thrown away afterwards.
"""

from __future__ import annotations

import datetime as dt
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import Connection, insert, select, update

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # for tests.ui.browser (the shared Chromium launcher)

from powerdialer import campaigns, projects  # noqa: E402
from powerdialer.accounts import users  # noqa: E402
from powerdialer.accounts.models import Role  # noqa: E402
from powerdialer.models import CampaignState  # noqa: E402
from powerdialer.rows.models import NewRow  # noqa: E402
from powerdialer.rows.write import write_rows  # noqa: E402
from powerdialer.storage import Store, open_store  # noqa: E402
from powerdialer.storage import presence as presence_sql  # noqa: E402
from powerdialer.storage.schema import attempts, campaign_rows  # noqa: E402
from tests.ui.browser import chromium  # noqa: E402

OUT = ROOT / "docs" / "screenshots"
EMAIL, PASSWORD = "anna@example.com", "demo password 2026"
FIRST_NAMES = ["Іван", "Марія", "Олена", "Петро", "Оксана", "Андрій", "Наталія", "Богдан"]
LAST_NAMES = ["Петренко", "Коваль", "Шевченко", "Бондар", "Мельник", "Ткаченко", "Кравець"]
CITIES = ["Київ", "Львів", "Одеса", "Харків", "Дніпро"]
MANAGERS = ["Олег", "Софія", "Дмитро"]
CSV = (
    "ПІБ;Телефон;Місто\n"
    "Ірина Савчук;093-111-22-33;Київ\n"
    "Тарас Литвин;+380 67 444 55 66;Львів\n"
    "Ірина Савчук;380931112233;Київ\n"
    "Без номера;12;Одеса\n"
).encode("cp1251")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def add_rows(store: Store, project_id: int, campaign_id: int, days: int, per_day: int) -> None:
    """Rows spread over the last ``days`` days, from the API, imports and by hand."""
    today = dt.datetime.now(dt.UTC).replace(hour=10, minute=0, second=0, microsecond=0)
    number = 0
    for day in range(days, -1, -1):
        when = today - dt.timedelta(days=day)
        count = per_day + (day * 7) % 5 - 2
        for source in ("api", "import", "ui"):
            share = {"api": count, "import": count // 2 if day % 3 == 0 else 0, "ui": day % 2}
            rows = []
            for _ in range(share[source]):
                number += 1
                name = f"{FIRST_NAMES[number % 8]} {LAST_NAMES[number % 7]}"
                phone = f"+38093{number:07d}"
                external_id, fields = None, {}
                if source == "import":  # CRM exports carry the CRM's id and extra columns
                    external_id = f"crm-{40000 + number}"
                    fields = {"Місто": CITIES[number % 5], "Менеджер": MANAGERS[number % 3]}
                rows.append(NewRow(phone[1:], phone, name, external_id=external_id, fields=fields))
            store.write(
                lambda conn, rows=rows, source=source, when=when: write_rows(
                    conn, project_id, campaign_id, "skip", rows, source=source, now=when
                )
            )


def crm_rows() -> list[NewRow]:
    """What a CRM sends through the bulk API: its own ids and a few custom fields."""
    rows = []
    for n in range(8):
        name = f"{FIRST_NAMES[n]} {LAST_NAMES[n % 7]}"
        phone = f"+38067{5550100 + n:07d}"
        fields = {"Місто": CITIES[n % 5], "Менеджер": MANAGERS[n % 3]}
        if n % 3 == 0:
            fields["Коментар"] = "Просив передзвонити після 18:00"
        rows.append(NewRow(phone[1:], phone, name, f"crm-{48210 + n}", fields))
    return rows


OPERATORS = [  # name, state, reason, minutes in it
    ("Олег Бондар", "on_call", None, 3.3),
    ("Софія Мельник", "ready", None, 0.7),
    ("Дмитро Кравець", "paused", "lunch", 12.1),
    ("Марко Ткаченко", "wrap_up", None, 0.4),
]
LIVE_OUTCOMES = [
    "no_answer",
    "answered",
    "busy",
    "no_answer",
    "voicemail",
    "answered",
    "callback",
    "not_interested",
    "no_answer",
    "failed",
    "answered",
    "skip",
]
ZONE = "Europe/Kyiv"


def live_demo(store: Store, project_id: int, campaign_id: int) -> None:
    """Operators on the screen and the morning's calls, for the live view."""
    now = dt.datetime.now(dt.UTC)
    local = now.astimezone(ZoneInfo(ZONE))
    day = local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(dt.UTC)
    start = max(day, now - dt.timedelta(hours=9))
    rows = store.read(
        lambda c: c.execute(
            select(campaign_rows.c.id, campaign_rows.c.phone_e164)
            .where(campaign_rows.c.campaign_id == campaign_id)
            .order_by(campaign_rows.c.id)
        ).all()
    )
    ids = []
    for n, (name, state, reason, minutes) in enumerate(OPERATORS):
        made = users.create_user(
            store,
            f"operator{n + 1}@example.com",
            PASSWORD,
            project_id=project_id,
            role=Role.OPERATOR,
            name=name,
        )
        ids.append(made.user.id)
        since = now - dt.timedelta(minutes=minutes)

        def put(
            conn: Connection,
            user_id: int = made.user.id,
            state: str = state,
            reason: str | None = reason,
            since: dt.datetime = since,
        ) -> None:
            presence_sql.put_state(conn, project_id, user_id, campaign_id, state, reason, since)
            # Heard of "in the future": the screenshot is taken within the next minutes.
            presence_sql.touch(conn, project_id, user_id, now + dt.timedelta(minutes=30))

        store.write(put)
    span = (now - start).total_seconds()
    made_calls = []
    for n, (row_id, phone) in enumerate(rows[:150]):
        code = LIVE_OUTCOMES[(n * 7) % len(LIVE_OUTCOMES)]
        when = start + dt.timedelta(seconds=span * ((n * 37) % 150) / 150)
        reached = code in ("answered", "callback", "not_interested")
        made_calls.append(
            {
                "project_id": project_id,
                "campaign_id": campaign_id,
                "row_id": row_id,
                "operator_id": ids[n % len(ids)],
                "phone_e164": phone,
                "outcome": code,
                "duration_seconds": 30 + n % 90 if reached else None,
                "counted": code != "callback" and code != "skip",
                "reached": reached,
                "refusal": code == "not_interested",
                "final_state": "contact_reached"
                if code in ("answered", "not_interested")
                else None,
                "leased_at": when,
                "recorded_at": when,
            }
        )
    final = [c["row_id"] for c in made_calls if c["final_state"]]

    def write(conn: Connection) -> None:
        conn.execute(insert(attempts), made_calls)
        conn.execute(
            update(campaign_rows)
            .where(campaign_rows.c.id.in_(final))
            .values(status="final", final_state="contact_reached")
        )

    store.write(write)


def demo(url: str) -> tuple[int, int, int]:
    store = open_store(url)
    project = projects.create_project(store, "Відділ продажів")
    projects.create_key(store, project.id, "CRM")
    spring = campaigns.create_campaign(store, project.id, "Весняні ліди")
    add_rows(store, project.id, spring.id, days=20, per_day=9)
    repeat = campaigns.create_campaign(store, project.id, "Повторні дзвінки")
    add_rows(store, project.id, repeat.id, days=5, per_day=4)
    crm = campaigns.create_campaign(store, project.id, "Нові ліди з CRM")
    store.write(
        lambda conn: write_rows(
            conn, project.id, crm.id, "skip", crm_rows(), source="api", now=dt.datetime.now(dt.UTC)
        )
    )
    old = campaigns.create_campaign(store, project.id, "Архів 2025")
    campaigns.set_campaign_state(store, project.id, old.id, CampaignState.ARCHIVED)
    users.create_user(store, EMAIL, PASSWORD, project_id=project.id, role=Role.OWNER)
    live_demo(store, project.id, spring.id)
    store.dispose()
    return project.id, spring.id, crm.id


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/demo.db"
        project_id, campaign_id, crm_id = demo(url)
        port = free_port()
        command = [sys.executable, "-m", "powerdialer", "serve", "--port", str(port)]
        server = subprocess.Popen(  # noqa: S603 (our own command line)
            [*command, "--database-url", url, "--no-bootstrap"],
            env={"POWERDIALER_DATA_DIR": f"{tmp}/data", "PATH": "/usr/bin:/bin"},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(100):
                try:
                    httpx.get(base + "/healthz", trust_env=False)
                    break
                except httpx.TransportError:
                    time.sleep(0.1)
            shoot(base, project_id, (campaign_id, crm_id), Path(tmp))
        finally:
            server.terminate()
            server.wait(timeout=15)


def shoot(base: str, project_id: int, campaign_ids: tuple[int, int], tmp: Path) -> None:
    campaign_id, crm_id = campaign_ids
    with chromium() as browser:
        context = browser.new_context(
            viewport={"width": 1280, "height": 800}, locale="uk-UA", timezone_id=ZONE
        )
        page = context.new_page()
        page.goto(base + "/login")
        page.screenshot(path=OUT / "login.png")
        page.get_by_label("Електронна пошта").fill(EMAIL)
        page.get_by_label("Пароль").fill(PASSWORD)
        page.get_by_role("button", name="Увійти").click()
        page.wait_for_url("**/settings/softphone/power-dialer")
        page.screenshot(path=OUT / "campaigns.png")

        page.get_by_label("Дії з «Весняні ліди»").click()
        page.screenshot(path=OUT / "campaign-menu.png")
        page.keyboard.press("Escape")
        page.get_by_role("link", name="+ Додати кампанію").click()
        page.get_by_label("Назва кампанії").first.fill("Літня акція")
        page.screenshot(path=OUT / "add-campaign.png")
        page.keyboard.press("Escape")

        page.goto(f"{base}/settings/softphone/power-dialer/campaigns/{campaign_id}/screen")
        page.get_by_label("Автонабір", exact=False).check()
        page.get_by_label("Завершення розмови, секунд").fill("15")
        page.get_by_label("Сценарій").fill(
            "Добрий день, {name}! Мене звати Олег, компанія «Сонячний дім».\n"
            "Ви залишали заявку на сонячні панелі для міста {field:Місто}.\n"
            "Чи зручно зараз поговорити дві хвилини?"
        )
        page.set_viewport_size({"width": 1280, "height": 1000})
        page.screenshot(path=OUT / "operator-screen-settings.png")
        page.set_viewport_size({"width": 1280, "height": 800})

        page.goto(
            f"{base}/campaign/edit?projectId={project_id}&editCampaign={campaign_id}"
            "&campaignName=Весняні ліди"
        )
        page.set_viewport_size({"width": 1280, "height": 1300})
        page.screenshot(path=OUT / "edit.png")
        page.set_viewport_size({"width": 1280, "height": 800})
        page.goto(
            f"{base}/campaign/edit?projectId={project_id}&editCampaign={crm_id}"
            "&campaignName=Нові ліди з CRM"
        )
        page.locator("#rows").screenshot(path=OUT / "edit-crm-fields.png")
        page.goto(
            f"{base}/campaign/edit?projectId={project_id}&editCampaign={campaign_id}"
            "&campaignName=Весняні ліди"
        )
        leads = tmp / "leads.csv"
        leads.write_bytes(CSV)
        page.locator("#upload-file").set_input_files(str(leads))
        page.locator("#preview-table").get_by_text("Тарас Литвин").wait_for()
        page.locator("#upload-form").screenshot(path=OUT / "import-preview.png")
        page.get_by_role("button", name="Імпортувати").click()
        page.locator("#import-result").wait_for(state="visible")
        page.locator("section.upload").screenshot(path=OUT / "import-result.png")

        page.goto(f"{base}/campaign/overview?projectId={project_id}&editCampaign={campaign_id}")
        page.screenshot(path=OUT / "overview.png", full_page=True)

        page.goto(f"{base}/settings/integration/api")
        page.get_by_role("button", name="Створити ключ").click()
        page.locator("#new-key").wait_for()
        page.evaluate("window.scrollTo(0, 0)")  # the redirect lands on #keys: show the page's top
        page.screenshot(path=OUT / "api.png")

        page.goto(f"{base}/settings/team")
        page.get_by_label("Електронна пошта", exact=True).fill("olena@example.com")
        page.get_by_label("Ім'я (необов'язково)").fill("Олена Коваль")
        page.get_by_role("button", name="Додати", exact=True).click()
        page.locator("#member-added").wait_for()
        page.screenshot(path=OUT / "team.png")

        page.goto(f"{base}/dialer/live")
        # The "why not" counts come from a background count: wait for the poll that has them.
        page.locator("[data-callable]").first.filter(has_not_text="…").wait_for()
        page.screenshot(path=OUT / "live.png", full_page=True)

        page.goto(f"{base}/settings/softphone/power-dialer?lang=en")
        page.screenshot(path=OUT / "campaigns-en.png")
        page.goto(f"{base}/settings/softphone/power-dialer?lang=uk")
        context.close()

        phone = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2)
        mobile = phone.new_page()
        mobile.goto(base + "/login")
        mobile.get_by_label("Електронна пошта").fill(EMAIL)
        mobile.get_by_label("Пароль").fill(PASSWORD)
        mobile.get_by_role("button", name="Увійти").click()
        mobile.wait_for_url("**/settings/softphone/power-dialer")
        mobile.screenshot(path=OUT / "mobile.png")
        phone.close()
    for path in sorted(OUT.glob("*.png")):
        print(f"wrote {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()

"""Bounded memory per client, on a real server process: downloads nobody reads hold little and
give it back, downloads are capped per key / per UI user and per process (429 with
Retry-After, the slot freed when the response ends), and the import forms' text fields are
capped in count and size (413 form_too_large) on the API and in the UI."""

from __future__ import annotations

import re
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from powerdialer import projects
from powerdialer.accounts import users
from powerdialer.accounts.models import Role
from powerdialer.models import utcnow
from powerdialer.storage import Store, rows_intake
from tests.conftest import Persona
from tests.e2e.conftest import LOCALHOST, Server

ROWS = 60_000  # a CSV of ~9 MiB: more than the kernel's socket buffers take
LIST = "/settings/softphone/power-dialer"
MIB = 1 << 20


def fill(store: Store, persona: Persona, count: int = ROWS) -> None:
    for start in range(0, count, 10_000):
        rows = [
            (persona.project_id, persona.campaign_id, f"Іван Петренко {n}",
             f"38093{n:07d}", f"+38093{n:07d}", "api")
            for n in range(start, min(count, start + 10_000))
        ]  # fmt: skip
        store.write(lambda conn, rows=rows: rows_intake.insert_rows(conn, rows, utcnow()))


def rss(pid: int) -> int:
    found = re.search(r"VmRSS:\s+(\d+) kB", Path(f"/proc/{pid}/status").read_text())
    assert found
    return int(found.group(1)) * 1024


def open_unread(server: Server, path: str, headers: dict[str, str]) -> tuple[socket.socket, int]:
    """A GET whose answer is never read past its head: (the socket, the status)."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 * 1024)  # before connect: the window
    sock.settimeout(30)
    sock.connect((LOCALHOST, server.port))
    lines = [
        f"GET {path} HTTP/1.1",
        f"Host: {LOCALHOST}",
        *(f"{k}: {v}" for k, v in headers.items()),
    ]
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
    head = b""
    while b"\r\n" not in head:
        chunk = sock.recv(64)
        assert chunk, "the server closed the connection"
        head += chunk
    return sock, int(head.split()[1])


@contextmanager
def unread(
    server: Server, path: str, headers: dict[str, str], count: int
) -> Iterator[list[socket.socket]]:
    socks = []
    try:
        for _ in range(count):
            # A slot given back by a client that just left may take a moment to come back.
            deadline = time.monotonic() + 30
            while True:
                sock, status = open_unread(server, path, headers)
                if status == 200:
                    break
                sock.close()
                assert status == 429
                assert time.monotonic() < deadline, "no slot came back"
                time.sleep(0.1)
            socks.append(sock)
        yield socks
    finally:
        for sock in socks:
            sock.close()


def export_path(persona: Persona, fmt: str = "csv") -> str:
    return f"/power-dialer/campaigns/{persona.campaign_id}/export?format={fmt}"


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"not within {timeout:g} s: {what}"
        time.sleep(0.1)


def answers_200(server: Server, path: str, headers: dict[str, str]) -> bool:
    with (
        httpx.Client(base_url=server.url, trust_env=False, timeout=30) as client,
        client.stream("GET", path, headers=headers) as answer,
    ):
        return answer.status_code == 200


def read_to_end(client: httpx.Client, path: str, headers: dict[str, str]) -> bool:
    with client.stream("GET", path, headers=headers) as answer:
        if answer.status_code == 429:
            return False
        assert answer.status_code == 200
        assert sum(len(chunk) for chunk in answer.iter_bytes()) > ROWS * 50
        return True


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_unread_exports_hold_little_memory_and_give_their_slots_back(
    start_server: Callable[..., Server], store: Store, owner: Persona, fmt: str
) -> None:
    fill(store, owner)
    server = start_server(POWERDIALER_MAX_EXPORTS_PER_KEY="16")
    assert server.proc is not None
    pid = server.proc.pid
    idle = rss(pid)
    with unread(server, export_path(owner, fmt), owner.headers, 16):
        # Each export has sent its first chunk; let them run into their full socket buffers.
        peak = 0
        for _ in range(30):
            peak = max(peak, rss(pid))
            time.sleep(0.1)
        # Measured: ~2.5 MiB each now; ~15 MiB each when every waiting export held its page
        # of rows and its text buffer (16 of them: +240 MiB).
        assert peak - idle < 80 * MIB, f"16 unread exports took {(peak - idle) / MIB:.0f} MiB"
    # Closed: the slots are back (a 17th export would be refused otherwise) ...
    wait_until(lambda: answers_200(server, export_path(owner, fmt), owner.headers), "slots back")
    # ... and the server still answers everyone.
    assert httpx.get(server.url + "/healthz", trust_env=False).status_code == 200


def test_exports_are_capped_per_key_and_per_server_until_one_closes(
    start_server: Callable[..., Server], store: Store, owner: Persona, stranger: Persona
) -> None:
    fill(store, owner)
    fill(store, stranger)
    server = start_server(POWERDIALER_MAX_EXPORTS_PER_KEY="2", POWERDIALER_MAX_EXPORTS="3")
    with httpx.Client(base_url=server.url, trust_env=False, timeout=30) as client:
        with unread(server, export_path(owner), owner.headers, 2) as owners:
            refused = client.get(export_path(owner, "xlsx"), headers=owner.headers)
            assert refused.status_code == 429
            assert refused.headers["Retry-After"] == "5"
            error = refused.json()["error"]
            assert error["code"] == "too_many_exports"
            assert "POWERDIALER_MAX_EXPORTS_PER_KEY" in error["message"]
            # Another key still has its own share, up to the server's cap of 3 ...
            with unread(server, export_path(stranger), stranger.headers, 1):
                refused = client.get(export_path(stranger), headers=stranger.headers)
                assert refused.status_code == 429
                assert "POWERDIALER_MAX_EXPORTS)" in refused.json()["error"]["message"]
            # ... and the stranger's closed download gave its slot back.
            wait_until(lambda: answers_200(server, export_path(stranger), stranger.headers), "")
            # A client that goes away gives its slot back too.
            owners[0].close()
            wait_until(lambda: answers_200(server, export_path(owner), owner.headers), "freed")
        # A download read to its end gives its slot back: with one slot of two held, more
        # downloads in turn than the cap (each waits for the one before to be given back).
        with unread(server, export_path(owner), owner.headers, 1):
            for _ in range(3):
                wait_until(lambda: read_to_end(client, export_path(owner), owner.headers), "")


def test_rejected_rows_downloads_count_against_the_cap(
    start_server: Callable[..., Server], store: Store, owner: Persona
) -> None:
    fill(store, owner)
    server = start_server(POWERDIALER_MAX_EXPORTS_PER_KEY="1")
    with httpx.Client(base_url=server.url, trust_env=False, timeout=30) as client:
        job = client.post(
            f"/power-dialer/campaigns/{owner.campaign_id}/imports",
            headers=owner.headers,
            files={"file": ("a.csv", b"phone\n380931234567\n12\n")},
        ).json()
        job_url = f"/power-dialer/imports/{job['id']}"
        wait_until(
            lambda: client.get(job_url, headers=owner.headers).json()["status"] == "done", "job"
        )
        with unread(server, export_path(owner), owner.headers, 1):
            refused = client.get(job_url + "/rejected.csv", headers=owner.headers)
            assert refused.status_code == 429
            assert refused.json()["error"]["code"] == "too_many_exports"
        wait_until(
            lambda: client.get(job_url + "/rejected.csv", headers=owner.headers).is_success, ""
        )


@contextmanager
def sign_in(server: Server, email: str, password: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, trust_env=False, timeout=30) as client:
        yield _signed_in(client, email, password)


def _signed_in(client: httpx.Client, email: str, password: str) -> httpx.Client:
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token
    answer = client.post(
        "/login", data={"email": email, "password": password, "csrf_token": token.group(1)}
    )
    assert answer.status_code == 303, answer.text
    return client


def test_the_ui_caps_downloads_per_user_with_its_own_page(
    start_server: Callable[..., Server], store: Store, owner: Persona
) -> None:
    fill(store, owner)
    users.create_user(
        store, "anna@example.com", "correct horse battery staple",
        project_id=owner.project_id, role=Role.OWNER,
    )  # fmt: skip
    server = start_server(POWERDIALER_MAX_EXPORTS_PER_KEY="2")
    with sign_in(server, "anna@example.com", "correct horse battery staple") as browser:
        cookie = "; ".join(f"{k}={v}" for k, v in browser.cookies.items())
        path = f"{LIST}/campaigns/{owner.campaign_id}/export.csv?projectId={owner.project_id}"
        with unread(server, path, {"Cookie": cookie}, 2):
            page = browser.get(path)
            assert page.status_code == 429
            assert page.headers["Retry-After"] == "5"
            assert "text/html" in page.headers["content-type"]
            assert "Забагато завантажень" in page.text  # the UI's default language
            app_js = browser.get(path.replace("export.csv", "export.xlsx"),
                                 headers={"Accept": "application/json"})  # fmt: skip
            assert app_js.status_code == 429
            assert app_js.json()["code"] == "too_many_exports"
            # The user's API key is another holder: its share is its own.
            key = projects.create_key(store, owner.project_id, "crm")
            headers = {"x-project-id": str(owner.project_id), "Auth-key": key.plaintext}
            assert answers_200(server, export_path(owner), headers)
        wait_until(lambda: browser.get(path.replace("export.csv", "export.xlsx")).is_success, "")


def _multipart(fields: list[tuple[str, str]], file: bytes = b"phone\n380930000001\n") -> bytes:
    parts = [
        f'--B\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields
    ]
    parts.append(
        b'--B\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\n'
        b"Content-Type: text/csv\r\n\r\n" + file + b"\r\n--B--\r\n"
    )
    return b"".join(parts)


FORM = {"Content-Type": "multipart/form-data; boundary=B"}


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ([(f"f{n}", "x") for n in range(10_000)], "16 fields"),
        ([("mapping", "x" * (50 * MIB))], "65536 bytes"),
        ([(f"f{n}", "x" * 60_000) for n in range(8)], "262144 bytes together"),
    ],
    ids=["10000-fields", "50MiB-field", "text-in-all"],
)
def test_import_forms_cap_their_text_fields(
    server: Server, owner: Persona, fields: list[tuple[str, str]], named: str
) -> None:
    body = _multipart(fields)
    with httpx.Client(base_url=server.url, trust_env=False, timeout=60) as client:
        for path in (
            f"/power-dialer/campaigns/{owner.campaign_id}/imports",
            "/power-dialer/imports/preview",
        ):
            answer = client.post(path, content=body, headers={**owner.headers, **FORM})
            assert answer.status_code == 413, answer.text
            error = answer.json()["error"]
            assert error["code"] == "form_too_large"
            assert named in error["message"]
        # A form within the caps is taken.
        ok = client.post(
            "/power-dialer/imports/preview",
            content=_multipart([("mapping", "{}")]),
            headers={**owner.headers, **FORM},
        )
        assert ok.status_code == 200, ok.text


def test_the_ui_upload_caps_its_text_fields(
    start_server: Callable[..., Server], store: Store, owner: Persona
) -> None:
    users.create_user(
        store, "anna@example.com", "correct horse battery staple",
        project_id=owner.project_id, role=Role.OWNER,
    )  # fmt: skip
    server = start_server()
    with sign_in(server, "anna@example.com", "correct horse battery staple") as browser:
        page = browser.get(LIST)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert token
        body = _multipart([(f"f{n}", "x") for n in range(10_000)])
        answer = browser.post(
            f"/ui/campaigns/{owner.campaign_id}/imports/preview?projectId={owner.project_id}",
            content=body,
            headers={**FORM, "X-CSRF-Token": token.group(1), "Accept": "application/json"},
        )
        assert answer.status_code == 413, answer.text
        assert (
            answer.json()["error"]
            == "У формі забагато полів або задовгі поля: перезавантажте сторінку."
        )

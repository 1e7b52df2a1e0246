"""Over a real socket: a request whose key does not verify is answered 401 while its body is
still on the way — the server does not wait for (or read) the body first."""

from __future__ import annotations

import json
import socket

import httpx
import pytest

from powerdialer import keys
from tests.conftest import COMPAT, Persona
from tests.e2e.conftest import LOCALHOST, Server

pytestmark = pytest.mark.e2e

ANSWER_WITHIN = 10.0  # seconds; the old code never answered (it waited for the body)


def forged_key(persona: Persona) -> str:
    key_id, _ = keys.split_key(persona.key) or ("", "")
    return f"{keys.PREFIX}{key_id}_{'x' * 43}"


def send_head_and_a_little(server: Server, head: str, first_bytes: bytes) -> tuple[int, dict]:
    """Send the request head and a few KiB of its body, then wait for the answer without
    sending the rest."""
    with socket.create_connection((LOCALHOST, server.port), timeout=ANSWER_WITHIN) as sock:
        sock.sendall(head.encode("latin-1") + first_bytes)
        received = b""
        while b"\r\n\r\n" not in received or not _complete(received):
            chunk = sock.recv(65536)
            if not chunk:
                break
            received += chunk
    head_part, _, body = received.partition(b"\r\n\r\n")
    status = int(head_part.split(b" ", 2)[1])
    return status, json.loads(body)


def _complete(received: bytes) -> bool:
    head, _, body = received.partition(b"\r\n\r\n")
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(body) >= int(value.strip())
    return False


def head(method: str, path: str, persona: Persona, *extra: str) -> str:
    lines = [
        f"{method} {path} HTTP/1.1",
        f"Host: {LOCALHOST}",
        f"x-project-id: {persona.project_id}",
        f"Auth-key: {forged_key(persona)}",
        *extra,
    ]
    return "\r\n".join(lines) + "\r\n\r\n"


@pytest.mark.parametrize(
    ("method", "path", "extra", "first"),
    [
        # The compatible endpoint, chunked: the old code read up to its 16 KiB limit first.
        ("POST", COMPAT, ["Transfer-Encoding: chunked"], b"1000\r\n" + b"x" * 4096 + b"\r\n"),
        # A JSON route: the old code read the whole declared body (under 1 MiB) first.
        ("POST", "/power-dialer/campaigns", ["Content-Length: 900000"], b"{" + b" " * 4095),
        # An upload with an Idempotency-Key: the old code spooled the whole body first.
        (
            "POST",
            "/power-dialer/campaigns/{campaign}/imports",
            [
                "Content-Length: 200000000",
                "Content-Type: multipart/form-data; boundary=b",
                "Idempotency-Key: upload-1",
            ],
            b"--b\r\n" + b"x" * 4091,
        ),
    ],
    ids=["compatible-chunked", "json-route", "upload-idempotent"],
)
def test_a_stranger_is_answered_401_before_the_body_is_sent(
    server: Server, owner: Persona, method: str, path: str, extra: list[str], first: bytes
) -> None:
    path = path.replace("{campaign}", str(owner.campaign_id))
    status, body = send_head_and_a_little(server, head(method, path, owner, *extra), first)
    assert status == 401
    assert body["result"] is False
    assert body["error"]["code"] == "invalid_auth_key"
    with httpx.Client(base_url=server.url, trust_env=False, timeout=10) as client:
        assert client.get("/healthz").status_code == 200
        real = client.post(COMPAT, json=owner.row(), headers=owner.headers)
        assert real.json() == {"result": True}

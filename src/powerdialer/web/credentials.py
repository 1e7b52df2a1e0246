"""Reading ``x-project-id`` and ``Auth-key``: one function for every surface, so the codes and
messages are the same on the compatible endpoint and the rest of the API.

A credential header sent twice is refused (400 ``duplicate_header``) rather than resolved:
servers and proxies disagree on which copy wins (the first, the last, both joined by a
comma), so accepting either would let a proxy's check and ours see different keys.
"""

from __future__ import annotations

from collections.abc import Iterable

from powerdialer import keys
from powerdialer.errors import AuthError, PowerDialerError
from powerdialer.projects import invalid_key


def duplicate_header(name: str) -> PowerDialerError:
    return PowerDialerError(
        f"the {name} header is sent more than once: send it exactly once, with one value.",
        code="duplicate_header",
        field=name,
    )


# What one pass over a request's headers finds: the credentials (or the error to answer
# with), the declared body length, and whether an ``Idempotency-Key`` was sent.
HeaderScan = tuple[tuple[int, str, str] | PowerDialerError, bytes | None, bool]


def scan_headers(headers: Iterable[tuple[bytes, bytes]]) -> HeaderScan:
    """One pass over an ASGI header list (the compatible endpoint reads every header it needs
    this way, once).  A repeated credential header is refused before anything is parsed.
    A plain tuple and no set: this runs for every row the compatible endpoint takes."""
    project_raw = key_raw = length = None
    authorization = idempotent = False
    duplicate: PowerDialerError | None = None
    for name, value in headers:
        if name == b"x-project-id":
            if project_raw is not None and duplicate is None:
                duplicate = duplicate_header("x-project-id")
            project_raw = value.decode("latin-1")
        elif name == b"auth-key":
            if key_raw is not None and duplicate is None:
                duplicate = duplicate_header("Auth-key")
            key_raw = value.decode("latin-1")
        elif name == b"content-length":
            length = value
        elif name == b"idempotency-key":
            idempotent = True
        elif name == b"authorization":
            if authorization and duplicate is None:
                duplicate = duplicate_header("Authorization")
            authorization = True
    return duplicate or parse_credentials(project_raw, key_raw), length, idempotent


def read_credentials(
    headers: Iterable[tuple[bytes, bytes]],
) -> tuple[int, str, str] | PowerDialerError:
    """``(project_id, key_id, secret)`` from an ASGI header list, or the error to answer with
    (a repeated credential header, then what :func:`parse_credentials` refuses)."""
    return scan_headers(headers)[0]


def parse_credentials(
    project_raw: str | None, key_raw: str | None
) -> tuple[int, str, str] | AuthError:
    """``(project_id, key_id, secret)`` or the ``AuthError`` to answer with; no database."""
    project_raw = (project_raw or "").strip()
    key_raw = (key_raw or "").strip()
    if not project_raw:
        return AuthError(
            "the x-project-id header is missing: send your project's id "
            "(projectId in the edit page's URL).",
            code="missing_project_id",
            field="x-project-id",
        )
    if not (project_raw.isdigit() and project_raw.isascii() and len(project_raw) < 19):
        return AuthError(
            f"x-project-id must be your project's integer id, got {project_raw!r:.40}.",
            code="invalid_project_id",
            field="x-project-id",
        )
    if not key_raw:
        return AuthError(
            "the Auth-key header is missing: copy the key from the API page.",
            code="missing_auth_key",
            field="Auth-key",
        )
    parts = keys.split_key(key_raw)
    if parts is None:
        return invalid_key()
    return int(project_raw), parts[0], parts[1]

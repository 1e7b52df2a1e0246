"""Reading ``x-project-id`` and ``Auth-key``: one function for every surface, so the codes and
messages are the same on the compatible endpoint and the rest of the API."""

from __future__ import annotations

from powerdialer import keys
from powerdialer.errors import AuthError
from powerdialer.projects import invalid_key


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

"""Projects and API keys: create, list, revoke, authenticate, and the first-run bootstrap."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection

from powerdialer import keys
from powerdialer.errors import AuthError, NotFound, ValidationError
from powerdialer.models import ApiKey, Campaign, Project, utcnow
from powerdialer.storage import Store
from powerdialer.storage import campaigns as campaign_sql
from powerdialer.storage import projects as sql
from powerdialer.text import one_line

MAX_NAME = 200


def clean_name(name: str, *, field: str = "name") -> str:
    cleaned = one_line(name)
    if not cleaned:
        raise ValidationError(
            f"{field} is empty: give it a few words.",
            field=field,
            code=f"invalid_{field}",
            reason="missing",
        )
    if len(cleaned) > MAX_NAME:
        raise ValidationError(
            f"{field} is longer than {MAX_NAME} characters: shorten it.",
            field=field,
            code=f"invalid_{field}",
            reason="too_long",
        )
    return cleaned


def create_project(store: Store, name: str) -> Project:
    name = clean_name(name)
    return store.write(lambda conn: sql.insert_project(conn, name, utcnow()))


def list_projects(store: Store) -> list[Project]:
    return store.read(sql.list_projects)


def require_project(conn: Connection, project_id: int) -> Project:
    project = sql.get_project(conn, project_id)
    if project is None:
        raise NotFound(
            f"there is no project {project_id}: list them with `powerdialer project list`.",
            code="project_not_found",
        )
    return project


@dataclass(frozen=True)
class CreatedKey:
    key: ApiKey
    plaintext: str  # shown once


def create_key(store: Store, project_id: int, name: str = "") -> CreatedKey:
    new = keys.generate_key()

    def run(conn: Connection) -> ApiKey:
        require_project(conn, project_id)
        return sql.insert_key(
            conn,
            project_id,
            new.key_id,
            new.secret_hash,
            one_line(name)[:MAX_NAME],
            utcnow(),
        )

    return CreatedKey(key=store.write(run), plaintext=new.plaintext)


def list_keys(store: Store, project_id: int) -> list[ApiKey]:
    def run(conn: Connection) -> list[ApiKey]:
        require_project(conn, project_id)
        return sql.list_keys(conn, project_id)

    return store.read(run)


def revoke_key(store: Store, project_id: int, key_id: str) -> None:
    """Revoke by key id (the part after ``pd_``) or by the whole key."""
    parts = keys.split_key(key_id)
    if parts is not None:
        key_id = parts[0]
    if not store.write(lambda conn: sql.revoke_key(conn, project_id, key_id, utcnow())):
        raise NotFound(
            f"project {project_id} has no active key {key_id!r}: see `powerdialer key list`.",
            code="key_not_found",
        )


def authenticate(conn: Connection, project_id: int, presented: str) -> None:
    """Raise ``AuthError`` unless ``presented`` is an active key of ``project_id``.  Every
    failure looks the same, so a caller cannot learn whether a project exists."""
    parts = keys.split_key(presented)
    stored = sql.key_hashes(conn, {(project_id, parts[0])}) if parts else {}
    if parts is None or not keys.secret_matches(parts[1], stored.get((project_id, parts[0]))):
        raise invalid_key()


@dataclass(frozen=True, slots=True)
class KeyProof:
    """The key a writer payload was sent with, checked again in the payload's transaction:
    a request whose key was verified through the cache (``KeyVerifier.verify_cached``) is
    refused there at once if the key was revoked since."""

    key_id: str
    secret_hash: str


def refused_proofs(conn: Connection, proofs: Sequence[tuple[int, KeyProof | None]]) -> list[bool]:
    """For each ``(project_id, proof)``: ``True`` if the proof no longer holds (the key is
    revoked, gone, or another's).  No proof: nothing to check (``False``).  One query."""
    pairs = {(project, proof.key_id) for project, proof in proofs if proof is not None}
    hashes = sql.key_hashes(conn, pairs)
    return [
        proof is not None
        and not keys.hash_matches(proof.secret_hash, hashes.get((project, proof.key_id)))
        for project, proof in proofs
    ]


def invalid_key() -> AuthError:
    return AuthError(
        "Auth-key is not a valid key of the project in x-project-id: copy the key "
        "from the API page or `powerdialer key create`.",
        code="invalid_auth_key",
        field="Auth-key",
    )


@dataclass(frozen=True)
class StarterNames:
    """What the first run names its project, campaign and key: stored data, so chosen once,
    in the web UI's default language (``powerdialer.web.ui.labels.starter_names``)."""

    project: str
    campaign: str
    key: str


@dataclass(frozen=True)
class Bootstrap:
    project: Project
    campaign: Campaign
    key: CreatedKey


def bootstrap_if_empty(store: Store, names: StarterNames) -> Bootstrap | None:
    """On an empty database create a first project, campaign and key, so a newcomer can send
    the article's cURL at once.  Returns ``None`` when there is already a project."""
    new = keys.generate_key()

    def run(conn: Connection) -> Bootstrap | None:
        if sql.count_projects(conn):
            return None
        now = utcnow()
        project = sql.insert_project(conn, names.project, now)
        campaign = campaign_sql.insert_campaign(conn, project.id, names.campaign, now)
        key = sql.insert_key(conn, project.id, new.key_id, new.secret_hash, names.key, now)
        return Bootstrap(project, campaign, CreatedKey(key=key, plaintext=new.plaintext))

    return store.write(run)

"""Signing in and server-side sessions: sign in and out, load a cookie's session, change the
signed-in user's password, choose the current project.

A session is a random 256-bit token in a cookie; only its SHA-256 is stored, so a copy of the
database opens no session.  Each session has its own CSRF token.  Wrong passwords are
throttled (:mod:`~powerdialer.accounts.throttling`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Connection

from powerdialer.accounts import throttling
from powerdialer.accounts.models import Membership, WebSession
from powerdialer.accounts.passwords import (
    check_new_password,
    dummy_hash,
    hash_password,
    needs_rehash,
    password_matches,
)
from powerdialer.accounts.users import MAX_EMAIL, normalize_email
from powerdialer.errors import AuthError, NotFound, PowerDialerError, ValidationError
from powerdialer.models import utcnow
from powerdialer.storage import Store
from powerdialer.storage import accounts as sql
from powerdialer.text import one_line

SESSION_LIFETIME = dt.timedelta(days=14)


class SignInRefused(AuthError):
    """Wrong email or password, or too many recent failures (``retry_after`` seconds)."""

    def __init__(self, retry_after: int | None = None) -> None:
        if retry_after is None:
            super().__init__("the email or the password is wrong.", code="invalid_credentials")
        else:
            super().__init__(
                f"too many failed sign-ins: try again in {retry_after} s.", code="sign_in_locked"
            )
        self.retry_after = retry_after


class PasswordCheckLocked(PowerDialerError):
    """Too many wrong current passwords (or sign-ins) for this account: ``retry_after`` s."""

    def __init__(self, retry_after: int | None = None) -> None:
        super().__init__(
            f"too many failed attempts: try again in {retry_after or 1} s.",
            code="too_many_attempts",
            field="current_password",
        )
        self.retry_after = retry_after or 1


def _reserve_attempt(
    store: Store,
    keys: dict[str, int],
    now: dt.datetime,
    refused: Callable[[int | None], PowerDialerError],
) -> dict[str, int]:
    """Count this password check before it happens (:func:`throttling.reserve`), or raise
    ``refused(seconds)`` when a key is locked."""
    try:
        return store.write(lambda conn: throttling.reserve(conn, keys, now))
    except throttling.Locked:
        raise refused(throttling.seconds_locked(store, keys, now) or 1) from None


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class SignedIn:
    token: str  # for the cookie; never stored
    session: WebSession


def sign_in(
    store: Store, email: str, password: str, client_ip: str, *, now: dt.datetime | None = None
) -> SignedIn:
    now = now or utcnow()
    try:
        email = normalize_email(email)
    except ValidationError:
        email = one_line(email).lower()[:MAX_EMAIL]  # still throttled like any other
    keys = throttling.keys_for(email, client_ip)
    counts = _reserve_attempt(store, keys, now, SignInRefused)
    found = store.read(lambda conn: sql.user_by_email(conn, email))
    matches = password_matches(found[1] if found else dummy_hash(), password)
    if found is None or not matches:
        raise SignInRefused()  # the reservation stays: it is this failure, counted
    user, password_hash = found
    rehash = hash_password(password) if needs_rehash(password_hash) else None
    token = secrets.token_urlsafe(32)
    token_hash = _token_hash(token)

    def run(conn: Connection) -> WebSession:
        throttling.release(conn, email, keys, counts)
        throttling.forget_stale(conn, now)
        sql.delete_expired_sessions(conn, now)
        if rehash is not None:
            sql.set_password_hash(conn, user.id, rehash, None)
        found = sql.memberships_of(conn, user.id)
        project_id = found[0][0].id if found else None
        csrf = secrets.token_urlsafe(32)
        expires = now + SESSION_LIFETIME
        sql.insert_session(conn, token_hash, user.id, project_id, csrf, now, expires)
        members = tuple(Membership(p, r) for p, r in found)
        return WebSession(token_hash, user, members, project_id, csrf, expires)

    return SignedIn(token, store.write(run))


def load_session(
    store: Store, token: str | None, *, now: dt.datetime | None = None
) -> WebSession | None:
    """The live session of a cookie's token, or ``None`` (missing, unknown or expired by
    ``now``, the real clock unless given)."""
    if not token or len(token) > 256:
        return None
    token_hash = _token_hash(token)
    now = now or utcnow()

    def run(conn: Connection) -> WebSession | None:
        row = sql.get_session(conn, token_hash, now)
        if row is None:
            return None
        found = sql.user_by_id(conn, row.user_id)
        if found is None:
            return None
        members = tuple(Membership(p, r) for p, r in sql.memberships_of(conn, row.user_id))
        return WebSession(
            token_hash, found[0], members, row.project_id, row.csrf_token, row.expires_at
        )

    return store.read(run)


def sign_out(store: Store, session: WebSession) -> None:
    store.write(lambda conn: sql.delete_session(conn, session.token_hash))


def change_password(
    store: Store,
    session: WebSession,
    current: str,
    new: str,
    client_ip: str = "unknown",
    *,
    now: dt.datetime | None = None,
) -> int:
    """Change the signed-in user's password after checking the current one; every other
    session of the user ends (a thief's included).  Returns how many ended.  The check of
    the current password is throttled like a sign-in, on the same keys (a stolen session
    gets no more guesses than the sign-in form): ``PasswordCheckLocked`` once locked."""
    now = now or utcnow()
    check_new_password(new)
    email = session.user.email
    keys = throttling.keys_for(email, client_ip)
    counts = _reserve_attempt(store, keys, now, PasswordCheckLocked)
    found = store.read(lambda conn: sql.user_by_id(conn, session.user.id))
    if found is None or not password_matches(found[1], current):
        raise ValidationError(
            "the current password is wrong.", code="wrong_password", field="current_password"
        )
    new_hash = hash_password(new)

    def run(conn: Connection) -> int:
        throttling.release(conn, email, keys, counts)
        sql.set_password_hash(conn, session.user.id, new_hash, now)
        return sql.delete_other_sessions(conn, session.user.id, session.token_hash)

    return store.write(run)


def choose_project(store: Store, session: WebSession, project_id: int) -> Membership:
    """The project switcher: only a project the user belongs to can be chosen."""
    membership = session.membership(project_id)
    if membership is None:
        raise NotFound(f"there is no project {project_id}.", code="project_not_found")
    store.write(lambda conn: sql.set_session_project(conn, session.token_hash, project_id))
    return membership

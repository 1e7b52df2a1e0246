"""Cookies, CSRF and the security headers of every UI response.

- The session cookie holds a random token (only its SHA-256 is in the database); it is
  ``HttpOnly`` (no script can read it), ``SameSite=Lax`` (not sent on cross-site POSTs) and
  ``Secure`` whenever the request came over HTTPS.
- Every unsafe request must carry the session's CSRF token, in the form field ``csrf_token``
  or, for fetch/XHR, the ``X-CSRF-Token`` header; it is compared with
  ``hmac.compare_digest``.  The sign-in form, which has no session yet, uses a double-submit
  cookie instead.
- The Content-Security-Policy allows scripts and styles from this server only and no inline
  ones, so even markup that slipped past escaping could not run; frames are refused.
"""

from __future__ import annotations

import hmac
import secrets

from starlette.requests import Request
from starlette.responses import Response

SESSION_COOKIE = "pd_session"
LOGIN_CSRF_COOKIE = "pd_login_csrf"
LANG_COOKIE = "pd_lang"
TZ_COOKIE = "pd_tz"  # the browser's time zone, set by app.js; only used to show dates
NEW_KEY_COOKIE = "pd_new_key"  # a key just created, carried to the page that shows it once
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

SECURITY_HEADERS = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-frame-options": "DENY",
    # The edit page's URL carries ids and the campaign name: keep it on this site.
    "referrer-policy": "same-origin",
    "x-content-type-options": "nosniff",
    "permissions-policy": "camera=(), microphone=(), geolocation=(), payment=()",
    "cross-origin-opener-policy": "same-origin",
}


def add_security_headers(response: Response, *, cache: bool = False) -> None:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if not cache:
        # Pages are per user and may show a key once: never keep them in a shared cache.
        response.headers.setdefault("cache-control", "no-store")


def is_https(request: Request) -> bool:
    return request.url.scheme == "https"


def set_cookie(
    request: Request,
    response: Response,
    name: str,
    value: str,
    *,
    max_age: int | None,
    http_only: bool = True,
    path: str = "/",
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=path,
        secure=is_https(request),
        httponly=http_only,
        samesite="lax",
    )


def tokens_match(presented: str | None, expected: str | None) -> bool:
    if not presented or not expected:
        return False
    return hmac.compare_digest(presented.encode(), expected.encode())


def new_login_csrf() -> str:
    return secrets.token_urlsafe(32)


async def presented_csrf(request: Request) -> str | None:
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        return value if isinstance(value, str) else None
    return None

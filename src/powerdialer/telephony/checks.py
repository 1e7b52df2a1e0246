"""Checks of the telephony fields an owner fills in, each refusal naming its field and the fix
(``ValidationError``).  Pure: no I/O.  What is sent to a PBX's line protocol (an extension,
a context, a caller id) admits no spaces or line breaks, so nobody can smuggle a second AMI
action or ESL command into one."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import orjson

from powerdialer.errors import ValidationError

EXTENSION = re.compile(r"[A-Za-z0-9+*#._@:/=;-]{1,200}")
TOKEN = re.compile(r"[A-Za-z0-9_.-]{1,80}")  # an AMI context, username
CALLER_ID = re.compile(r"\+?[0-9]{1,32}")
HEADER_NAME = re.compile(r"[A-Za-z0-9!#$%&'*+.^_`|~-]{1,100}")
HOST = re.compile(r"[A-Za-z0-9.:\[\]-]{1,255}")
TEMPLATE_FIELDS = ("{extension}", "{destination}")
MAX_HEADERS = 20


def bad(field: str, message: str) -> ValidationError:
    return ValidationError(f"{field} {message}", code="invalid_telephony", field=field)


def extension(value: str, field: str = "extension") -> str:
    value = value.strip()
    if not EXTENSION.fullmatch(value):
        raise bad(
            field,
            "must be the operator's extension or SIP URI (e.g. 101 or sip:101@pbx.example): "
            "1-200 letters, digits or + * # . _ @ : / = ; -, no spaces.",
        )
    return value


def token(value: str | None, field: str, example: str) -> str:
    text = (value or "").strip()
    if not TOKEN.fullmatch(text):
        raise bad(field, f"must be 1-80 letters, digits, . _ or - (e.g. {example}).")
    return text


def caller_id(value: str | None) -> str | None:
    text = (value or "").strip()
    if not text:
        return None
    if not CALLER_ID.fullmatch(text):
        raise bad(
            "caller_id", "must be a number in digits, optionally with + (e.g. +380441234567)."
        )
    return text


def web_url(value: str | None, field: str, schemes: tuple[str, ...]) -> str:
    text = (value or "").strip()
    parts = urlsplit(text)
    if parts.scheme not in schemes or not parts.hostname or len(text) > 2000:
        wanted = " or ".join(f"{s}://" for s in schemes)
        raise bad(field, f"must be a full URL starting with {wanted} (at most 2000 characters).")
    if any(ch.isspace() for ch in text):
        raise bad(field, "must not contain spaces.")
    return text


def host(value: str | None, field: str = "pbx_host") -> str:
    text = (value or "").strip()
    if not HOST.fullmatch(text):
        raise bad(field, "must be the PBX's host name or IP address (e.g. 10.0.0.5).")
    return text


def port(value: int | None, default: int, field: str = "pbx_port") -> int:
    if value is None:
        return default
    if not 1 <= value <= 65535:
        raise bad(field, "must be a TCP port, 1 to 65535.")
    return value


def channel(value: str | None, default: str) -> str:
    text = (value or "").strip() or default
    if "{extension}" not in text or not EXTENSION.fullmatch(text.replace("{extension}", "1")):
        raise bad(
            "pbx_channel",
            "must name {extension} where the operator's extension goes, without spaces "
            f"(e.g. {default}).",
        )
    return text


def body_template(value: str | None, content_type: str) -> str:
    text = value or ""
    if len(text) > 4000:
        raise bad("http_body", "must be at most 4000 characters.")
    if not all(name in text for name in TEMPLATE_FIELDS):
        raise bad(
            "http_body",
            "must contain {extension} and {destination}, where the operator's extension "
            "and the contact's number go.",
        )
    if content_type == "json":
        sample = text.replace("{extension}", "101").replace("{destination}", "+380931234567")
        try:
            orjson.loads(sample)
        except orjson.JSONDecodeError:
            raise bad(
                "http_body",
                'must be JSON once the fields are filled in, e.g. {"from": "{extension}", '
                '"to": "{destination}"}.',
            ) from None
    return text


def headers(value: dict[str, str] | None) -> dict[str, str]:
    found = dict(value or {})
    if len(found) > MAX_HEADERS:
        raise bad("http_headers", f"may hold at most {MAX_HEADERS} headers.")
    for name, text in found.items():
        if not HEADER_NAME.fullmatch(name):
            raise bad("http_headers", f"has a header name that is not a token: {name[:40]!r}.")
        if not isinstance(text, str) or len(text) > 1000 or any(c in text for c in "\r\n\0"):
            raise bad("http_headers", f"{name}: the value must be one line of text.")
    return found


def header_name(value: str | None, field: str = "http_secret_header") -> str:
    text = (value or "").strip()
    if not HEADER_NAME.fullmatch(text):
        raise bad(field, "must be an HTTP header name (e.g. Authorization or X-Api-Key).")
    return text


def timeout(value: int | None) -> int:
    if value is None:
        return 10
    if not 1 <= value <= 60:
        raise bad("timeout_seconds", "must be 1 to 60 seconds.")
    return value


def choice(value: str | None, field: str, choices: tuple[str, ...], default: str) -> str:
    text = (value or "").strip() or default
    if text not in choices:
        raise bad(field, f"must be one of {', '.join(choices)}.")
    return text


def no_json_get(kind: str, method: str | None) -> str:
    if kind == "json" and (method or "").upper() == "GET":
        raise bad("http_method", "GET sends no body: use POST or PUT with a JSON body.")
    return kind

"""A project's telephony settings: how its calls are placed (``Method``) and the fields of
that way, and each member's own extension for server-side originate.

- :func:`screen_settings`: what the operator's screen is told (no secrets, ever);
- :func:`load`: the settings as an owner sees them (secrets masked: only whether one is set);
- :func:`save`: validated (each refusal names its field; an AMI or ESL host is resolved and
  refused if it is inward and not allowed, as :mod:`powerdialer.outbound` does), secrets
  sealed with the server's key (:mod:`.secrets`), written through the group-commit writer
  (``SaveTelephony``);
- :func:`secrets_of`: the secrets opened, for an originator only;
- :func:`set_extension` / :func:`members`: the members' extensions.

A save is whole: the chosen method's fields are checked and stored, the other methods'
fields are cleared; a secret left out (``None``) keeps the stored one, ``""`` clears it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlalchemy import Connection

from powerdialer import outbound
from powerdialer.errors import NotFound
from powerdialer.errors import PowerDialerError as PowerDialerError
from powerdialer.storage import Store
from powerdialer.storage import telephony as sql
from powerdialer.storage.payload import Payload, Writes
from powerdialer.storage.writer import GroupCommitter
from powerdialer.telephony import checks
from powerdialer.telephony.base import (
    DEFAULT_LINK_TEMPLATE,
    Method,
    ScreenTelephony,
    check_link_template,
)
from powerdialer.telephony.secrets import SecretBox as SecretBox

VENDOR = "vendor"  # the vendor's click-to-call: form extension + destination, header Auth-key
GENERIC = "generic"  # a URL, a method, a body template, headers of the owner's choosing
SHAPES = (VENDOR, GENERIC)
AMI_PORT, ESL_PORT = 5038, 8021
AMI_CHANNEL, ESL_CHANNEL = "PJSIP/{extension}", "user/{extension}"
SECRET_COLUMNS = ("http_secret", "pbx_secret")


@dataclass(frozen=True, slots=True)
class TelephonySettings:
    """The settings as entered (what an owner may see): secrets only as ``*_secret_set``."""

    method: Method = Method.LINK
    link_template: str = DEFAULT_LINK_TEMPLATE
    softphone_ws_url: str | None = None
    softphone_domain: str | None = None
    http_url: str | None = None
    http_shape: str | None = None
    http_method: str | None = None
    http_content_type: str | None = None
    http_body: str | None = None
    http_headers: dict[str, str] = field(default_factory=dict)
    http_secret_header: str | None = None
    pbx_host: str | None = None
    pbx_port: int | None = None
    pbx_username: str | None = None
    pbx_context: str | None = None
    pbx_channel: str | None = None
    caller_id: str | None = None
    kamailio_url: str | None = None
    timeout_seconds: int = 10
    http_secret_set: bool = False
    pbx_secret_set: bool = False


@dataclass(frozen=True, slots=True)
class Secrets:
    http_secret: str | None
    pbx_secret: str | None


_FIELDS = tuple(f.name for f in dataclasses.fields(TelephonySettings))


def _from_row(row: dict[str, Any] | None) -> TelephonySettings:
    if row is None:
        return TelephonySettings()
    values = {name: row[name] for name in _FIELDS if name in row}
    values["method"] = Method(row["method"])
    values["http_headers"] = orjson.loads(row["http_headers"]) if row["http_headers"] else {}
    values["http_secret_set"] = bool(row["http_secret"])
    values["pbx_secret_set"] = bool(row["pbx_secret"])
    return TelephonySettings(**values)


def load(store: Store, project_id: int) -> TelephonySettings:
    return _from_row(store.read(lambda conn: sql.settings_row(conn, project_id)))


def screen_settings(store: Store, project_id: int) -> ScreenTelephony:
    """What the operator's screen needs: the method, the link template, the softphone's
    server; never a secret."""
    found = load(store, project_id)
    return ScreenTelephony(
        method=found.method,
        link_template=found.link_template,
        softphone_ws_url=found.softphone_ws_url,
        softphone_domain=found.softphone_domain,
    )


def secrets_of(store: Store, box: SecretBox, project_id: int) -> Secrets:
    row = store.read(lambda conn: sql.settings_row(conn, project_id)) or {}
    http, pbx = row.get("http_secret"), row.get("pbx_secret")
    return Secrets(
        box.open(http, "http_secret") if http else None,
        box.open(pbx, "pbx_secret") if pbx else None,
    )


def _text(value: str | None) -> str | None:
    text = (value or "").strip()
    return text or None


def check(asked: TelephonySettings) -> dict[str, Any]:
    """The columns to store for ``asked`` (but the secrets), or the first field's refusal."""
    why = check_link_template(asked.link_template.strip())
    if why is not None or len(asked.link_template) > 500:
        raise checks.bad("link_template", why or "must be at most 500 characters.")
    method = asked.method
    values: dict[str, Any] = {name: None for name in sql.COLUMNS if name not in SECRET_COLUMNS}
    values.update(
        method=method.value,
        link_template=asked.link_template.strip(),
        timeout_seconds=checks.timeout(asked.timeout_seconds),
        caller_id=checks.caller_id(asked.caller_id),
    )
    if method is Method.SOFTPHONE:
        values["softphone_ws_url"] = checks.web_url(
            asked.softphone_ws_url, "softphone_ws_url", ("wss", "ws")
        )
        domain = _text(asked.softphone_domain)
        values["softphone_domain"] = checks.host(domain, "softphone_domain") if domain else None
    elif method is Method.HTTP:
        shape = checks.choice(asked.http_shape, "http_shape", SHAPES, VENDOR)
        values.update(
            http_shape=shape,
            http_url=checks.web_url(asked.http_url, "http_url", ("https", "http")),
        )
        if shape == GENERIC:
            kind = checks.choice(
                asked.http_content_type, "http_content_type", ("form", "json"), "form"
            )
            values.update(
                http_method=checks.choice(
                    (asked.http_method or "").upper(), "http_method", ("POST", "PUT", "GET"), "POST"
                ),
                http_content_type=checks.no_json_get(kind, asked.http_method),
                http_body=checks.body_template(asked.http_body, kind),
                http_headers=orjson.dumps(checks.headers(asked.http_headers)).decode(),
                http_secret_header=checks.header_name(asked.http_secret_header)
                if _text(asked.http_secret_header)
                else None,
            )
    elif method in (Method.AMI, Method.ESL):
        ami = method is Method.AMI
        values.update(
            pbx_host=checks.host(asked.pbx_host),
            pbx_port=checks.port(asked.pbx_port, AMI_PORT if ami else ESL_PORT),
            pbx_username=checks.token(asked.pbx_username, "pbx_username", "powerdialer")
            if ami
            else None,
            pbx_context=checks.token(
                asked.pbx_context or ("" if ami else "default"), "pbx_context", "from-internal"
            ),
            pbx_channel=checks.channel(asked.pbx_channel, AMI_CHANNEL if ami else ESL_CHANNEL),
        )
    elif method is Method.KAMAILIO:  # the dialog bridge's JSON-RPC, and its SIP domain
        values["kamailio_url"] = checks.web_url(
            asked.kamailio_url, "kamailio_url", ("http", "https")
        )
        domain = _text(asked.softphone_domain)
        values["softphone_domain"] = checks.host(domain, "softphone_domain") if domain else None
    return values


@dataclass(frozen=True, slots=True)
class SaveTelephony(Payload[TelephonySettings]):
    project_id: int
    values: tuple[tuple[str, Any], ...]  # the checked columns, secrets aside
    secrets: tuple[tuple[str, str | None], ...]  # sealed, "" to clear, None to keep
    now: dt.datetime


def _save(conn: Connection, item: SaveTelephony) -> TelephonySettings:
    values = dict(item.values)
    stored = sql.settings_row(conn, item.project_id) or {}
    for column, sealed in item.secrets:
        values[column] = stored.get(column) if sealed is None else (sealed or None)
    method = Method(values["method"])
    if method is Method.HTTP and values["http_shape"] == VENDOR and not values["http_secret"]:
        raise checks.bad("http_secret", "is required: the Auth-key of your provider's API.")
    if method is Method.AMI and not values["pbx_secret"]:
        raise checks.bad("pbx_secret", "is required: the secret of the AMI user (manager.conf).")
    if method is Method.ESL and not values["pbx_secret"]:
        raise checks.bad("pbx_secret", "is required: the event socket's password.")
    sql.save_settings(conn, item.project_id, values, item.now)
    return _from_row({**values, "project_id": item.project_id})


def apply_saves(
    conn: Connection, items: Sequence[SaveTelephony]
) -> list[TelephonySettings | Exception]:
    results: list[TelephonySettings | Exception] = []
    for item in items:
        try:
            results.append(_save(conn, item))
        except PowerDialerError as exc:
            results.append(exc)
    return results


async def save(
    writer: GroupCommitter,
    box: SecretBox,
    project_id: int,
    asked: TelephonySettings,
    *,
    http_secret: str | None = None,
    pbx_secret: str | None = None,
    allow: Sequence[outbound.Network] = (),
    now: dt.datetime,
) -> TelephonySettings:
    """Check and store the settings.  An AMI or ESL host is resolved now and refused
    (``host_refused`` on ``pbx_host``) if an address is not public and not in ``allow``
    (``POWERDIALER_OUTBOUND_ALLOW``); it is checked again at every connect."""
    values = check(asked)
    if values["method"] in (Method.AMI.value, Method.ESL.value):
        policy = outbound.Policy(allow=tuple(allow))
        await outbound.check_host(values["pbx_host"], values["pbx_port"], policy, "pbx_host")
    sealed: list[tuple[str, str | None]] = []
    for column, secret in (("http_secret", http_secret), ("pbx_secret", pbx_secret)):
        if secret is None or secret == "":
            sealed.append((column, secret))
        elif len(secret) > 1000 or any(c in secret for c in "\r\n\0"):
            raise checks.bad(column, "must be one line of at most 1000 characters.")
        else:
            sealed.append((column, box.seal(secret, column)))
    payload = SaveTelephony(project_id, tuple(values.items()), tuple(sealed), now)
    return await writer.submit(payload)


@dataclass(frozen=True, slots=True)
class MemberPhone:
    user_id: int
    email: str
    name: str
    role: str
    extension: str | None


def members(store: Store, project_id: int) -> list[MemberPhone]:
    return [MemberPhone(*m) for m in store.read(lambda conn: sql.member_phones(conn, project_id))]


def extension_of(store: Store, project_id: int, user_id: int) -> str | None:
    return store.read(lambda conn: sql.extension_of(conn, project_id, user_id))


def set_extension(
    store: Store, project_id: int, user_id: int, extension: str | None, now: dt.datetime
) -> str | None:
    """A member's own phone (``None`` or blank: none); another project's user is not found."""
    text = (extension or "").strip()
    value = checks.extension(text) if text else None

    def run(conn: Connection) -> None:
        if not sql.is_member(conn, project_id, user_id):
            raise NotFound(
                f"user {user_id} is not a member of this project.",
                code="operator_not_found",
                field="user_id",
            )
        sql.set_extension(conn, project_id, user_id, value, now)

    store.write(run)
    return value


WRITES: Writes = {SaveTelephony: apply_saves}
"""This module's writes, for the app's group-commit writer (``storage/payload.py``)."""

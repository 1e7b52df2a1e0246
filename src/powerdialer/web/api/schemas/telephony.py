"""Bodies of the telephony routes: a project's settings (secrets write-only: an answer says
only whether one is set), the members' extensions, and a server-side call's answer."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from powerdialer.telephony.base import Method
from powerdialer.telephony.settings import MemberPhone, TelephonySettings
from powerdialer.web.api.schemas.dialer import OperatorBody, examples

_VENDOR = {
    "method": "http",
    "http_shape": "vendor",
    "http_url": "https://api.ringostat.net/callback/outward_call",
    "http_secret": "your-provider-auth-key",
}
_AMI = {
    "method": "ami",
    "pbx_host": "10.0.0.5",
    "pbx_port": 5038,
    "pbx_username": "powerdialer",
    "pbx_secret": "manager-secret",
    "pbx_context": "from-internal",
    "pbx_channel": "PJSIP/{extension}",
    "timeout_seconds": 30,
}
_LINK = {"method": "link", "link_template": "sip:{e164}@pbx.example"}


class _Fields(BaseModel):
    method: Method = Field(default=Method.LINK, description="How calls are placed.")
    link_template: str = Field(
        default="tel:{e164}",
        max_length=500,
        description="link: tel:/sip:/sips:/callto:/https: with {e164}, {digits} or {national}.",
    )
    softphone_ws_url: str | None = Field(default=None, max_length=500)
    softphone_domain: str | None = Field(default=None, max_length=255)
    http_url: str | None = Field(default=None, max_length=2000)
    http_shape: str | None = Field(default=None, max_length=16, description="vendor | generic")
    http_method: str | None = Field(default=None, max_length=8, description="POST | PUT | GET")
    http_content_type: str | None = Field(default=None, max_length=8, description="form | json")
    http_body: str | None = Field(
        default=None, max_length=4000, description="generic: {extension} and {destination}."
    )
    http_headers: dict[str, str] = Field(default_factory=dict)
    http_secret_header: str | None = Field(default=None, max_length=100)
    pbx_host: str | None = Field(default=None, max_length=255)
    pbx_port: int | None = Field(default=None, ge=1, le=65535)
    pbx_username: str | None = Field(default=None, max_length=200)
    pbx_context: str | None = Field(default=None, max_length=80)
    pbx_channel: str | None = Field(default=None, max_length=200)
    caller_id: str | None = Field(default=None, max_length=64)
    kamailio_url: str | None = Field(default=None, max_length=500)
    timeout_seconds: int = Field(default=10, ge=1, le=60)

    def domain(self) -> TelephonySettings:
        return TelephonySettings(**self.model_dump(exclude={"http_secret", "pbx_secret"}))


class TelephonyBody(_Fields):
    model_config = examples(_VENDOR, _AMI, _LINK)
    http_secret: str | None = Field(
        default=None,
        max_length=1000,
        description="The provider's Auth-key (vendor) or the generic header's value; left out: "
        'keep the stored one; "": clear it. Never answered back.',
    )
    pbx_secret: str | None = Field(
        default=None,
        max_length=1000,
        description='The AMI user\'s secret or the ESL password; left out: keep; "": clear.',
    )


class TelephonyPublic(_Fields):
    model_config = examples(
        {**{k: v for k, v in _VENDOR.items() if k != "http_secret"}, "http_secret_set": True}
    )
    http_secret_set: bool = False
    pbx_secret_set: bool = False

    @classmethod
    def of(cls, found: TelephonySettings) -> TelephonyPublic:
        values: dict[str, Any] = {
            name: getattr(found, name) for name in TelephonyPublic.model_fields
        }
        return cls(**values)


class ExtensionBody(BaseModel):
    model_config = examples({"extension": "101"}, {"extension": "sip:101@pbx.example"})
    extension: str | None = Field(
        max_length=200, description="The operator's extension or SIP URI; null: none."
    )


class OperatorPhone(BaseModel):
    model_config = examples(
        {
            "user_id": 7,
            "email": "oleh@example.com",
            "name": "Oleh",
            "role": "operator",
            "extension": "101",
        }
    )
    user_id: int
    email: str
    name: str
    role: str
    extension: str | None

    @classmethod
    def of(cls, found: MemberPhone) -> OperatorPhone:
        return cls(
            user_id=found.user_id,
            email=found.email,
            name=found.name,
            role=found.role,
            extension=found.extension,
        )


class OperatorPhones(BaseModel):
    model_config = examples(
        {
            "items": [
                {
                    "user_id": 3,
                    "email": "anna@example.com",
                    "name": "Anna",
                    "role": "owner",
                    "extension": None,
                },
                {
                    "user_id": 7,
                    "email": "oleh@example.com",
                    "name": "Oleh",
                    "role": "operator",
                    "extension": "101",
                },
            ]
        }
    )
    items: list[OperatorPhone]


class CallBody(OperatorBody):
    pass


class CallAnswer(BaseModel):
    model_config = examples(
        {"ok": True, "error": None, "released": False},
        {"ok": False, "error": "SIP account 101 is offline (HTTP 400)", "released": True},
    )
    ok: bool = Field(description="The provider took the call: the operator's phone rings.")
    error: str | None = Field(default=None, description="The provider's words when not ok.")
    released: bool = Field(
        default=False, description="The row went back to the queue (recorded provider_failed)."
    )

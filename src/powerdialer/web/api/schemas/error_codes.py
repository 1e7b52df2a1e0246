"""The error codes each route documents in the OpenAPI document, with an example each.

Every error has the compatible endpoint's shape (``openapi.ErrorAnswer``); a route lists the
codes it may answer with ``error_responses(...)``, the import routes with ``import_errors(...)``
(the shared codes plus the imports' own).
"""

from __future__ import annotations

from typing import Any

from powerdialer.web.api.openapi import ErrorAnswer

# The one error model of every route (registered by web/api/openapi.py), under the name the
# other areas' routes import.
ErrorResponse = ErrorAnswer

_ERRORS: dict[str, tuple[int, str, dict[str, str]]] = {
    "invalid_auth_key": (
        401,
        "Missing or wrong x-project-id / Auth-key.",
        {"field": "Auth-key", "message": "Auth-key is not a valid key of the project in …"},
    ),
    "campaign_not_found": (
        404,
        "No such campaign in this project (another project's campaign answers the same).",
        {"field": "campaignId", "message": "campaignId 456 is not a campaign of this project: …"},
    ),
    "row_not_found": (
        404,
        "No such row in this campaign.",
        {"field": "row_id", "message": "row 1001 is not a row of this campaign: …"},
    ),
    "dnc_not_found": (
        404,
        "The number is not on this project's do-not-call list.",
        {"field": "number", "message": "number +380930000000 is not on the project's do-not-…"},
    ),
    "invalid_field": (
        422,
        "A parameter or body field is invalid.",
        {"field": "name", "reason": "missing", "message": "name: Field required; fix it …"},
    ),
    "invalid_cursor": (
        422,
        "The cursor is not the next_cursor of this listing.",
        {"field": "cursor", "message": "cursor is not one this server issued: …"},
    ),
    "confirmation_required": (
        422,
        "confirm does not repeat the campaign id.",
        {"field": "confirm", "message": "emptying a campaign needs confirm=456 …"},
    ),
    "too_many_exports": (
        429,
        "Too many downloads open at once for this key or server: wait Retry-After seconds.",
        {"message": "4 downloads are already open for this key (the limit …): finish …"},
    ),
    "rate_limited": (429, "Too many requests: wait Retry-After seconds.", {"message": "…"}),
    # The dialer's (web/api/dialer.py).
    "operator_not_found": (
        404,
        "operator_id is not a member of this project.",
        {"field": "operator_id", "message": "operator 7 is not a member of this project: …"},
    ),
    "lease_not_found": (
        404,
        "No such lease in this project.",
        {"field": "lease_id", "message": "lease 31 is not a lease of this project: …"},
    ),
    "lease_not_yours": (
        409,
        "The lease is another operator's.",
        {"field": "operator_id", "message": "lease 31 is operator 8's, not 7's."},
    ),
    "lease_ended": (
        409,
        "The lease has ended: it ran out and the row went to someone else, or it was closed.",
        {"field": "lease_id", "message": "lease 31 has ended (…): ask for the next contact."},
    ),
    "outcome_not_found": (
        404,
        "No such outcome (built in or the project's own).",
        {"field": "outcome", "message": "outcome sale is neither built in nor one of …"},
    ),
    "outcome_exists": (
        409,
        "The project has an outcome with this code already.",
        {"field": "code", "message": "outcome sale exists already: delete it first …"},
    ),
    "outcome_built_in": (
        422,
        "A built-in outcome's code cannot be redefined.",
        {"field": "code", "message": "code busy is a built-in outcome: choose another code …"},
    ),
    "invalid_rules": (
        422,
        "A rule is invalid.",
        {"field": "rules.max_attempts", "message": "rules.max_attempts: Input should be …"},
    ),
    "skip_reason_required": (
        422,
        "A skip needs a reason.",
        {"field": "note", "message": "a skip needs a reason: send it as note …"},
    ),
    "callback_at_required": (
        422,
        "The outcome callback needs callback_at.",
        {"field": "callback_at", "message": "a callback needs callback_at, a time with …"},
    ),
    "invalid_callback_at": (
        422,
        "callback_at is in the past, more than a year ahead, or given without callback.",
        {"field": "callback_at", "message": "callback_at must be in the future and …"},
    ),
    # Telephony (web/api/telephony.py).
    "invalid_telephony": (
        422,
        "A telephony setting is invalid.",
        {"field": "http_url", "message": "http_url must be a full URL starting with https:// …"},
    ),
    "secret_key_missing": (
        422,
        "A secret was sent but the server has no POWERDIALER_SECRET_KEY to encrypt it with.",
        {"field": "http_secret", "message": "http_secret cannot be stored: the server has no …"},
    ),
    "secret_unreadable": (
        409,
        "A stored secret was encrypted with a key the server no longer has: enter it again.",
        {"field": "pbx_secret", "message": "pbx_secret was encrypted with a key the server …"},
    ),
    "not_server_side": (
        409,
        "The project places calls on the operator's side (a link or the browser softphone).",
        {"field": "method", "message": "this project places calls by link, on the operator's …"},
    ),
    "extension_missing": (
        409,
        "The operator has no extension for server-side calls.",
        {"field": "extension", "message": "you have no extension for server-side calls: …"},
    ),
    "call_in_progress": (
        409,
        "The lease's call is being placed already (a second press of Call).",
        {"field": "lease_id", "message": "the call of lease 31 is being placed already: …"},
    ),
    "method_unavailable": (
        409,
        "The project's method of placing calls is not available on this server.",
        {"field": "method", "message": "placing calls by kamailio is not available on this …"},
    ),
    # Webhooks (web/api/webhooks.py).
    "webhook_not_found": (
        404,
        "No such webhook in this project.",
        {"field": "webhook_id", "message": "webhook 3 is not a webhook subscription of …"},
    ),
    "webhook_event_not_found": (
        404,
        "No such event in this project.",
        {"field": "event_id", "message": "event evt_… is not an event of this project: …"},
    ),
    "delivery_not_found": (
        404,
        "No such delivery in this project.",
        {"field": "delivery_id", "message": "delivery 41 is not a webhook delivery of …"},
    ),
    "invalid_url": (
        422,
        "The URL is not an http(s) URL with a host.",
        {"field": "url", "message": "url must start with https:// (or http://), e.g. …"},
    ),
    "url_refused": (
        422,
        "The URL's host resolves to an internal address (loopback, private, metadata…).",
        {"field": "url", "message": "url is refused: 127.0.0.1 refused: 127.0.0.1 is a …"},
    ),
    "host_refused": (
        422,
        "The PBX host resolves to an internal address not in POWERDIALER_OUTBOUND_ALLOW.",
        {"field": "pbx_host", "message": "pbx_host is refused: 10.0.0.5 refused: 10.0.0.5 is …"},
    ),
    "too_many_webhooks": (
        409,
        "The project has its most webhooks already.",
        {"field": "url", "message": "a project has at most 20 webhook subscriptions: …"},
    ),
    "webhook_disabled": (
        409,
        "The webhook is disabled: enable it first.",
        {"field": "webhook_id", "message": "webhook 3 is disabled (…): enable it first."},
    ),
}


Responses = dict[int | str, dict[str, Any]]


def _document(responses: Responses, code: str, known: tuple[int, str, dict[str, str]]) -> None:
    """Add ``code`` to the entry of its status: its description, and an example answer."""
    status, description, extra = known
    entry = responses.setdefault(
        status,
        {"model": ErrorResponse, "description": "", "content": {"application/json": {}}},
    )
    entry["description"] = " / ".join(filter(None, [entry["description"], description]))
    examples = entry["content"]["application/json"].setdefault("examples", {})
    examples[code] = {"value": {"result": False, "error": {"code": code, **extra}}}


def error_responses(*codes: str) -> Responses:
    """OpenAPI ``responses`` for the given error codes, with one example each."""
    responses: Responses = {}
    for code in ("invalid_auth_key", *codes, "rate_limited"):
        _document(responses, code, _ERRORS[code])
    return responses


_OWN_ERRORS: dict[str, tuple[int, str, dict[str, str]]] = {
    "import_not_found": (
        404,
        "No such import job in this project.",
        {"field": "job_id", "message": "import 77 is not an import of this project: …"},
    ),
    "campaign_archived": (
        409,
        "The campaign is archived and takes no new rows.",
        {"field": "campaignId", "message": "campaign 456 is archived and takes no new rows: …"},
    ),
    "body_too_large": (
        413,
        "The file is larger than the server's upload limit.",
        {"message": "the body is larger than 536870912 bytes (the limit here): split the file."},
    ),
    "form_too_large": (
        413,
        "The form's fields beside the file pass their caps (count, size).",
        {
            "field": "mapping",
            "message": "the form field 'mapping' is longer than 65536 bytes (the limit for a "
            "field beside the file): send a shorter value.",
        },
    ),
    "invalid_mapping": (
        422,
        "The mapping field is not a valid column mapping.",
        {"field": "mapping", "message": "mapping is not valid JSON; send a JSON object …"},
    ),
    "invalid_upload": (
        422,
        "The body is not a well-formed multipart form with a file.",
        {
            "field": "file",
            "reason": "malformed",
            "message": "the body is not a well-formed multipart/form-data form (the body ends "
            "before the form's closing boundary (cut off?)): send the file …",
        },
    ),
}


def import_errors(*codes: str) -> Responses:
    """OpenAPI ``responses``: the shared codes via ``error_responses``, plus the imports'."""
    responses = error_responses(*[c for c in codes if c not in _OWN_ERRORS])
    for code in codes:
        if code in _OWN_ERRORS:
            _document(responses, code, _OWN_ERRORS[code])
    return responses

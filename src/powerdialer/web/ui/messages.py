"""Domain errors in the user's language.  The domain's messages are English sentences meant
for API clients; here each known code (and reason) has its own translatable sentence, and
anything else falls back to the domain's message."""

from __future__ import annotations

from babel.lists import format_list

from powerdialer.accounts.passwords import MIN_PASSWORD
from powerdialer.errors import PowerDialerError
from powerdialer.phones import AmbiguousPhoneNumber
from powerdialer.web.ui.i18n import N_, I18n

PHONE_REASONS = {
    "missing": N_("Enter the phone number."),
    "wrong_type": N_("Enter the phone number."),
    "invalid_country_code": N_("Start the number with a valid country code, e.g. +380."),
    "not_a_number": N_("A phone number has digits, optionally with +, spaces, dashes or brackets."),
    "too_short": N_("The number has too few digits: enter the full number, e.g. 380930000000."),
    "too_long": N_("The number has too many digits: enter one number."),
    "invalid_length": N_("The number's length is impossible for its country."),
    "invalid_number": N_("No such number exists in its country's numbering plan."),
}

BY_CODE = {
    ("invalid_url", None): N_("Enter an address that starts with https:// (or http://)."),
    ("url_refused", None): N_(
        "This address is not allowed: it leads inside the network (a local, private or "
        "metadata address), or its name does not resolve."
    ),
    ("invalid_event_types", None): N_("Choose at least one event."),
    ("webhook_disabled", None): N_("The webhook is disabled: enable it first."),
    ("too_many_webhooks", None): N_("A project has at most 20 webhooks: delete one first."),
    ("invalid_name", "missing"): N_("Enter a name."),
    ("invalid_name", "too_long"): N_("The name is too long: at most 200 characters."),
    ("invalid_fio", "too_long"): N_("The contact's name is too long: at most 255 characters."),
    ("campaign_archived", None): N_("The campaign is archived and takes no new numbers."),
    ("campaign_not_found", None): N_("There is no such campaign."),
    ("do_not_call", None): N_(
        "This number is on the project's do-not-call list: remove it from the list to call it."
    ),
    ("consent_required", None): N_(
        "This campaign requires consent: add the contact with its consent basis and time, "
        "or turn the requirement off in the campaign's settings."
    ),
    ("row_not_found", None): N_("There is no such row."),
    # Telephony (powerdialer.telephony): a server-side call and the call settings.
    ("extension_missing", None): N_(
        "You have no extension for server-side calls: set the extension or SIP URI your phone "
        "answers on under Settings → Calls, or ask an owner to."
    ),
    ("not_server_side", None): N_(
        "This project places calls from the operator's side (a link or the browser softphone)."
    ),
    ("method_unavailable", None): N_(
        "This way of placing calls is not available on this server: choose another under "
        "Settings → Calls."
    ),
    ("host_refused", None): N_(
        "This PBX address is not allowed: it is a local or private address (or its name does "
        "not resolve). Whoever runs the server must list its network in "
        "POWERDIALER_OUTBOUND_ALLOW."
    ),
    ("secret_key_missing", None): N_(
        "The server cannot store secrets: whoever runs it must set POWERDIALER_SECRET_KEY."
    ),
    ("secret_unreadable", None): N_(
        "A stored secret can no longer be read (the server's key changed): enter it again "
        "under Settings → Calls."
    ),
    ("key_not_found", None): N_("There is no such key (or it is already revoked)."),
    ("wrong_password", None): N_("The current password is wrong."),
    ("invalid_email", None): N_("Enter an email address such as anna@example.com."),
    ("member_exists", None): N_("This person is already a member: change their role instead."),
    ("last_owner", None): N_("The project needs an owner: make someone else an owner first."),
    ("cannot_remove_self", None): N_("You cannot remove yourself: ask another owner."),
    ("invalid_password", "too_long"): N_("The password is too long."),
    # The file reader's and the import jobs' codes (powerdialer.reader, powerdialer.importing).
    ("unsupported_format", None): N_(
        "This file type cannot be read: save the list as CSV or .xlsx."
    ),
    ("corrupt_file", None): N_("The file is damaged and cannot be opened: export it again."),
    ("encrypted", None): N_("The workbook is protected with a password: save it without one."),
    ("empty_file", None): N_("The file is empty."),
    ("sheet_not_found", None): N_("The workbook has no sheet to read."),
    ("undecodable", None): N_("The file's text encoding is not recognised: save it as CSV UTF-8."),
    ("no_phone_column", None): N_(
        "No column with phone numbers was found: name it “Телефон” or “phone”, "
        "or choose it under Columns."
    ),
    ("unknown_column", None): N_("A chosen column is not in the file."),
    ("malformed_line", None): N_("The file is broken (for example, a quote is not closed)."),
    ("workbook_too_large", None): N_(
        "The workbook is too large to read (its sheet reaches too far, or it unpacks to too "
        "much): save it as CSV, or delete the empty rows and columns past your data."
    ),
    ("file_too_complex", None): N_(
        "Reading this file needs more memory or time than the server allows: save it as CSV "
        "or split it."
    ),
    ("interrupted", None): N_("The server stopped while the import ran: upload the file again."),
    ("internal_error", None): N_("The import failed: try again."),
    ("invalid_mapping", None): N_("The choice of columns is not valid."),
    ("invalid_upload", None): N_("Choose a file to upload."),
    ("invalid_upload", "malformed"): N_(
        "The upload arrived damaged or cut off: send the file again."
    ),
    ("invalid_upload", "invalid_text"): N_(
        "The file's name is not readable text: rename the file and upload it again."
    ),
    ("body_too_large", None): N_("The file is larger than the upload limit: split it."),
    ("form_too_large", None): N_("The form has too many or too long fields: reload the page."),
    # The operator screen's calls (web/ui/routes/operator.py).
    ("lease_not_found", None): N_("There is no such contact on your screen: take the next one."),
    ("lease_not_yours", None): N_("This contact is another operator's."),
    ("lease_ended", None): N_(
        "This contact is no longer yours (the lease ended): take the next one."
    ),
    ("skip_reason_required", None): N_("A skip needs a reason: write it."),
    ("callback_at_required", None): N_("Enter the callback time."),
    ("invalid_callback_at", None): N_(
        "The callback time must be in the future and at most a year ahead."
    ),
    ("outcome_not_found", None): N_("There is no such outcome in this project."),
    ("campaign_paused", None): N_("The campaign is paused."),
}


def error_text(i18n: I18n, exc: PowerDialerError) -> str:
    if isinstance(exc, AmbiguousPhoneNumber):
        readings = format_list(list(exc.readings), style="or", locale=i18n.babel_locale)
        return i18n.gettext(
            "It is not clear which country this number is in: it could be %(readings)s. "
            "Enter it with + and the country code."
        ) % {"readings": readings}
    if exc.code == "invalid_phone_number" and exc.reason in PHONE_REASONS:
        return i18n.gettext(PHONE_REASONS[exc.reason])
    if exc.code == "invalid_password" and exc.reason == "too_short":
        return i18n.gettext("The password must be at least %(num)d characters long.") % {
            "num": MIN_PASSWORD
        }
    known = BY_CODE.get((exc.code, exc.reason)) or BY_CODE.get((exc.code, None))
    return i18n.gettext(known) if known else exc.message

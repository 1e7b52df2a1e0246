"""The header names and keywords that announce the phone, the contact's name and the CRM id.

CRM exports in Ukraine name their columns in Ukrainian, Russian or English, with the
spelling habits of whoever built the export template: ``П.І.Б.``, ``ФИО``, ``Ім’я`` with a
typographic apostrophe (or ``ʼ``, the Ukrainian-orthography modifier letter, or a backtick),
``Тел.``, ``Телефон*`` with a "required" star, ``phone_number`` in snake case. Everything here
reduces a header to one normal form and compares it against known names, first exactly and
then by keyword (``Робочий телефон`` is a phone column too), so that a user uploading a file
almost never has to map columns by hand.
"""

from __future__ import annotations

import re
from typing import Literal

__all__ = ["ROLES", "Role", "dialer_columns", "name_part", "normalize_header", "role_of"]

Role = Literal["phone", "fio", "external_id"]
ROLES: tuple[Role, ...] = ("phone", "fio", "external_id")

# Apostrophes people type in "Ім'я": ASCII, right single quote (Word's autocorrect), the
# modifier letter apostrophe of the 2019 Ukrainian orthography, backtick, prime, left quote.
_APOSTROPHES = str.maketrans(dict.fromkeys("’ʼ`′‘ʹ", "'"))
_SEPARATORS = re.compile(r"[\s_\-/]+")
# Decoration around a name: "Телефон*", "Тел.:", "(ПІБ)", "№ телефону", a stray BOM.
_DECORATION = re.compile(r"[.:*()\[\]№#\"\ufeff]")

_PHONE_NAMES = [
    "телефон", "тел", "номер", "номер телефону", "номер телефона", "мобільний", "мобильный",
    "моб", "мобільний телефон", "мобильный телефон", "моб тел", "телефон клієнта",
    "телефон клиента", "контактний телефон", "контактный телефон", "phone", "phone number",
    "phonenumber", "mobile", "mobile phone", "tel", "telephone", "number", "cell", "msisdn",
]  # fmt: skip
_NAME_NAMES = [
    "піб", "пиб", "фіо", "фио", "fio", "ім'я", "имя", "ім'я та прізвище", "прізвище ім'я",
    "прізвище ім'я по батькові", "фамилия имя отчество", "фамилия имя", "name", "full name",
    "fullname", "contact", "contact name", "контакт", "контактна особа", "контактное лицо",
    "клієнт", "клиент", "client", "customer", "покупець", "покупатель", "лід", "лид", "lead",
]  # fmt: skip
_ID_NAMES = [
    "id", "ід", "ид", "external id", "externalid", "crm id", "crmid", "код", "код клієнта",
    "код клиента", "client id", "customer id", "contact id", "lead id", "ідентифікатор",
    "идентификатор",
]  # fmt: skip

# Words that make a longer header count when no header matches exactly. "номер" is not among
# them on purpose: "Номер договору" (contract number) is not a phone column.
_KEYWORDS: dict[Role, frozenset[str]] = {
    "phone": frozenset(
        ["телефон", "телефону", "телефона", "тел", "phone", "tel", "mobile", "мобільний",
         "мобильный"]
    ),
    "fio": frozenset(
        ["піб", "фіо", "фио", "fio", "ім'я", "имя", "name", "прізвище", "фамилия", "клієнт",
         "клиент"]
    ),
    "external_id": frozenset(),
}  # fmt: skip


def normalize_header(text: str) -> str:
    """Fold case, apostrophes, punctuation and spacing so equal-looking headers compare equal."""
    text = _DECORATION.sub(" ", text.translate(_APOSTROPHES).casefold())
    return " ".join(_SEPARATORS.split(text)).strip()


_EXACT: dict[Role, frozenset[str]] = {
    "phone": frozenset(normalize_header(n) for n in _PHONE_NAMES),
    "fio": frozenset(normalize_header(n) for n in _NAME_NAMES),
    "external_id": frozenset(normalize_header(n) for n in _ID_NAMES),
}
# "П.І.Б." normalizes to "п і б": compare a spaceless form too, for initialisms only.
_INITIALISMS = frozenset({"піб", "пиб", "фіо", "фио"})


_CANONICAL: dict[str, Role] = {"phone number": "phone", "fio": "fio", "external id": "external_id"}


def canonical_role(header: str) -> Role | None:
    """The role of a column named as the API and our exports name it (``phone_number``,
    ``fio``, ``external_id``), if it is one."""
    return _CANONICAL.get(normalize_header(header))


def role_of(header: str, *, exact_only: bool = False) -> Role | None:
    """The role a header name announces, if any (exact names win over keywords)."""
    norm = normalize_header(header)
    if norm.replace(" ", "") in _INITIALISMS:
        return "fio"
    for role, names in _EXACT.items():
        if norm in names:
            return role
    if exact_only:
        return None
    words = set(norm.split())
    for role, keywords in _KEYWORDS.items():
        if words & keywords:
            return role
    return None


# A name kept in parts, as Bitrix24 and most CRMs export a contact: the parts are joined in
# the order a ПІБ is written (surname, given name, patronymic).
_NAME_PARTS: dict[str, int] = {
    normalize_header(name): order
    for order, names in enumerate(
        (
            ["прізвище", "фамилия", "last name", "lastname", "surname", "family name"],
            ["ім'я", "имя", "first name", "firstname", "given name"],
            ["по батькові", "отчество", "middle name", "middlename", "patronymic"],
        )
    )
    for name in names
}


# Columns of what a row brings for the dialer (rows.dialer_fields): read by the import from
# the row's other cells, by header name (our export's own names among them).
_DIALER_NAMES: dict[str, str] = {
    normalize_header(name): field
    for field, names in (
        ("priority", ["priority", "пріоритет", "приоритет", "пріоритетність"]),
        ("call_next", ["call next", "call_next", "callnext", "терміново", "срочно",
                       "дзвонити першим", "звонить первым"]),
        ("tz", ["tz", "timezone", "time zone", "часовий пояс", "часовой пояс", "пояс"]),
        ("consent_basis", ["consent", "consent basis", "consent_basis", "згода",
                           "підстава згоди", "согласие", "основание согласия"]),
        ("consent_at", ["consent at", "consent_at", "consent time", "consent date",
                        "час згоди", "дата згоди", "время согласия", "дата согласия"]),
        ("consent_source", ["consent source", "consent_source", "джерело згоди",
                            "источник согласия"]),
    )
    for name in names
}  # fmt: skip


def dialer_columns(headers: list[str]) -> dict[str, str]:
    """``{header: dialer field}`` of the headers that name a dialer field (the first header
    of each field wins)."""
    found: dict[str, str] = {}
    for header in headers:
        field = _DIALER_NAMES.get(normalize_header(header))
        if field is not None and field not in found.values():
            found[header.strip()] = field
    return found


def name_part(header: str) -> int | None:
    """Where a column that holds one part of a name goes in the joined name (0 surname,
    1 given name, 2 patronymic), if its header names exactly such a part."""
    return _NAME_PARTS.get(normalize_header(header))

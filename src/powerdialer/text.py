"""Text that people and CRMs send, made safe to store and show.

Control characters (a NUL from a sloppy export, tabs and newlines pasted into a name) are no
part of a name or an id, and PostgreSQL refuses NUL in text outright: every free-text value
goes through ``one_line`` before it reaches the database, so the same input behaves the same
on SQLite and PostgreSQL.
"""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


def one_line(text: str) -> str:
    """Control characters become spaces; runs of white space become one; ends trimmed."""
    # Nearly every name and id is already so: printable text has no control characters and
    # no white space but " " (other spaces are not printable), so it only needs checking
    # for doubled and outer spaces.  An import cleans millions of values.
    if text.isprintable() and "  " not in text and text[:1] != " " and text[-1:] != " ":
        return text
    return " ".join(_CONTROL.sub(" ", text).split())


def is_storable(text: str) -> bool:
    """Whether ``text`` can be stored as it is: no lone surrogate (``"\\ud800"`` in JSON is
    valid JSON, but no UTF-8 encoding of it exists, so neither SQLite nor PostgreSQL can hold
    it).  NUL is cleaned, not refused (``one_line``)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def unstorable_path(value: object) -> str | None:
    """The first place in a parsed JSON value whose text (a key or a string) is not
    :func:`is_storable`, as a dotted path (``rows.3.fio``; ``""`` for the value itself), or
    ``None`` if every text in it can be stored."""
    stack: list[tuple[object, str]] = [(value, "")]
    while stack:
        item, path = stack.pop()
        if isinstance(item, str):
            if not is_storable(item):
                return path
        elif isinstance(item, dict):
            for key, child in reversed(list(item.items())):
                name = shown(str(key))
                here = f"{path}.{name}" if path else name
                if isinstance(key, str) and not is_storable(key):
                    return here
                stack.append((child, here))
        elif isinstance(item, list):
            for index in range(len(item) - 1, -1, -1):
                stack.append((item[index], f"{path}.{index}" if path else str(index)))
    return None


def shown(text: str) -> str:
    """``text`` with any lone surrogate spelled as its escape (``\\ud800``), so that an error
    message can quote it."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")

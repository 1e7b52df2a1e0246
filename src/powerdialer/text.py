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


def has_nul(text: str) -> bool:
    return "\x00" in text

"""The report of rows not sent: one CSV row per problem, with the code and the sentence."""

from __future__ import annotations

import csv
import os
import re
from collections.abc import Iterable
from pathlib import Path

__all__ = ["REPORT_COLUMNS", "write_report"]

REPORT_COLUMNS = ("line", "phone_number", "fio", "external_id", "code", "reason", "message")
_PHONE_LIKE = re.compile(r"\+?[\d\s().\-]*")


def _safe(value: object) -> str:
    """Cells that Excel would run as a formula get a leading apostrophe; phone-looking cells
    (``+380…``) are left alone so the report shows them as the file had them."""
    text = "" if value is None else str(value)
    if text[:1] in ("=", "+", "-", "@", "\t", "\r") and not _PHONE_LIKE.fullmatch(text):
        return "'" + text
    return text


def write_report(path: str | os.PathLike[str], rows: Iterable[tuple[object, ...]]) -> int:
    """Write the rows (in ``REPORT_COLUMNS`` order) as UTF-8 CSV with a BOM (so Excel reads
    Cyrillic right); returns how many.  Nothing is written when there is nothing to report."""
    target = Path(path)
    count = 0
    temp = target.with_name(target.name + ".partial")
    with temp.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(REPORT_COLUMNS)
        for row in rows:
            writer.writerow([_safe(v) for v in row])
            count += 1
    if count:
        os.replace(temp, target)
    else:
        temp.unlink()
    return count

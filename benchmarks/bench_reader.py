"""How fast the CRM-export reader iterates a large CSV.

Run: ``.venv/bin/python benchmarks/bench_reader.py [rows]`` (default 1,000,000). Generates a
cp1251, semicolon-separated export like Ukrainian Excel writes (Cyrillic headers and names, a
city and a comment column) in a temporary directory, then times ``open_table`` plus a full
iteration and prints rows per second. A script, not a test: numbers depend on the machine.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from powerdialer.reader.open import open_table


def generate(path: Path, rows: int) -> None:
    with path.open("w", encoding="cp1251", newline="") as out:
        out.write("Телефон;ПІБ;Місто;Коментар\r\n")
        for i in range(rows):
            out.write(f"380{i:09d};Петренко Іван {i};Київ;коментар до контакту {i}\r\n")


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "export.csv"
        generate(path, rows)
        size_mb = path.stat().st_size / 1e6
        started = time.perf_counter()
        count = 0
        with open_table(path) as table:
            for _record in table:
                count += 1
        elapsed = time.perf_counter() - started
    assert count == rows, (count, rows)
    print(
        f"{count:,} rows ({size_mb:.0f} MB, {table.encoding}, {table.delimiter!r}) "
        f"in {elapsed:.2f} s: {count / elapsed:,.0f} rows/s"
    )


if __name__ == "__main__":
    main()

"""How long ``normalize_phone`` takes a number, by spelling, against a baseline revision.

Run: ``.venv/bin/python benchmarks/bench_phones.py [--baseline REV] [--rounds N]`` (defaults:
``main``, 7). The baseline's ``src/powerdialer/phones.py`` is read with ``git show`` and
loaded beside this tree's, and the two are timed alternately, round after round, on the same
spellings, so the ratio compares like with like on a noisy machine. Prints µs a number
(median of the rounds) per spelling and the ratio this tree / baseline. A script, not a test.

The spellings are what CRMs send (the compatible endpoint's and the imports' hot path:
``380…`` and ``+380 …`` and ``0…`` for the default region UA), numbers of other countries
written without ``+`` (the slow path), and refusals.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

from powerdialer import phones
from powerdialer.errors import ValidationError

ROOT = Path(__file__).resolve().parent.parent
R = range(1000)
CASES = {
    "380930000000 (vendor's)": [f"3809{n % 10}{n:07d}" for n in range(1000)],
    "+380 93 000 00 00": [
        f"+380 9{n % 10} {n:03d} {n % 100:02d} {n % 97:02d}" for n in range(1000)
    ],
    "093-000-00-00": [f"09{n % 10}-{n:03d}-{n % 100:02d}-{n % 97:02d}" for n in range(1000)],
    "74951234567 (RU, no +)": [f"7495{n:07d}" for n in range(1000)],
    "931234567 (no trunk 0)": [f"93{n:07d}" for n in range(1000)],
    "8 044 123 45 67 (old UA)": [f"8 044 {n:03d} {n % 100:02d} {n % 97:02d}" for n in range(1000)],
    "84951234567 (refused)": [f"8495{n:07d}" for n in range(1000)],
    "12 (refused)": ["12"] * 1000,
}


def load_baseline(revision: str) -> ModuleType:
    source = subprocess.run(
        ["git", "show", f"{revision}:src/powerdialer/phones.py"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    path = Path(tempfile.mkdtemp()) / "baseline_phones.py"
    path.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("baseline_phones", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it loads
    spec.loader.exec_module(module)
    return module


def per_number(normalize: Callable[[object, str], object], numbers: list[str]) -> float:
    """µs a number, for one pass over ``numbers``."""
    started = time.perf_counter()
    for raw in numbers:
        with contextlib.suppress(ValidationError):
            normalize(raw, "UA")
    return (time.perf_counter() - started) / len(numbers) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline", default="main", help="git revision to compare with")
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    baseline = load_baseline(args.baseline)
    contenders = {"this tree": phones.normalize_phone, args.baseline: baseline.normalize_phone}
    for normalize in contenders.values():  # warm the caches (metadata, compiled patterns)
        for numbers in CASES.values():
            per_number(normalize, numbers)
    print(f"{'spelling':28} {'this tree µs':>13} {args.baseline + ' µs':>13} {'ratio':>6}")
    for name, numbers in CASES.items():
        times: dict[str, list[float]] = {label: [] for label in contenders}
        for _ in range(args.rounds):
            for label, normalize in contenders.items():
                times[label].append(per_number(normalize, numbers))
        ours, theirs = (statistics.median(t) for t in times.values())
        print(f"{name:28} {ours:13.2f} {theirs:13.2f} {ours / theirs:6.2f}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()

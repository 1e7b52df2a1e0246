#!/usr/bin/env python3
"""Extract the web UI's messages and merge them into its catalogs
(src/powerdialer/web/ui/locales/<lang>/LC_MESSAGES/messages.po); then translate the new
entries by hand.  The app reads the .po files at startup: there is no compile step.

    .venv/bin/python scripts/i18n.py          # update the catalogs
    .venv/bin/python scripts/i18n.py --check  # exit 1 if a catalog is stale or untranslated
"""

from __future__ import annotations

import sys

from powerdialer.web.ui import extract


def main(argv: list[str]) -> int:
    if "--check" in argv:
        problems = extract.stale()
        for locale, issues in problems.items():
            for issue in issues:
                print(f"{locale}: {issue}")
        return 1 if problems else 0
    for path in extract.write_all():
        print(f"updated {path}")
    untranslated = extract.stale()
    for locale, issues in untranslated.items():
        print(f"{locale}: {len(issues)} to translate")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

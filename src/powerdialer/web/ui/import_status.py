"""What the edit page shows of an import job: as JSON for app.js's progress bar, or in the
page itself for a browser without scripts."""

from __future__ import annotations

from typing import Any

from powerdialer.errors import PowerDialerError
from powerdialer.importing.jobs import ImportJob
from powerdialer.web.ui.i18n import I18n
from powerdialer.web.ui.messages import error_text


def left_out_text(i18n: I18n, column: dict[str, str]) -> str:
    """A column left out of the custom fields, in the page's language."""
    if column.get("reason") == "name_too_long":
        text = i18n.gettext(
            "Column “%(column)s” is not imported: a custom field's name may have at most "
            "64 characters."
        )
    else:
        text = i18n.gettext(
            "Column “%(column)s” is not imported: a row keeps at most 50 custom fields; "
            "choose the ones to keep in the preview."
        )
    return text % {"column": column.get("column", "")[:80]}


def job_view(i18n: I18n, job: ImportJob) -> dict[str, Any]:
    """What the edit page shows of a job (as JSON for app.js, or in the page without it)."""
    finished = job.status in ("done", "failed")
    error = None
    if job.error is not None:
        error = error_text(i18n, PowerDialerError(job.error.message, code=job.error.code))
    return {
        "id": job.id,
        "status": job.status,
        "finished": finished,
        "total": job.total,
        "supplied": job.supplied,
        "percent": round(job.progress * 100, 1) if job.total or finished else None,
        "inserted": job.inserted,
        "duplicates": job.duplicates + job.updated,
        "rejected": job.rejected,
        "error": error,
        "left_out": [left_out_text(i18n, column) for column in job.left_out],
        "rejected_url": (
            f"/ui/imports/{job.id}/rejected.csv?projectId={job.project_id}"
            if job.rejected
            else None
        ),
    }


def job_text(i18n: I18n, view: dict[str, Any]) -> str:
    if view["status"] == "failed":
        failed = i18n.gettext("The import failed:")
        return f"{failed} {view['error'] or ''}"
    if view["status"] == "done":
        return i18n.gettext("Done.")
    done = i18n.number(view["supplied"])
    if view["total"]:
        return i18n.gettext("Importing: %(done)s of %(total)s rows") % {
            "done": done,
            "total": i18n.number(view["total"]),
        }
    return i18n.gettext("Importing: %(done)s rows") % {"done": done}

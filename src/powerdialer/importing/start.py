"""Starting an import job from an upload, and previewing an upload: the one call each that
both upload surfaces make (the API's ``/power-dialer/campaigns/{id}/imports`` and
``/power-dialer/imports/preview``, and the web UI's upload forms).

The job is held by this process (``runner.owner``) from its creation; the runner stores the
upload in the database before the import starts, so any instance can finish it.

The edge streams the multipart body to this instance's disk (:mod:`powerdialer.web.uploads`)
through the ``receive`` it hands in, and formats what comes back.  The steps in between are
here, in this order: the campaign is checked before a byte of the body is read; the body is
received into an upload of the runner's; the ``mapping`` (and ``keep_valid``) fields are
parsed; the job is created; and the upload is released if anything fails before the runner
owns it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial

import anyio.to_thread

from powerdialer.errors import ValidationError
from powerdialer.importing import jobs
from powerdialer.importing.jobs import ImportJob
from powerdialer.importing.mapping import parse_mapping
from powerdialer.importing.previews import FilePreview
from powerdialer.importing.runner import ImportRunner
from powerdialer.importing.uploads import ReceivedUpload, Upload
from powerdialer.models import utcnow

__all__ = ["ReceiveUpload", "preview_import", "start_import"]

ReceiveUpload = Callable[[Callable[[str], Upload]], Awaitable[ReceivedUpload]]
"""An edge's reader of an upload form: handed where to put the file (``new_upload(filename)``),
it reads the whole body and answers the file with the fields sent beside it, or raises and
leaves nothing on disk."""


async def start_import(
    runner: ImportRunner, project_id: int, campaign_id: int, receive: ReceiveUpload
) -> ImportJob:
    """Import an uploaded file into a campaign: the new job, ``queued``, which the runner
    works on in the background from now on.  Raises what refuses it: the campaign
    (``campaign_not_found``, ``campaign_archived``), the body (``invalid_upload``,
    ``form_too_large``, …), the ``mapping`` field (``invalid_mapping``) or ``keep_valid``
    (``invalid_field``)."""
    # The database calls block: they run in the thread pool, as a route's would.
    await anyio.to_thread.run_sync(jobs.check_campaign, runner.store, project_id, campaign_id)
    received = await receive(runner.new_upload)
    upload = received.upload
    try:
        mapping = parse_mapping(received.fields.get("mapping"))
        create = partial(
            jobs.create_job,
            runner.store,
            project_id,
            campaign_id,
            filename=received.filename,
            file_path=str(upload.path),
            keep_valid=_flag(received.fields.get("keep_valid"), "keep_valid"),
            owner=runner.owner,
            lease_until=utcnow() + runner.lease,
            requested_mapping=received.fields.get("mapping"),
        )
        job = await anyio.to_thread.run_sync(create)
    except BaseException:
        upload.release()
        raise
    runner.launch(job, upload, mapping)
    return job


async def preview_import(runner: ImportRunner, receive: ReceiveUpload) -> FilePreview:
    """What an import of the uploaded file would detect, and its first records as the import
    would judge them; nothing is stored and the upload is deleted.  Raises the body's and the
    ``mapping``'s errors as :func:`start_import` does, and the reader's for a file that
    cannot be imported (``no_phone_column``, ``file_too_complex``, …)."""
    received = await receive(runner.new_upload)
    try:
        mapping = parse_mapping(received.fields.get("mapping"))
        region = runner.settings.default_region
        return await runner.preview(received.upload, received.filename, mapping, region)
    finally:
        received.upload.release()


def _flag(text: str | None, name: str) -> bool:
    if text is None or not text.strip():
        return False
    flag = text.strip().lower()
    if flag in ("1", "true", "yes", "on"):
        return True
    if flag in ("0", "false", "no", "off"):
        return False
    raise ValidationError(
        f"{name} must be true or false, got {text!r:.40}.", code="invalid_field", field=name
    )

"""One fill, start to end: find or plan the run in the journal, detect what the server offers,
send, and sum up.  The CLI (``powerdialer fill``) is a thin shell around :func:`fill`."""

from __future__ import annotations

import asyncio
import signal
import time
from pathlib import Path

from powerdialer.client import (
    AiohttpTransport,
    AsyncClient,
    Campaign,
    Limits,
    NotFoundError,
    PowerDialerError,
    Retries,
    RetryEvent,
    TransportError,
)
from powerdialer.client._throttle import AsyncThrottle, default_burst
from powerdialer.fill._journal import Journal, Run
from powerdialer.fill._limit import AUTO_INITIAL, AUTO_MAXIMUM, ConcurrencyLimit
from powerdialer.fill._negotiate import negotiate
from powerdialer.fill._options import (
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_REJECTED,
    FillError,
    FillOptions,
    FillResult,
    Progress,
    default_report_path,
    default_state_path,
)
from powerdialer.fill._plan import file_sha256, open_input, plan_rows
from powerdialer.fill._report import write_report
from powerdialer.fill._sender import EXIT_ABORTED, Sender, SendOptions
from powerdialer.fill._wire import Tally, WireTracker
from powerdialer.reader.errors import ReaderError

__all__ = ["fill"]


def _resolve_run(journal: Journal, options: FillOptions, sha: str) -> tuple[Run, bool]:
    """The run to continue or a new one; True when it was already done before."""
    fingerprint = options.plan_fingerprint()
    found = journal.find(sha, options.campaign_id, options.target)
    if found is not None and not options.restart:
        if found.plan_options != fingerprint and found.status == "open":
            raise FillError(
                f"{options.path.name} was partly sent to campaign {options.campaign_id} with "
                "other column or region options; run with the same options to resume, or add "
                "--restart to start over."
            )
        if found.plan_options == fingerprint:
            return found, found.status == "done"
    others = [
        r
        for r in journal.open_runs(options.campaign_id, options.target)
        if r.id != (found.id if found else "")
    ]
    changed = [r for r in others if r.file_sha256 != sha]
    if changed and not options.restart:
        raise FillError(
            f"{options.path.name} changed since a fill of it to campaign "
            f"{options.campaign_id} was interrupted ({journal.path}); restore the old file to "
            "resume, or add --restart to send this file from the start (numbers already in the "
            "campaign are not added twice)."
        )
    for run in [*others, *([found] if found else [])]:
        journal.abandon(run.id)
    name = options.path.name
    return journal.create(sha, name, options.campaign_id, options.target, fingerprint), False


def _plan(journal: Journal, run: Run, options: FillOptions) -> None:
    try:
        with open_input(options.path, options.mapping, options.sheet) as table:
            journal.write_plan(run.id, plan_rows(table, options.region, extras=options.extras))
    except ReaderError as exc:
        raise FillError(f"{options.path.name}: {exc}") from exc


async def _detect(
    client: AsyncClient, options: FillOptions
) -> tuple[Limits | None, Campaign | None]:
    """What the server offers (None: not a powerdialer server, e.g. the vendor) and, at a
    powerdialer server, the campaign: a wrong id or key then stops before any row is sent."""
    limits = await client.detect_limits()
    if options.mode == "bulk" and limits is None:
        raise FillError(
            "the server does not publish /power-dialer/limits, so it has no bulk endpoint "
            "(Ringostat takes one number a request): use --mode single or --mode auto."
        )
    campaign = None
    if limits is not None:
        try:
            campaign = await client.get_campaign(options.campaign_id)
        except NotFoundError as exc:
            if exc.code != "campaign_not_found":
                return limits, None  # an older server without the campaigns API
            raise
    return limits, campaign


async def fill(options: FillOptions, progress: Progress | None = None) -> FillResult:
    """Run one fill; see docs/fill.md.  Raises :class:`FillError` for problems of input."""
    started = time.monotonic()
    state_path = options.state_path or default_state_path(options.path)
    report_path = options.report_path or default_report_path(options.path)
    sha = file_sha256(options.path)
    journal = Journal(":memory:" if options.dry_run else state_path, fsync=options.fsync)
    try:
        run, was_done = _resolve_run(journal, options, sha)
        if not run.planned:
            _plan(journal, run, options)
        result = FillResult(
            status="ok",
            exit_code=EXIT_OK,
            message=None,
            file=str(options.path),
            campaign_id=options.campaign_id,
            target=options.target,
            concurrency=options.concurrency or AUTO_INITIAL,
            concurrency_peak=options.concurrency or AUTO_INITIAL,
            adaptive=options.concurrency is None,
            state=None if options.dry_run else str(state_path),
        )
        before = journal.counts(run.id)
        result.already_sent = before.get("acked", 0)
        pending = before.get("pending", 0)
        if options.dry_run:
            result.status = "dry_run"
        elif was_done:
            result.message = (
                "this file was already sent to this campaign; add --restart to send it again"
            )
        elif pending:
            await _send(journal, run, options, result, pending, progress)
        return _summarize(journal, run, result, report_path, started)
    finally:
        journal.close()


async def _send(
    journal: Journal,
    run: Run,
    options: FillOptions,
    result: FillResult,
    pending: int,
    progress: Progress | None,
) -> None:
    limit = (
        ConcurrencyLimit(AUTO_INITIAL, maximum=AUTO_MAXIMUM)
        if options.concurrency is None
        else ConcurrencyLimit(options.concurrency, maximum=options.concurrency, fixed=True)
    )
    transport = options.transport or AiohttpTransport(max_connections=limit.maximum)
    tracker = WireTracker(transport, Tally())
    senders: list[Sender] = []

    def on_retry(event: RetryEvent) -> None:
        for one in senders:
            one.on_retry(event)

    client = AsyncClient(
        base_url=options.base_url,
        project_id=options.project_id,
        key=options.key,
        timeout=options.timeout,
        retries=Retries(max_retries=options.retries, backoff=0.5, max_backoff=30.0),
        transport=tracker,
        on_retry=on_retry,
    )
    sender: Sender | None = None
    try:
        try:
            limits, campaign = await _detect(client, options)
        except PowerDialerError as exc:
            probe = Sender(client, tracker, journal, SendOptions(run.id, options.campaign_id))
            probe.classify([], exc)
            code, message = probe.failure or (EXIT_ABORTED, exc.message)
            if isinstance(exc, TransportError):
                message = f"cannot reach {options.base_url} ({exc.code}: {exc.message})"
            result.status, result.exit_code, result.message = "aborted", code, message
            result.requests = tracker.tally.requests
            return
        if campaign is not None and campaign.state != "active":
            result.status, result.exit_code = "aborted", EXIT_ABORTED
            result.message = (
                f"campaign {campaign.id} is {campaign.state} and takes no new rows: "
                "make it active again or choose another campaign."
            )
            return
        send_options, rate = negotiate(options, run.id, limits, campaign)
        if send_options.fresh_keys:
            client.retries = Retries(
                max_retries=options.retries, backoff=0.5, max_backoff=30.0, codes=frozenset()
            )
        client.throttle = AsyncThrottle(rate, options.burst or default_burst(rate))
        result.mode, result.rate = send_options.mode, rate
        sender = Sender(client, tracker, journal, send_options, limit=limit)
        senders.append(sender)
        if progress is not None:
            sender.on_progress = progress.advance
            progress.start(
                pending + result.already_sent, result.already_sent, f"Sending ({send_options.mode})"
            )
        signals = _catch_signals(sender) if options.handle_signals else []
        try:
            await sender.run()
        finally:
            for signum in signals:
                asyncio.get_running_loop().remove_signal_handler(signum)
            if progress is not None:
                progress.stop()
    finally:
        await client.aclose()
        result.concurrency, result.concurrency_peak = limit.limit, limit.peak
        if sender is not None:
            result.retried = sender.tally.retried
            result.requests = sender.tally.requests
            if sender.interrupted:
                result.status, result.exit_code = "interrupted", EXIT_INTERRUPTED
                result.message = "interrupted: run the same command again to send the rest"
            elif sender.failure is not None:
                result.status = "aborted"
                result.exit_code, result.message = sender.failure


def _catch_signals(sender: Sender) -> list[int]:
    """While sending, Ctrl-C (and SIGTERM) stop the fill cleanly instead of killing it: the
    first lets requests on the wire finish and records their answers, the second cancels
    them.  Before and after, the usual KeyboardInterrupt applies (planning is one
    transaction, rolled back)."""
    loop = asyncio.get_running_loop()
    caught: list[int] = []
    for signum in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(signum, sender.interrupt)
        except (NotImplementedError, RuntimeError, ValueError):  # not the main thread, Windows
            continue
        caught.append(signum)
    return caught


def _summarize(
    journal: Journal, run: Run, result: FillResult, report_path: Path, started: float
) -> FillResult:
    counts = journal.counts(run.id)
    result.valid = sum(counts.get(k, 0) for k in ("pending", "acked", "rejected"))
    result.invalid = counts.get("invalid", 0)
    result.duplicates_in_file = counts.get("duplicate_in_file", 0)
    result.sent = counts.get("acked", 0) - result.already_sent
    result.accepted = counts.get("acked", 0)
    if result.mode == "bulk" or counts.get("inserted") is not None:
        result.inserted = counts.get("inserted", 0)
        result.duplicates = counts.get("duplicate", 0)
        result.updated = counts.get("updated", 0)
    result.rejected_by_server = counts.get("rejected", 0)
    result.rejected = result.invalid + result.rejected_by_server
    result.unsent = counts.get("pending", 0)
    result.elapsed_seconds = round(time.monotonic() - started, 3)
    if result.elapsed_seconds > 0:
        result.rows_per_second = round(result.sent / result.elapsed_seconds, 1)
    written = write_report(report_path, journal.rejections(run.id))
    result.report = str(report_path) if written else None
    if result.status in ("ok", "dry_run"):
        if result.unsent and result.status == "ok":
            result.status, result.exit_code = "aborted", EXIT_ABORTED
            result.message = f"{result.unsent} rows were not sent: run again to resume"
        elif result.rejected:
            result.exit_code = EXIT_REJECTED
            if result.status == "ok":
                result.status = "rejected"
    if not result.unsent and result.status != "dry_run":
        journal.finish(run.id)
    return result

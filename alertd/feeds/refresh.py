"""The daemon's feed refresher: on each source's interval, claim its fetch, fetch, read and sync its events.

- Claiming is one conditional UPDATE in the database, so of several replicas one fetches per interval; the others
  find the interval taken (and the events synced by whoever took it).
- Reading a big feed happens in a worker thread under ``ALERTD_FEED_TIMEOUT``; a read that overruns is abandoned,
  and no second read of that feed starts until the thread is done.
- Any failure (HTTP status, time or size bound, garbage) is recorded on the feed's row and the last good copy stays
  in use: the feed's events are left exactly as they were.
- A 304 (or the same bytes again) costs one claim and one update; the stored copy is read again only when the
  planning window has rolled forward a day since it was last applied.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar

import sqlalchemy as sa

from alertd.calendar import FeedRead, feed_events
from alertd.channels import HttpClient
from alertd.clock import Clock
from alertd.delivery import Metrics
from alertd.domain import Calendar, SourceSpec
from alertd.errors import FeedError
from alertd.feeds.fetch import fetch_feed
from alertd.settings import Settings
from alertd.storage import (
    Fetched,
    SyncReport,
    claim_fetch,
    drop_feed_events,
    forget_feeds,
    last_body,
    record_failure,
    record_fetched,
    set_window_end,
    sync_feed,
)

__all__ = ["ROLL", "FeedRefresher"]

log = logging.getLogger("alertd.feeds")
T = TypeVar("T")
# A feed that has not changed is read again (from the stored copy) once the window has moved this far.
ROLL = timedelta(days=1)
# How soon a replica that found the interval taken by another one looks again.
_TAKEN_RETRY = timedelta(minutes=1)


class FeedRefresher:
    """Refreshes the calendar's sources; ``tick()`` is called by the daemon's timer every few seconds."""

    def __init__(
        self,
        *,
        engine: Any,
        clock: Clock,
        settings: Settings,
        run_db: Callable[[Callable[[], Any]], Awaitable[Any]],
        http: Callable[[], HttpClient],
        metrics: Metrics | None = None,
        on_change: Callable[[SyncReport], None] | None = None,
    ) -> None:
        self.engine, self.clock, self.settings = engine, clock, settings
        self._run_db, self._http, self._metrics = run_db, http, metrics
        self._on_change = on_change
        self._next: dict[str, datetime] = {}
        self._reading: dict[str, asyncio.Future[FeedRead]] = {}

    def forget_schedule(self) -> None:
        """Make every source due at the next tick (a reloaded calendar may have changed its URL or interval)."""
        self._next.clear()

    async def tick(self, calendar: Calendar) -> list[SyncReport]:
        """Refresh every source that is due here (each concurrently); the reports of those that changed events."""
        now = self.clock.now()
        due = [s for s in calendar.sources if self._next.get(s.id, now) <= now]
        results = await asyncio.gather(*(self.refresh(calendar, s) for s in due))
        return [r for r in results if r is not None]

    async def refresh(self, calendar: Calendar, source: SourceSpec, *, force: bool = False) -> SyncReport | None:
        """One refresh of ``source``; None when nothing changed or another replica holds this interval."""
        now = self.clock.now()
        location = source.url or source.path or ""
        self._next[source.id] = now + source.refresh
        claim = await self._db(lambda conn: claim_fetch(conn, source.id, location, now=now, every=source.refresh))
        if claim is None and not force:
            self._next[source.id] = now + min(source.refresh, _TAKEN_RETRY)
            return None
        claim = claim or Fetched(None, None, None, None)
        try:
            report = await self._refresh(calendar, source, claim, location, now)
        except FeedError as exc:
            await self._failed(source, str(exc), now)
            return None
        self._observe(source.id, ok=True, now=now)
        return report

    async def _refresh(
        self, calendar: Calendar, source: SourceSpec, claim: Fetched, location: str, now: datetime
    ) -> SyncReport | None:
        body = await fetch_feed(
            source,
            client=self._http() if source.url is not None else None,
            etag=claim.etag,
            last_modified=claim.last_modified,
            max_bytes=self.settings.feed_max_bytes,
            timeout=self.settings.feed_timeout,
            allow_private=self.settings.allow_private_targets,
        )
        content = body.content
        if content is not None and hashlib.sha256(content).hexdigest() == claim.body_sha256:
            content = None  # the same bytes without validators: nothing to read again
        window_end = now + timedelta(days=self.settings.recurrence_horizon)

        def record(conn: sa.Connection, kept: bytes | None, applied_end: datetime | None) -> None:
            record_fetched(
                conn,
                source.id,
                location,
                now=now,
                body=kept,
                etag=body.etag,
                last_modified=body.last_modified,
                window_end=applied_end,
            )

        if content is None:
            rolled = claim.window_end is None or window_end - claim.window_end >= ROLL
            if not rolled:
                await self._db(lambda conn: record(conn, None, None))
                return None
            stored, _ = await self._db(lambda conn: last_body(conn, source.id))
            if stored is None:
                raise FeedError(f"feed {source.id!r} answered 'not modified' but no copy of it is stored")
            content = stored
            fresh = False
        else:
            fresh = True
        read = await self._read(calendar, source, content, now)
        new_body = content if fresh else None

        def apply(conn: sa.Connection) -> SyncReport:
            report = sync_feed(
                conn,
                calendar,
                source.id,
                read.events,
                now=now,
                window_end=window_end,
                previous_end=claim.window_end,
            )
            record(conn, new_body, window_end)
            return report

        report: SyncReport = await self._db(apply)
        for reason in read.skipped[:5]:
            log.warning("feed %r: skipped %s", source.id, reason)
        if report.added or report.changed or report.removed:
            log.info("feed %r: %s", source.id, report)
            if self._metrics is not None:
                self._metrics.cancelled(report.cancelled_by)
            if self._on_change is not None:
                self._on_change(report)
        return report

    async def apply_stored(self, calendar: Calendar) -> None:
        """Re-read every source's stored copy with the calendar's current defaults (at start and after a reload),
        and drop the events of sources the calendar no longer names."""
        now = self.clock.now()
        keep = {s.id for s in calendar.sources}

        def drop(conn: sa.Connection) -> list[str]:
            drop_feed_events(conn, calendar, now=now)
            return forget_feeds(conn, keep)

        gone = await self._db(drop)
        if gone:
            log.info("feeds no longer in the calendar: %s; their events removed", ", ".join(gone))
        for source in calendar.sources:
            stored, previous_end = await self._db(functools.partial(_stored, source_id=source.id))
            if stored is None:
                continue
            try:
                read = await self._read(calendar, source, stored, now)
            except FeedError as exc:
                log.warning("%s (stored copy)", exc)
                continue

            def resync(
                conn: sa.Connection, s: SourceSpec = source, r: FeedRead = read, prev: datetime | None = previous_end
            ) -> SyncReport:
                end = now + timedelta(days=self.settings.recurrence_horizon)
                report = sync_feed(conn, calendar, s.id, r.events, now=now, window_end=end, previous_end=prev)
                set_window_end(conn, s.id, end)
                return report

            report = await self._db(resync)
            if (report.added or report.changed or report.removed) and self._on_change is not None:
                self._on_change(report)

    async def _read(self, calendar: Calendar, source: SourceSpec, content: bytes, now: datetime) -> FeedRead:
        """Parse in a worker thread under the feed time bound; an overrunning read keeps its thread to itself."""
        running = self._reading.get(source.id)
        if running is not None and not running.done():
            raise FeedError(f"feed {source.id!r}: the previous read is still running (over ALERTD_FEED_TIMEOUT)")
        loop = asyncio.get_running_loop()
        horizon = timedelta(days=self.settings.recurrence_horizon)
        future = loop.run_in_executor(
            None, lambda: feed_events(content, source, calendar.defaults, now=now, horizon=horizon)
        )
        self._reading[source.id] = future
        limit = self.settings.feed_timeout
        try:
            return await asyncio.wait_for(asyncio.shield(future), timeout=limit)
        except TimeoutError:
            raise FeedError(
                f"feed {source.id!r}: reading it took longer than {limit:g}s (ALERTD_FEED_TIMEOUT); "
                "the last good copy stays"
            ) from None

    async def _failed(self, source: SourceSpec, error: str, now: datetime) -> None:
        log.warning("%s", error)
        self._observe(source.id, ok=False, now=now)
        await self._db(lambda conn: record_failure(conn, source.id, error, now=now))

    def _observe(self, source_id: str, *, ok: bool, now: datetime) -> None:
        if self._metrics is not None:
            self._metrics.feed_fetched(source_id, ok=ok, at=now)

    async def _db(self, fn: Callable[[sa.Connection], T]) -> T:
        """Run ``fn`` in one transaction on the daemon's database thread."""

        def run() -> T:
            with self.engine.begin() as conn:
                return fn(conn)

        result: T = await self._run_db(run)
        return result


def _stored(conn: sa.Connection, *, source_id: str) -> tuple[bytes | None, datetime | None]:
    return last_body(conn, source_id)

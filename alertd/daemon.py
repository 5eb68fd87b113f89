"""The long-running daemon: wiring of storage, calendar, channels, dispatcher and the APScheduler timer.

APScheduler is only the clock here: one ``wake`` date job re-armed at the next due instant (capped), plus
interval jobs for calendar reload and lease recovery. Signals are handled by the CLI, which calls
:meth:`Daemon.request_stop` and :meth:`Daemon.request_reload`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger
from sqlalchemy.exc import DBAPIError

from alertd import __version__
from alertd.calendar import EventReuse, load_calendar
from alertd.channels import (
    Channel,
    ChannelContext,
    ChannelType,
    ScrubbedChannel,
    channel_secrets,
    channel_type,
)
from alertd.clock import Clock, wall_now
from alertd.delivery import (
    Dispatcher,
    DispatchSettings,
    DueListener,
    Metrics,
    RetryPolicy,
    calendar_rejected,
    prune_failing,
)
from alertd.domain import Calendar, ChannelSpec
from alertd.errors import AlertdError, CalendarError, CalendarIssue, StorageError
from alertd.settings import Settings, calendar_environ
from alertd.storage import (
    InstanceLock,
    MetaState,
    StoredCache,
    SyncReport,
    create_engine,
    create_reader_engine,
    describe_db_error,
    events_revision,
    is_sqlite,
    load_migrations,
    migrate,
    next_due,
    purpose_key,
    reclaim,
    server_key,
    sqlite_path,
    sync_calendar,
)
from alertd.timeexpr import tzdata

if TYPE_CHECKING:
    from alertd.api import HttpServer
    from alertd.channels import HttpClient
    from alertd.delivery import AckLinks
    from alertd.feeds import FeedRefresher

__all__ = ["Daemon", "build_channels", "preload"]

log = logging.getLogger("alertd.daemon")
# The timer fires this many real seconds before a notification is due and the dispatcher claims it then: the
# wake-up and database round trip (milliseconds, tens under load) are over when it comes due, and the delivery
# itself waits for its exact instant on the event loop (alertd.delivery.dispatcher.DispatchSettings.lead).
_LEAD = 0.05
# How often the occurrence window of recurring events is moved forward when the file does not change.
_ROLL_EVERY = timedelta(hours=1)
# How often the timer asks which calendar feeds are due (each has its own ``refresh``, at least a minute).
_FEED_TICK = 10.0


def preload(calendar_path: Path) -> None:
    """Import now what :meth:`Daemon.start` would import on its way: the migrations, the calendar's channel types
    and the HTTP client. For a replay, whose virtual clock may run 600 times faster than real time, so that a
    second of imports does not cost the rehearsal its first ten minutes. A bad calendar is left for start() to
    report."""
    from alertd.channels import make_client  # noqa: F401

    load_migrations()
    with contextlib.suppress(AlertdError):
        load_calendar(calendar_path, environ=calendar_environ())


def build_channels(specs: Mapping[str, ChannelSpec], ctx: ChannelContext) -> tuple[dict[str, Channel], dict[str, int]]:
    """Instantiate every channel of a calendar, with its concurrency limit."""
    channels: dict[str, Channel] = {}
    limits: dict[str, int] = {}
    for cid, spec in specs.items():
        kind = _kind(spec.type)
        # Wrapped so that no answer or error of a channel can carry a credential into logs, history or the API.
        channels[cid] = ScrubbedChannel(kind.build(spec, ctx), channel_secrets(spec, ctx.settings))
        limits[cid] = kind.concurrency
    return channels, limits


def _kind(name: str) -> ChannelType:
    kind = channel_type(name)
    # The calendar check refuses unknown and uninstalled types, so a loaded calendar's types always resolve.
    assert kind is not None, f"channel type {name!r} passed the calendar check but is not installed"
    return kind


class Daemon:
    """``start()`` → ``run()`` until ``request_stop()``; the database holds everything a restart needs."""

    def __init__(self, settings: Settings, *, clock: Clock, calendar_path: Path, db_url: str, out: TextIO) -> None:
        self.settings = settings
        self.clock = clock
        self.calendar_path = calendar_path
        self.db_url = db_url
        self.out = out
        self.worker = f"{socket.gethostname()}:{os.getpid()}"
        self.ack_links: AckLinks | None = None
        # After a rejected reload: a one-line summary (shown without a token) and the issues (behind the read token).
        self.reload_error: str | None = None
        self.reload_issues: list[CalendarIssue] = []
        # The last good load's events: a reload rebuilds (and re-digests) only the entries that changed.
        self._reuse = EventReuse()
        # What this daemon's last sync left in the event table: the next reads it back only if another wrote since.
        self._stored = StoredCache()
        self._loading: asyncio.Future[tuple[Calendar, list[CalendarIssue]]] | None = None
        self._stopping = asyncio.Event()
        self._reload_wanted = False
        self._file_stamp: tuple[int, int] | None = None
        self._events_rev: str | None = None
        # When the calendar was last synced: recurring events' window rolls forward from there (_roll_window).
        self._synced_at: datetime | None = None
        self._lock: InstanceLock | None = None
        self._pump: asyncio.Task[None] | None = None
        # PostgreSQL only: hears other replicas (and CLI/API writers) queue work sooner than our next wake-up.
        self._listener: DueListener | None = None
        # The virtual instant the timer is armed for; None while the loop is busy (then every NOTIFY wakes it).
        self._next_wake: datetime | None = None
        self.metrics = Metrics()
        self._web: HttpServer | None = None
        # Built when a calendar first names a feed: a calendar without ``sources:`` never loads the iCalendar stack.
        self.feeds: FeedRefresher | None = None
        # A (re)loaded calendar whose feeds' stored copies are still to be re-read with its defaults.
        self._feeds_pending: Calendar | None = None
        # Feed work runs one piece at a time: a re-read of stored copies never overlaps a fetch of newer ones.
        self._feeds_lock = asyncio.Lock()
        # Where the HTTP API listens once started (port 0 in the settings picks a free one).
        self.http_address: tuple[str, int] | None = None
        # Set at the end of start(): a daemon that never started logs its error, not "stopped".
        self._started = False
        self.scheduler = AsyncIOScheduler(
            timezone=UTC, job_defaults={"misfire_grace_time": None, "coalesce": True, "max_instances": 1}
        )

    def _make_http(self) -> HttpClient:
        from alertd.channels import make_client

        return make_client(self.settings.http_timeout, allow_private=self.settings.allow_private_targets)

    async def start(self) -> None:
        """Open storage, load and apply the calendar, start the timer. Raises AlertdError on user errors."""
        log.info("alertd %s starting; time zones from %s", __version__, tzdata())
        # In this order, each step before the ones a failure would waste or leave half done: the instance lock,
        # the HTTP port, the schema, the calendar; only then "started".
        self.engine = create_engine(self.db_url)
        path = sqlite_path(self.db_url)
        if path is not None:
            self._lock = InstanceLock(path)
            self._lock.acquire()
        if self.settings.http_port is not None:
            self._bind_http(self.settings.http_host, self.settings.http_port)
        migrate(self.engine)
        # API readers get their own connections: a slow plan or export never delays a delivery's claim or record.
        self.read_engine = create_reader_engine(self.db_url, readers=self.settings.api_readers)
        calendar, warnings = await self._load()
        for issue in warnings:
            log.warning("%s", issue)
        self._file_stamp = self._stamp()
        now = self.clock.now()
        try:
            with self.engine.begin() as conn:
                # With SQLite the file lock proves no other daemon is sending, so every row in flight is orphaned.
                orphans = reclaim(conn, now=now, everything=is_sqlite(self.engine))
                horizon = self.settings.recurrence_horizon
                report = sync_calendar(conn, calendar, now=now, horizon_days=horizon, cache=self._stored)
                gone = prune_failing(conn, calendar.channels)
                upcoming = next_due(conn)
            self._synced_at = now
        except DBAPIError as exc:
            raise StorageError(describe_db_error(self.db_url, exc)) from None
        if orphans:
            log.warning("%d notifications were being sent when alertd last stopped; resending them", orphans)
        log.info("calendar %s: %s", self.calendar_path, report)
        self.metrics.cancelled(report.cancelled_by)
        if gone:
            log.info("forgot the failing mark of %s: no longer in the calendar", ", ".join(gone))
        if upcoming is None and not calendar.sources:
            # A new user's first run with last year's example calendar: say so rather than sit silently.
            what = f"every event of {self.calendar_path} ({len(calendar.events)}) is in the past or has no reminders"
            if not calendar.events:
                what = f"{self.calendar_path} has no events"
            log.warning("nothing is scheduled: %s; alertd waits for calendar changes (see 'alertd plan')", what)
        # Channel state lives in the database, so replicas and restarts share it (e.g. Slack cards' ts). The HTTP
        # client is built when the first HTTP channel is (never for a calendar of console channels).
        self.ctx = ChannelContext(
            http=None, out=self.out, settings=self.settings, state=MetaState(self.engine), make_http=self._make_http
        )
        channels, limits = build_channels(calendar.channels, self.ctx)
        s = self.settings
        self.dispatcher = Dispatcher(
            engine=self.engine,
            clock=self.clock,
            calendar=calendar,
            channels=channels,
            concurrency=limits,
            settings=DispatchSettings(
                worker=self.worker,
                catch_up=s.catch_up,
                late_after=s.late_after,
                lease=s.lease,
                capacity=s.batch_size,
                concurrency=s.concurrency,
                policy=RetryPolicy(max_attempts=s.max_attempts, base=s.retry_base, cap=s.retry_cap),
                lead=_LEAD,
            ),
            observer=self.metrics.observe,
        )
        self.ack_links = self._ack_links()
        if self.ack_links is not None:
            self.dispatcher.decorate = self.ack_links.decorate
        self.calendar = calendar
        self.metrics.watch_queue(self.engine, self.clock)
        self.scheduler.start()
        self.scheduler.add_job(self._check_reload, "interval", seconds=s.reload_interval, id="reload")
        # At least four checks per lease: a dead replica's rows wait at most about 1.25 leases to be resent.
        self.scheduler.add_job(self._reclaim, "interval", seconds=min(30.0, max(1.0, s.lease / 4)), id="reclaim")
        self._pump = asyncio.create_task(self._run_pump())
        await self._feeds_changed(calendar)
        self.scheduler.add_job(self._refresh_feeds, "interval", seconds=_FEED_TICK, id="feeds")
        if not is_sqlite(self.engine):
            self._start_listener()
        if self._web is not None:
            self.http_address = await self._web.start()
        self._started = True
        log.info("started")

    def _start_listener(self) -> None:
        loop = asyncio.get_running_loop()

        def heard(due: datetime | None) -> None:
            loop.call_soon_threadsafe(self._heard, due)

        def connected() -> None:
            # NOTIFYs sent while we were not listening are lost: a dispatcher step re-reads what is due (catch-up).
            loop.call_soon_threadsafe(self.dispatcher.kick.set)

        self._listener = DueListener(self.engine.url, on_due=heard, on_connect=connected)
        self._listener.start()

    def _heard(self, due: datetime | None) -> None:
        if due is None or self._next_wake is None or due < self._next_wake:
            log.debug("wake: another writer queued work due %s", due)
            self.dispatcher.kick.set()

    def _bind_http(self, host: str, port: int) -> None:
        # Imported here: a daemon without ALERTD_HTTP_PORT never loads the web stack.
        from alertd.api import HttpServer
        from alertd.web import create_dashboard_app

        app = create_dashboard_app(self)
        self._web = HttpServer(app, host=host, port=port, access_log=self.settings.http_access_log)
        self._web.bind()

    @property
    def delivering(self) -> bool:
        """The delivery loop is running (it stops only on shutdown)."""
        return self._pump is not None and not self._pump.done()

    async def run(self) -> None:
        """Deliver until a stop is requested, then drain in-flight sends for up to the drain timeout."""
        await self._stopping.wait()
        await self.shutdown()

    def request_stop(self) -> None:
        self._stopping.set()
        if hasattr(self, "dispatcher"):
            self.dispatcher.kick.set()

    def request_reload(self) -> None:
        self._reload_wanted = True
        self.scheduler.add_job(self._check_reload, id="reload-now", replace_existing=True)

    async def shutdown(self) -> None:
        self._stopping.set()
        if self._web is not None:
            # First, so no API write lands while deliveries drain.
            await self._web.stop()
            self._web = None
        if self._pump is not None:
            self.dispatcher.kick.set()
            await self._pump
            abandoned = await self.dispatcher.drain(self.settings.drain_timeout)
            if abandoned:
                log.warning("stopped with %d sends unfinished; they will be resent with the same id", abandoned)
            self.dispatcher.close()
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        http = self.ctx.built_client() if hasattr(self, "ctx") else None
        if http is not None:
            await http.aclose()
        if hasattr(self, "read_engine"):
            self.read_engine.dispose()
        if hasattr(self, "engine"):
            self.engine.dispose()
        if self._listener is not None:
            await asyncio.to_thread(self._listener.stop)
            self._listener = None
        if self._lock is not None:
            self._lock.release()
        if self._started:
            log.info("stopped")

    async def _run_pump(self) -> None:
        pause = 1.0
        while not self._stopping.is_set():
            self.dispatcher.kick.clear()
            self._next_wake = None
            try:
                claimed, due = await self.dispatcher.step()
            except (DBAPIError, StorageError):
                await self._wait_kick(pause)
                pause = min(pause * 2, 30.0)
                continue
            except Exception:
                # A bug must not silently stop deliveries: report it and keep the loop alive.
                log.exception("dispatcher step failed; retrying in %.0fs", pause)
                await self._wait_kick(pause)
                pause = min(pause * 2, 30.0)
                continue
            pause = 1.0
            if claimed:
                await asyncio.sleep(0)
                continue
            # Armed even with sends in flight: a hanging receiver must not hold back other channels' due rows.
            self._arm(due)
            await self.dispatcher.kick.wait()

    async def _wait_kick(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.dispatcher.kick.wait(), timeout=seconds)

    def _arm(self, due: datetime | None) -> None:
        """Wake at ``due`` (or after the longest sleep, in case the wall clock jumped or another writer queued)."""
        if due is None:
            delay = self.settings.max_sleep
        else:
            delay = min(max(0.0, self.clock.real_delay(due) - _LEAD), self.settings.max_sleep)
        run_at = wall_now() + timedelta(seconds=delay)
        self._next_wake = self.clock.now() + timedelta(seconds=delay * self.clock.speed)
        self.scheduler.add_job(self._wake, DateTrigger(run_date=run_at), id="wake", replace_existing=True)

    async def _wake(self) -> None:
        log.debug("wake: timer fired")
        self.dispatcher.kick.set()

    async def _reclaim(self) -> None:
        try:
            count = await self.dispatcher.reclaim_expired()
        except DBAPIError:
            return
        if count:
            log.warning("%d notifications had an expired lease; queued again with the same id", count)
            self.dispatcher.kick.set()

    def _stamp(self) -> tuple[int, int] | None:
        try:
            st = self.calendar_path.stat()
        except OSError:
            return None
        return (st.st_mtime_ns, st.st_size)

    async def _check_events(self) -> None:
        """Wake the dispatcher when database-owned events changed (CLI or API, maybe in another process)."""

        def read() -> str | None:
            with self.engine.connect() as conn:
                return events_revision(conn)

        try:
            revision = await self.dispatcher.db(read)
        except DBAPIError:
            return
        if revision != self._events_rev:
            # Their change notices are due now; without a kick they would wait for the next timer.
            self._events_rev = revision
            self.dispatcher.kick.set()

    async def _tell_admin_rejected(self, problems: list[str]) -> None:
        """Queue the admin channel's notice of a rejected edit (the last good calendar names the channel)."""
        if self.calendar.admin is None:
            return
        now = self.clock.now()

        def queue() -> bool:
            with self.engine.begin() as conn:
                return calendar_rejected(conn, self.calendar.admin, problems, now=now)

        try:
            if await self.dispatcher.db(queue):
                self.dispatcher.kick.set()
        except DBAPIError as exc:
            log.error("could not queue the admin notice: %s", describe_db_error(self.db_url, exc))

    async def _load(self) -> tuple[Calendar, list[CalendarIssue]]:
        """Read and check the calendar in a worker thread, bounded by ALERTD_CALENDAR_LOAD_TIMEOUT.

        Reading files and rendering sample templates must never hold up deliveries or health probes.
        """
        limit = self.settings.calendar_load_timeout
        loop = asyncio.get_running_loop()
        self._loading = loop.run_in_executor(
            None,
            lambda: load_calendar(
                self.calendar_path, environ=calendar_environ(), settings=self.settings, reuse=self._reuse
            ),
        )
        try:
            return await asyncio.wait_for(asyncio.shield(self._loading), timeout=limit)
        except TimeoutError:
            message = (
                f"reading and checking the calendar took longer than {limit:g}s; check that its files are on a "
                "responsive file system (ALERTD_CALENDAR_LOAD_TIMEOUT)"
            )
            raise CalendarError([CalendarIssue(str(self.calendar_path), 1, "", message)]) from None

    def _rejected(self, issues: list[CalendarIssue]) -> None:
        errors = sum(i.severity == "error" for i in issues)
        # No text from the file: /readyz answers without a token; the issues are in the log and the calendar status.
        self.reload_error = f"calendar reload rejected: {errors} error{'s' if errors != 1 else ''}, see the log"
        self.reload_issues = list(issues)
        self.metrics.calendar_reloaded(ok=False)
        log.error("calendar change rejected, still running the last good version:")
        for issue in issues:
            log.error("  %s", issue)

    async def _roll_window(self) -> None:
        """Sync the unchanged calendar again once the window of its recurring events is due to move forward: the
        occurrences that came within the horizon are planned (quietly), those long past are let go."""
        now = self.clock.now()
        if not self.calendar.series or (self._synced_at is not None and now - self._synced_at < _ROLL_EVERY):
            return
        calendar, horizon = self.calendar, self.settings.recurrence_horizon

        def apply() -> SyncReport:
            with self.engine.begin() as conn:
                return sync_calendar(
                    conn, calendar, now=now, horizon_days=horizon, occurrences_only=True, cache=self._stored
                )

        try:
            report = await self.dispatcher.db(apply)
        except DBAPIError as exc:
            log.error("moving the recurrence window postponed: %s", describe_db_error(self.db_url, exc))
            return
        self._synced_at = now
        if report.added or report.removed or report.changed:
            log.info("recurring events: window moved to %s: %s", now + timedelta(days=horizon), report)
        self.metrics.cancelled(report.cancelled_by)
        self.dispatcher.kick.set()

    def _ack_links(self) -> AckLinks | None:
        """Signed acknowledgement links, when ALERTD_PUBLIC_URL says where people reach this daemon."""
        if self.settings.public_url is None:
            return None
        # Imported here: signed links (itsdangerous) exist only where ALERTD_PUBLIC_URL says people reach us.
        from alertd.delivery import AckLinks

        with self.engine.begin() as conn:
            key = purpose_key(server_key(conn, self.settings.secret_key), "ack-link")
        return AckLinks(key, self.settings.public_url, self.settings.ack_link_ttl, self.clock)

    async def _check_reload(self) -> None:
        await self._check_events()
        with contextlib.suppress(DBAPIError):
            # A channel cleared by ``alertd send-test`` in another process: its held notifications are due now.
            await self.dispatcher.poll_health()
        stamp = self._stamp()
        if stamp == self._file_stamp and not self._reload_wanted:
            await self._roll_window()
            return
        if self._loading is not None and not self._loading.done():
            # A load that overran its time bound may still hold its thread: no second one beside it.
            self._file_stamp = None
            return
        self._file_stamp, self._reload_wanted = stamp, False
        try:
            calendar, warnings = await self._load()
        except CalendarError as exc:
            changed = list(exc.issues) != self.reload_issues
            self._rejected(exc.issues)
            if changed:
                await self._tell_admin_rejected([str(i) for i in exc.issues if i.severity == "error"])
            return
        except Exception:
            log.exception("calendar reload failed unexpectedly, still running the last good version")
            message = "internal error while loading the calendar; see the daemon's log"
            self._rejected([CalendarIssue(str(self.calendar_path), 1, "", message)])
            return
        for issue in warnings:
            log.warning("%s", issue)
        now = self.clock.now()

        def apply() -> tuple[SyncReport, list[str]]:
            with self.engine.begin() as conn:
                horizon = self.settings.recurrence_horizon
                report = sync_calendar(conn, calendar, now=now, horizon_days=horizon, cache=self._stored)
                gone = prune_failing(conn, calendar.channels)
            return report, gone

        try:
            report, gone = await self.dispatcher.db(apply)
        except DBAPIError as exc:
            self._file_stamp = None  # try again on the next check
            log.error("calendar reload postponed: %s", describe_db_error(self.db_url, exc))
            return
        self.reload_error, self.reload_issues = None, []
        self.metrics.calendar_reloaded(ok=True)
        if calendar.channels != self.calendar.channels:
            channels, limits = build_channels(calendar.channels, self.ctx)
        else:
            channels, limits = (
                self.dispatcher.channels,
                {c: _kind(s.type).concurrency for c, s in calendar.channels.items()},
            )
        self.dispatcher.use(calendar, channels, limits)
        self.calendar = calendar
        self._synced_at = now
        forgot = f"; forgot the failing mark of {', '.join(gone)} (removed)" if gone else ""
        log.info("calendar reloaded: %s%s", report, forgot)
        self.metrics.cancelled(report.cancelled_by)
        self.dispatcher.kick.set()
        await self._feeds_changed(calendar)

    async def _feeds_changed(self, calendar: Calendar) -> None:
        """After a (re)load: drop the events of feeds gone from the calendar, re-read the stored copies with the new
        defaults, and fetch every feed now rather than at its next interval."""
        if not calendar.sources:
            from alertd.storage import drop_feed_events, forget_feeds

            def drop() -> None:
                with self.engine.begin() as conn:
                    report = drop_feed_events(conn, calendar, now=self.clock.now())
                    forget_feeds(conn, set())
                if report.removed:
                    log.info("calendar feeds removed: %d of their events dropped", len(report.removed))

            with contextlib.suppress(DBAPIError):
                await self.dispatcher.db(drop)
            return
        if self.feeds is None:
            from alertd.feeds import FeedRefresher

            self.feeds = FeedRefresher(
                engine=self.engine,
                clock=self.clock,
                settings=self.settings,
                run_db=self.dispatcher.db,
                http=self.ctx.client,
                metrics=self.metrics,
                on_change=lambda _report: self.dispatcher.kick.set(),
            )
        # In the background: reading big feeds must delay neither the start nor the reload's own outcome.
        self._feeds_pending = calendar
        self.feeds.forget_schedule()
        self.scheduler.add_job(self._refresh_feeds, id="feeds-now", replace_existing=True)

    async def _refresh_feeds(self) -> None:
        if self.feeds is None or not self.calendar.sources:
            return
        async with self._feeds_lock:
            await self._refresh_feeds_now(self.feeds)

    async def _refresh_feeds_now(self, feeds: FeedRefresher) -> None:
        try:
            pending, self._feeds_pending = self._feeds_pending, None
            if pending is not None:
                await feeds.apply_stored(pending)
            await feeds.tick(self.calendar)
        except DBAPIError as exc:
            log.error("calendar feeds not refreshed: %s", describe_db_error(self.db_url, exc))
        except Exception:
            # A bug must not stop the refreshes for good: report it, and the next tick tries again.
            log.exception("calendar feed refresh failed unexpectedly")

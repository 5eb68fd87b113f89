"""Claim due notifications, render them, send each through its channel once, record what happened.

The dispatcher never sleeps on its own: :meth:`Dispatcher.step` does one round of work and reports when the next
notification is due; the daemon's timer calls it again then (or sooner, when something is queued or finishes).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from operator import attrgetter
from typing import Any, TypeVar, cast

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from alertd.channels import Channel, PartialAnswer
from alertd.clock import Clock
from alertd.delivery.admin import channel_failing
from alertd.delivery.health import (
    ChannelHealth,
    failing_channels,
    health_revision,
    is_destination_failure,
    mark_failing,
)
from alertd.delivery.quiet import held_detail, quiet_until
from alertd.delivery.ratelimit import TokenBucket, channel_limit
from alertd.delivery.retry import RetryPolicy
from alertd.domain import Calendar, EventSpec, Kind, Message
from alertd.errors import DeliveryError, StorageError, TemplateError
from alertd.messages import render
from alertd.planning import digest_events
from alertd.storage import (
    EVENT,
    Claimed,
    HeldConnection,
    Outcome,
    claim,
    describe_db_error,
    drop_acknowledged,
    event_from_row,
    hold,
    load_events,
    next_due,
    reclaim,
    record,
    supersede_countdowns,
)

__all__ = ["DispatchSettings", "Dispatcher"]

log = logging.getLogger("alertd.dispatch")
_due_at = attrgetter("due_at")
T = TypeVar("T")
# Outcomes are stored in batches: a finished send wakes the loop at once only when its channel can take more work
# (or nothing else is in flight, or a channel just failed); otherwise within this many seconds, or as soon as this
# many outcomes wait. One write transaction per finished send cost more than the send itself under load.
_RECORD_AFTER = 0.05
_RECORD_BATCH = 100


@dataclass(frozen=True, slots=True)
class DispatchSettings:
    worker: str
    catch_up: timedelta = timedelta(hours=6)
    late_after: timedelta = timedelta(seconds=60)
    lease: float = 120.0
    capacity: int = 200
    concurrency: int = 10
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    # Real seconds: rows coming due this soon are claimed now, so the database round trip is done when they come
    # due, and each is sent at its own instant (never before). The daemon arms its timer this much early.
    lead: float = 0.0


@dataclass(slots=True)
class _Work:
    item: Claimed
    event: EventSpec | None
    digest: list[EventSpec]


class Dispatcher:
    """Moves due notifications from the outbox to their channels."""

    def __init__(
        self,
        *,
        engine: Engine,
        clock: Clock,
        calendar: Calendar,
        channels: Mapping[str, Channel],
        concurrency: Mapping[str, int],
        settings: DispatchSettings,
        observer: Callable[[Claimed, Outcome], None] | None = None,
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.settings = settings
        # A send later than this after its instant is marked late (a clock second of slack).
        self._late_after = settings.late_after + timedelta(seconds=clock.speed)
        self._db = ThreadPoolExecutor(max_workers=1, thread_name_prefix="alertd-db")
        # Used by the database thread alone, held while deliveries are under way (given back when they run out).
        self._held = HeldConnection(engine)
        self._closed = False
        # Claimed work waits in its channel's queue for one of the channel's workers (at most its concurrency).
        # A fixed pool per channel, not a task per notification: under load the task, its semaphore and its done
        # callback cost a tenth of a delivery.
        self._queues: dict[str, deque[_Work]] = {}
        self._workers: set[asyncio.Task[None]] = set()
        self._running: dict[str, int] = {}
        # Deliveries in flight (queued or sending) per channel.
        self._queued: dict[str, int] = {}
        self._record_timer: asyncio.TimerHandle | None = None
        # The record timer fired: the next step stores outcomes even when it can claim nothing.
        self._record_overdue = False
        self._results: list[Outcome] = []
        self._db_down: str | None = None
        self._buckets: dict[str, TokenBucket] = {}
        # Rate-limited channels whose last claim was cut short by their bucket: wake when it refills.
        self._starved: set[str] = set()
        # Channels marked failing (read from the database whenever ``health_rev`` changes) and marks to write.
        self._failing: dict[str, ChannelHealth] = {}
        self._health_rev: str | None = None
        self._health_loaded = False
        self._marks: list[tuple[str, str, datetime]] = []
        self.kick = asyncio.Event()
        self.sent_total = 0
        # Adds what only the daemon knows to each message before it is sent (the signed ack link).
        self.decorate: Callable[[Message], Message] | None = None
        # Told of every outcome as it is produced (the daemon's metrics); must be quick and must not raise.
        self.observer = observer
        self.use(calendar, channels, concurrency)

    def use(self, calendar: Calendar, channels: Mapping[str, Channel], concurrency: Mapping[str, int]) -> None:
        """Switch to a new calendar and channel set (after a reload); deliveries in flight finish as they are."""
        self.calendar = calendar
        self.channels = dict(channels)
        self._caps = {cid: max(1, min(concurrency.get(cid, 1), self.settings.concurrency)) for cid in channels}
        buckets: dict[str, TokenBucket] = {}
        for cid, spec in calendar.channels.items():
            limit = channel_limit(spec)
            old = self._buckets.get(cid)
            if limit is not None:
                # A reload must not refill a bucket the channel just emptied.
                buckets[cid] = old if old is not None and old.limit == limit else TokenBucket(limit, self.clock)
        self._buckets = buckets
        self._starved &= set(buckets)

    def pace_test(self, channel_id: str) -> datetime | None:
        """Spend one of ``channel_id``'s rate-limit tokens on a test message: None when spent (or the channel is not
        paced), else the instant a token is available again. A test must not push the service past its limit."""
        bucket = self._buckets.get(channel_id)
        if bucket is None:
            return None
        if bucket.available() < 1:
            return bucket.ready_at()
        bucket.take(1)
        return None

    async def db(self, fn: Any, *args: Any) -> Any:
        """Run blocking database work on the one database thread, keeping the event loop free."""
        return await asyncio.get_running_loop().run_in_executor(self._db, fn, *args)

    @property
    def inflight(self) -> int:
        return sum(self._queued.values())

    async def step(self) -> tuple[int, datetime | None]:
        """One round: store finished outcomes, claim what is due, start sending it.

        Returns how many notifications were claimed and when the next one is due (channels with a full queue
        left out: a finishing send steps again).
        """
        room = self.settings.capacity - self.inflight
        busy = [cid for cid, cap in self._caps.items() if self._busy(cid) >= 2 * cap]
        if busy and len(busy) == len(self._caps):
            # Every channel has a full queue: a claim would skip them all, after scanning every due row to say so.
            room = 0
            if not self._marks and len(self._results) < _RECORD_BATCH and not self._record_overdue:
                # Nothing to claim and only a few outcomes: they are stored within _RECORD_AFTER instead, with more
                # of them. Under load every other round was such a round trip.
                if self._results and self._record_timer is None:
                    self._record_timer = asyncio.get_running_loop().call_later(_RECORD_AFTER, self._record_due)
                return 0, None
        self._record_overdue = False
        results, self._results = self._results, []
        marks, self._marks = self._marks, []
        if self._record_timer is not None:
            self._record_timer.cancel()
            self._record_timer = None
        now = self.clock.now()
        # Wanted even with sends in flight: one may hang until its timeout, and rows coming due meanwhile on other
        # channels must not wait for it to finish.
        want_due = True
        try:
            work, due = await self.db(self._step_sync, results, now, room, busy, want_due, marks, self.inflight > 0)
        except (DBAPIError, StorageError) as exc:
            self._results = results + self._results
            self._marks = marks + self._marks
            self._report_db_down(exc)
            raise
        if self._db_down is not None:
            log.warning("database reachable again; resuming deliveries")
            self._db_down = None
        queues, queued = self._queues, self._queued
        for w in work:
            channel = w.item.channel
            queue = queues.get(channel)
            if queue is None:
                queue = queues[channel] = deque()
            queue.append(w)
            queued[channel] = queued.get(channel, 0) + 1
        for channel in {w.item.channel for w in work}:
            idle = min(self._caps.get(channel, 1) - self._running.get(channel, 0), len(self._queues[channel]))
            for _ in range(idle):
                self._running[channel] = self._running.get(channel, 0) + 1
                self._workers.add(asyncio.create_task(self._worker(channel)))
        self.sent_total += sum(1 for r in results if r.state == "sent")
        return len(work), due

    def _report_db_down(self, exc: BaseException) -> None:
        text = describe_db_error(str(self.engine.url), exc) if isinstance(exc, DBAPIError) else str(exc)
        if self._db_down is None:
            log.error("%s; deliveries paused, nothing is lost, retrying", text)
        self._db_down = text

    def _busy(self, channel: str) -> int:
        return self._queued.get(channel, 0)

    async def _worker(self, channel: str) -> None:
        """Deliver the channel's queued work, one at a time, until its queue is empty."""
        queue = self._queues[channel]
        try:
            while queue:
                work = queue.popleft()
                try:
                    await self._deliver(work)
                except Exception as exc:  # a bug must not stop the channel's worker or lose the row
                    log.exception("internal error while preparing %s", work.item.id)
                    # Only the type is stored: the text may quote event data or template source; the log has all.
                    detail = f"internal error while preparing the message: {type(exc).__name__} (see the log)"
                    self._failed(work.item, DeliveryError(detail), 0.0)
                finally:
                    self._done(channel)
        finally:
            self._running[channel] -= 1
            self._workers.discard(asyncio.current_task())

    def _done(self, channel: str) -> None:
        left = self._queued.get(channel, 1) - 1
        if left > 0:
            self._queued[channel] = left
        else:
            self._queued.pop(channel, None)
        inflight = self.inflight
        urgent = (
            not inflight
            or self._marks
            or len(self._results) >= _RECORD_BATCH
            # The channel's queue runs low: a step claims more for it (a busy channel is skipped by claims).
            or left < 2 * self._caps.get(channel, 1)
            # Capacity was full: another channel with room may claim again.
            or (
                inflight + 1 >= self.settings.capacity
                and any(self._busy(c) < 2 * cap for c, cap in self._caps.items() if c != channel)
            )
        )
        if urgent:
            self.kick.set()
        elif self._results and self._record_timer is None:
            self._record_timer = asyncio.get_running_loop().call_later(_RECORD_AFTER, self._record_due)

    def _record_due(self) -> None:
        self._record_timer = None
        self._record_overdue = True
        self.kick.set()

    def _step_sync(
        self,
        results: list[Outcome],
        now: datetime,
        room: int,
        busy: list[str],
        want_due: bool = True,
        marks: list[tuple[str, str, datetime]] | None = None,
        keep: bool = False,
    ) -> tuple[list[_Work], datetime | None]:
        """One round's database work in one transaction; ``keep``: deliveries are in flight, whose outcomes the
        next round stores, so the connection stays held (as it does when this round claims anything)."""
        dropped: list[Claimed] = []
        with self._held.begin() as conn:
            if results:
                record(conn, results, worker=self.settings.worker)
            # A round that can neither claim nor ask when anything is due (every channel's queue full: it only stores
            # outcomes) has no use for the failing set; the next round that claims reads it first.
            self._sync_health(conn, marks or [], read=room > 0 or bool(marks) or not set(self.channels) <= set(busy))
            claimed: list[Claimed] = []
            skip = set(busy) | set(self._failing)
            if room > 0:
                if self.calendar.defaults.countdown is not None:
                    # Without digests in the calendar none is queued (a sync cancels them): skip scanning due rows.
                    supersede_countdowns(conn, now=now)
                skip |= self._hold_quiet(conn, now, skip)
                due_by = now + timedelta(seconds=self.settings.lead * self.clock.speed)
                claimed = self._claim(conn, due_by, room, skip)
                # Still unacknowledged? Asked here, in the claim's transaction, so a late ack wins.
                kept = drop_acknowledged(conn, claimed, now=now)
                dropped = [c for c in claimed if c not in kept] if len(kept) < len(claimed) else []
                claimed = kept
            work = self._load_context(conn, claimed) if claimed else []
            due = None
            if not claimed and want_due:
                # Failing channels wait for a clear (the daemon kicks), starved ones for their bucket, busy ones for
                # a send to finish. With every channel left out there is nothing to ask: the query would walk all
                # of their due rows (the whole backlog of a busy channel) to find none.
                waiting = [*self._failing, *self._starved, *busy]
                due = None if set(self.channels) <= set(waiting) else next_due(conn, skip_channels=waiting)
                refills = [self._buckets[c].ready_at() for c in self._starved if c in self._buckets]
                due = min([d for d in (due, *refills) if d is not None], default=None)
        if not work and not keep:
            self._held.release()
        # Outcomes like any other (the metric counts them), told once the cancellation is committed.
        for item in dropped:
            gone = Outcome(id=item.id, state="cancelled", at=now, detail="acknowledged first", attempted=False)
            self._observe(item, gone)
        return work, due

    def _sync_health(self, conn: sa.Connection, marks: list[tuple[str, str, datetime]], *, read: bool = True) -> None:
        """Store new failing marks (logging each once) and, when ``read``, reload the failing set if anyone changed
        it."""
        for channel, reason, at in marks:
            if mark_failing(conn, channel, reason, now=at):
                channel_failing(conn, self.calendar.admin, channel, reason, since=at, now=at)
                log.error(
                    "channel %s is failing: %s; its notifications are held (not lost) until "
                    "'alertd send-test %s' succeeds",
                    channel,
                    reason,
                    channel,
                )
        if not read:
            return
        revision = health_revision(conn)
        if not self._health_loaded or revision != self._health_rev:
            self._failing = failing_channels(conn)
            self._health_rev, self._health_loaded = revision, True

    def _hold_quiet(self, conn: sa.Connection, now: datetime, skip: set[str]) -> set[str]:
        """Move the due rows of channels in quiet hours to the window's end; return those channels."""
        quiet: set[str] = set()
        for cid, spec in self.calendar.channels.items():
            until = quiet_until(spec.quiet_hours, spec.timezone, now)
            if until is None or cid in skip:
                continue
            held = hold(conn, cid, until=until, detail=held_detail(until, spec.timezone), now=now)
            if held:
                log.info("held %d notifications for %s: %s", held, cid, held_detail(until, spec.timezone))
            quiet.add(cid)
        return quiet

    def _claim(self, conn: sa.Connection, now: datetime, room: int, skip: set[str]) -> list[Claimed]:
        """Claim due rows: unpaced channels in one query, then each rate-limited channel up to its tokens.

        Rows a bucket cannot pay for now stay pending in the database, not queued in memory.
        """
        lease_until = now + timedelta(seconds=self.settings.lease * self.clock.speed)
        paced = [c for c in self._buckets if c not in skip]
        claimed = claim(
            conn,
            now=now,
            worker=self.settings.worker,
            lease_until=lease_until,
            limit=room,
            skip_channels=sorted(skip | set(self._buckets)),
        )
        unpaced = len(claimed)
        for cid in paced:
            left = room - len(claimed)
            if left <= 0:
                break
            bucket = self._buckets[cid]
            tokens = bucket.available()
            if tokens <= 0:
                self._starved.add(cid)
                continue
            got = claim(
                conn,
                now=now,
                worker=self.settings.worker,
                lease_until=lease_until,
                limit=min(tokens, left),
                only_channel=cid,
            )
            bucket.take(len(got))
            if len(got) == tokens:
                self._starved.add(cid)
            else:
                self._starved.discard(cid)
            claimed.extend(got)
        if len(claimed) > unpaced:
            # Each claim comes sorted; only rows of paced channels added to it need a merge.
            claimed.sort(key=_due_at)
        return claimed

    async def poll_health(self) -> None:
        """Kick the loop when channel health changed elsewhere (``alertd send-test`` cleared a channel)."""

        def read() -> str | None:
            with self.engine.connect() as conn:
                return health_revision(conn)

        if await self.db(read) != self._health_rev:
            self.kick.set()

    @property
    def failing(self) -> Mapping[str, ChannelHealth]:
        """Channels currently marked failing, as last read from the database."""
        return dict(self._failing)

    def _load_context(self, conn: sa.Connection, claimed: list[Claimed]) -> list[_Work]:
        events = load_events(conn, (c.event_id for c in claimed if c.event_id), include_removed=True)
        event = events.get
        # Only countdown digests gather events; every other row (nearly all of them) gets no list to fill.
        return [
            _Work(c, event(c.event_id or ""), self._digest(conn, c) if c.kind == "countdown" else []) for c in claimed
        ]

    def _digest(self, conn: sa.Connection, item: Claimed) -> list[EventSpec]:
        spec = self.calendar.defaults.countdown
        channel = self.calendar.channels.get(item.channel)
        if item.kind != "countdown" or spec is None or channel is None:
            return []
        lo = item.due_at - timedelta(days=2)
        hi = item.due_at + timedelta(days=spec.within_days + 2)
        rows = conn.execute(
            sa.select(EVENT).where(EVENT.c.removed.is_(False), EVENT.c.starts_at >= lo, EVENT.c.starts_at < hi)
        )
        return digest_events((event_from_row(r) for r in rows), channel, spec, item.due_at)

    def _finish(self, item: Claimed, state: str, detail: str, **extra: Any) -> None:
        outcome = Outcome(id=item.id, state=state, at=self.clock.now(), detail=detail, **extra)
        self._results.append(outcome)
        self._observe(item, outcome)

    def _observe(self, item: Claimed, outcome: Outcome) -> None:
        if self.observer is not None:
            self.observer(item, outcome)

    async def _deliver(self, work: _Work) -> None:
        item = work.item
        now = self.clock.now()
        if item.due_at > now:
            for _ in range(3):
                # Claimed up to ``lead`` early: wait for the instant itself (bounded, for clocks that stand still).
                wait = self.clock.real_delay(item.due_at)
                if wait <= 0 or wait > self.settings.lead:
                    break
                await asyncio.sleep(wait)
            now = self.clock.now()
        overdue = now - item.due_at
        # A held row (quiet hours, failing channel) counts its catch-up from its release and outlives its expiry:
        # holding it was alertd's choice, so it is delivered late rather than missed.
        since = item.due_at if item.held_until is None else max(item.due_at, item.held_until)
        if item.attempts == 1 and now - since > self.settings.catch_up:
            hours = (now - since).total_seconds() / 3600
            self._finish(item, "missed", f"overdue by {hours:.1f}h, beyond the catch-up window", attempted=False)
            return
        if item.expires_at is not None and now > item.expires_at and item.held_until is None:
            why = "the event has already started" if item.kind == "reminder" else "a newer digest replaces it"
            self._finish(item, "missed" if item.attempts == 1 else "dead", f"not sent: {why}", attempted=False)
            return
        channel = self.channels.get(item.channel)
        spec = self.calendar.channels.get(item.channel)
        if channel is None or spec is None:
            self._finish(item, "dead", f"channel {item.channel!r} is no longer in the calendar", attempted=False)
            return
        if item.kind in ("reminder", "change", "ack", "escalation") and work.event is None:
            self._finish(item, "dead", f"event {item.event_id!r} no longer exists", attempted=False)
            return
        if item.kind == "countdown" and not work.digest:
            self._finish(item, "cancelled", "no event left to count down", attempted=False)
            return
        late = overdue > self._late_after
        kind = cast(Kind, item.kind)

        def make() -> Message:
            return render(
                id=item.id,
                kind=kind,
                channel=spec,
                due_at=item.due_at,
                now=now,
                event=work.event,
                offset=item.offset,
                payload=item.payload,
                digest=work.digest,
                late=late,
            )

        try:
            # A channel template renders in a worker process, for up to its time budget: off the event loop.
            message = await asyncio.to_thread(make) if spec.templates.get(item.kind) else make()
        except TemplateError as exc:
            self._finish(item, "dead", str(exc), attempted=False)
            log.error("dead %s → %s: %s", item.id, item.channel, exc)
            return
        if self.decorate is not None:
            message = self.decorate(message)
        # Sent from here, not from a coroutine of its own: every level of coroutines is resumed at every await of
        # the request, and this one held nothing.
        started = time.perf_counter()
        try:
            answer = await channel.send(message)
        except DeliveryError as exc:
            self._failed(item, exc, (time.perf_counter() - started) * 1000)
            return
        except Exception as exc:  # a bug in a channel must not take the daemon down or lose the row
            log.exception("channel %s crashed while sending %s", item.channel, item.id)
            self._failed(item, DeliveryError(f"internal error: {type(exc).__name__}: {exc}"), 0.0)
            return
        elapsed = (time.perf_counter() - started) * 1000
        note = f"refused: {answer.refused}" if isinstance(answer, PartialAnswer) else None
        # _finish for the outcome of nearly every row, its fields given in order (no keyword dict per send).
        outcome = Outcome(item.id, "sent", self.clock.now(), answer, None, late, elapsed, True, note)
        self._results.append(outcome)
        if self.observer is not None:
            self.observer(item, outcome)
        # Refused recipients miss the message: a warning, so the operator hears of it without reading history.
        level = logging.WARNING if note is not None else logging.INFO
        log.log(level, "sent %s → %s%s: %s", item.id, item.channel, " (late)" if late else "", answer)

    def _failed(self, item: Claimed, exc: DeliveryError, elapsed_ms: float) -> None:
        now = self.clock.now()
        detail = str(exc)
        if is_destination_failure(exc):
            # Stored (and logged once) by the next step, before it claims anything else for this channel.
            self._marks.append((item.channel, detail, now))
        delay = None if exc.permanent else self.settings.policy.delay(item.attempts, retry_after=exc.retry_after)
        if delay is None:
            why = "permanent error" if exc.permanent else f"gave up after {item.attempts} attempts"
            self._finish(item, "dead", f"{detail} ({why})", duration_ms=elapsed_ms)
            log.error("dead %s → %s: %s (%s)", item.id, item.channel, detail, why)
            return
        next_at = now + timedelta(seconds=delay * self.clock.speed)
        if item.kind == "reminder" and item.expires_at is not None and next_at > item.expires_at:
            self._finish(item, "dead", f"{detail} (not retried past the event start)", duration_ms=elapsed_ms)
            log.error("dead %s → %s: %s (event starts before the next try)", item.id, item.channel, detail)
            return
        self._finish(item, "retrying", detail, next_at=next_at, duration_ms=elapsed_ms)
        log.warning("retry %s → %s in %.1fs: %s", item.id, item.channel, delay, detail)

    async def reclaim_expired(self) -> int:
        """Requeue rows whose lease ran out (a replica died mid-send)."""
        now = self.clock.now()

        def run() -> int:
            with self.engine.begin() as conn:
                return reclaim(conn, now=now)

        count: int = await self.db(run)
        return count

    async def drain(self, timeout: float) -> int:
        """Wait up to ``timeout`` seconds for deliveries in flight, then store every outcome; return abandoned."""
        if self._workers:
            await asyncio.wait(list(self._workers), timeout=timeout)
        abandoned = self.inflight
        for channel, queue in self._queues.items():
            # Never started: counted out here (the cancelled workers count out the sends they were in).
            for _ in range(len(queue)):
                self._done(channel)
            queue.clear()
        for task in list(self._workers):
            task.cancel()
        results, self._results = self._results, []
        if results:
            await self.db(self._record_only, results)
        return abandoned

    def _record_only(self, results: list[Outcome]) -> None:
        with self.engine.begin() as conn:
            record(conn, results, worker=self.settings.worker)

    def close(self) -> None:
        """Give the held connection back and stop the database thread; closing again does nothing."""
        if self._closed:
            return
        self._closed = True
        self._db.submit(self._held.release)
        self._db.shutdown(wait=True)

"""Prometheus metrics of one daemon: a private registry, the dispatcher's outcome hook and a queue collector.

Counters and histograms count what *this process* did since it started. The queue gauges are read from the
database at scrape time, so they are right across restarts and replicas (every replica reports the same rows).

========================================  =====================================================================
``alertd_notification_outcomes_total``    outcomes (sends, failures, cancellations) by kind, channel and state
``alertd_notifications``                  rows in the database by kind, channel and state (scrape time)
``alertd_queue_depth``                    notifications waiting for a send, by state (pending, retrying)
``alertd_queue_due``                      of those, the ones already due (the backlog; > 0 for long: behind)
``alertd_next_due_seconds``               seconds until the next notification wants an attempt (< 0: behind)
``alertd_send_duration_seconds``          one delivery attempt, by channel (histogram)
``alertd_lateness_seconds``               sent minus due, by kind (histogram)
``alertd_channel_failures_total``         failed delivery attempts, by channel
``alertd_calendar_reload_errors_total``   calendar changes rejected as invalid (the last good one keeps running)
``alertd_calendar_last_reload_ok``        1 when the newest calendar file is the one running, 0 when it was rejected
``alertd_api_writes_total``               successful writes through the HTTP API, by action
``alertd_acknowledgements_total``         events acknowledged through this daemon (API, link, Slack, dashboard), by path
``alertd_build_info``                     alertd's version and the time-zone database it plans with (labels)
========================================  =====================================================================
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Info
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import choose_encoder
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from alertd import __version__
from alertd.clock import Clock
from alertd.storage import ACTIVE_STATES, NOTIFICATION, Claimed, Outcome
from alertd.timeexpr import tzdata

__all__ = ["Metrics", "QueueSnapshot", "queue_snapshot"]

log = logging.getLogger("alertd.metrics")

_LATENESS_BUCKETS = (0.5, 1, 5, 15, 60, 300, 900, 3600, 6 * 3600, float("inf"))
_SEND_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, float("inf"))


@dataclass(frozen=True, slots=True)
class QueueSnapshot:
    """What the outbox holds right now."""

    by_state: dict[tuple[str, str, str], int] = field(default_factory=dict)
    waiting: dict[str, int] = field(default_factory=dict)
    due_now: int = 0
    next_due: datetime | None = None


def queue_snapshot(conn: sa.Connection, *, now: datetime) -> QueueSnapshot:
    """Count notification rows by (kind, channel, state), the due backlog and the next due instant."""
    n = NOTIFICATION.c
    grouped = conn.execute(sa.select(n.kind, n.channel, n.state, sa.func.count()).group_by(n.kind, n.channel, n.state))
    by_state = {(kind, channel, state): int(count) for kind, channel, state, count in grouped}
    active = n.state.in_(ACTIVE_STATES)
    waiting = {state: 0 for state in ACTIVE_STATES}
    for (_kind, _channel, state), count in by_state.items():
        if state in waiting:
            waiting[state] += count
    due_now = conn.execute(sa.select(sa.func.count()).where(active, n.next_at <= now)).scalar_one()
    # ORDER BY + LIMIT keeps the column type (a MIN() aggregate would come back naive on SQLite).
    next_due = conn.execute(sa.select(n.next_at).where(active).order_by(n.next_at).limit(1)).scalar()
    return QueueSnapshot(by_state=by_state, waiting=waiting, due_now=int(due_now), next_due=next_due)


class _QueueCollector(Collector):
    """Reads the outbox at scrape time; a database that cannot be read leaves these gauges out of the scrape."""

    def __init__(self, engine: Engine, clock: Clock) -> None:
        self.engine = engine
        self.clock = clock

    def describe(self) -> Iterator[Metric]:
        # Registering must not query the database; the names are known without it.
        yield GaugeMetricFamily("alertd_notifications", "", labels=["kind", "channel", "state"])
        yield GaugeMetricFamily("alertd_queue_depth", "", labels=["state"])
        yield GaugeMetricFamily("alertd_queue_due", "")
        yield GaugeMetricFamily("alertd_next_due_seconds", "")

    def collect(self) -> Iterator[Metric]:
        now = self.clock.now()
        try:
            with self.engine.connect() as conn:
                snap = queue_snapshot(conn, now=now)
        except DBAPIError as exc:
            log.warning("metrics: cannot read the outbox: %s", type(exc.orig or exc).__name__)
            return
        rows = GaugeMetricFamily(
            "alertd_notifications",
            "Notification rows in the database by kind, channel and state.",
            labels=["kind", "channel", "state"],
        )
        for (kind, channel, state), count in sorted(snap.by_state.items()):
            rows.add_metric([kind, channel, state], count)
        yield rows
        depth = GaugeMetricFamily(
            "alertd_queue_depth", "Notifications waiting to be sent, by state (pending or retrying).", labels=["state"]
        )
        for state, count in sorted(snap.waiting.items()):
            depth.add_metric([state], count)
        yield depth
        yield GaugeMetricFamily(
            "alertd_queue_due", "Notifications already due and still waiting to be sent (the backlog).", snap.due_now
        )
        if snap.next_due is not None:
            yield GaugeMetricFamily(
                "alertd_next_due_seconds",
                "Seconds until the next notification wants an attempt; negative when deliveries are behind.",
                (snap.next_due - now).total_seconds(),
            )


class Metrics:
    """Every metric of one daemon, in its own registry (no global state: tests and replicas do not collide)."""

    def __init__(self, *, process: bool = True) -> None:
        self.registry = CollectorRegistry()
        if process:
            ProcessCollector(registry=self.registry)
            PlatformCollector(registry=self.registry)
        self.outcomes = Counter(
            "alertd_notification_outcomes",
            "Notification outcomes (sends and cancellations) recorded by this process, by kind, channel and state.",
            ["kind", "channel", "state"],
            registry=self.registry,
        )
        self.send_seconds = Histogram(
            "alertd_send_duration_seconds",
            "Duration of one delivery attempt, by channel.",
            ["channel"],
            buckets=_SEND_BUCKETS,
            registry=self.registry,
        )
        self.lateness = Histogram(
            "alertd_lateness_seconds",
            "How long after its due instant a notification was sent, by kind.",
            ["kind"],
            buckets=_LATENESS_BUCKETS,
            registry=self.registry,
        )
        self.failures = Counter(
            "alertd_channel_failures",
            "Failed delivery attempts, by channel.",
            ["channel"],
            registry=self.registry,
        )
        self.reload_errors = Counter(
            "alertd_calendar_reload_errors",
            "Calendar changes rejected as invalid; the last good calendar keeps running.",
            registry=self.registry,
        )
        self.reload_ok = Gauge(
            "alertd_calendar_last_reload_ok",
            "1 when the newest calendar file is running, 0 when it was rejected and the last good one still runs.",
            registry=self.registry,
        )
        self.reload_ok.set(1)
        self.api_writes = Counter(
            "alertd_api_writes",
            "Successful writes through the HTTP API, by action.",
            ["action"],
            registry=self.registry,
        )
        self.feed_up = Gauge(
            "alertd_feed_up",
            "1 when the calendar feed's last fetch succeeded, 0 while it fails (its last good copy stays in use).",
            ["source"],
            registry=self.registry,
        )
        self.feed_success = Gauge(
            "alertd_feed_last_success_timestamp_seconds",
            "When the calendar feed was last fetched successfully (a 304 counts), as a Unix time.",
            ["source"],
            registry=self.registry,
        )
        self.feed_errors = Counter(
            "alertd_feed_fetch_errors",
            "Failed fetches or reads of a calendar feed, by source.",
            ["source"],
            registry=self.registry,
        )
        self.acknowledgements = Counter(
            "alertd_acknowledgements",
            "Events acknowledged through this daemon, by path (api, link, slack, dashboard).",
            ["via"],
            registry=self.registry,
        )
        zones = tzdata()
        Info(
            "alertd_build",
            "alertd's version and the time-zone database (tzdata) every instant is planned with.",
            registry=self.registry,
        ).info({"version": __version__, "tzdata": zones.version, "tzdata_source": zones.source})
        self._queue: _QueueCollector | None = None

    def watch_queue(self, engine: Engine, clock: Clock) -> None:
        """Report the outbox's rows, backlog and next due instant on every scrape."""
        if self._queue is None:
            self._queue = _QueueCollector(engine, clock)
            self.registry.register(self._queue)

    def observe(self, item: Claimed, outcome: Outcome) -> None:
        """The dispatcher's hook: called once for every outcome it produces."""
        self.outcomes.labels(item.kind, item.channel, outcome.state).inc()
        if outcome.attempted:
            self.send_seconds.labels(item.channel).observe(outcome.duration_ms / 1000)
            if outcome.state != "sent":
                self.failures.labels(item.channel).inc()
        if outcome.state == "sent":
            self.lateness.labels(item.kind).observe(max(0.0, (outcome.at - item.due_at).total_seconds()))

    def cancelled(self, counts: Mapping[tuple[str, str], int]) -> None:
        """Notifications cancelled outside the dispatcher (a re-plan, a removed channel, an operator), by (kind,
        channel): outcomes too, though no delivery produced them."""
        for (kind, channel), n in counts.items():
            self.outcomes.labels(kind, channel, "cancelled").inc(n)

    def calendar_reloaded(self, *, ok: bool) -> None:
        """Record the outcome of one calendar reload (a rejected file counts as an error)."""
        if not ok:
            self.reload_errors.inc()
        self.reload_ok.set(1 if ok else 0)

    def feed_fetched(self, source: str, *, ok: bool, at: datetime) -> None:
        """Record one refresh of a calendar feed."""
        self.feed_up.labels(source).set(1 if ok else 0)
        if ok:
            self.feed_success.labels(source).set(at.timestamp())
        else:
            self.feed_errors.labels(source).inc()

    def render(self, accept: str | None) -> tuple[bytes, str]:
        """The exposition (Prometheus text, or OpenMetrics when the scraper asks for it) and its content type."""
        encoder, content_type = choose_encoder(accept or "")
        return encoder(self.registry), content_type

"""The feed refresher against a feed server on 127.0.0.1: conditional requests, failures that keep the last good
copy, and a feed edit that moves one occurrence."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from support.factories import make_calendar, make_channel, offsets

from alertd.channels.client import Client
from alertd.channels.http import make_client
from alertd.clock import FixedClock
from alertd.delivery import Metrics
from alertd.domain import Calendar, SourceSpec
from alertd.feeds import FeedRefresher
from alertd.settings import Settings
from alertd.storage import EVENT, NOTIFICATION, feed_statuses, last_body
from bench.feed_server import FeedServer

GOOGLE = (Path(__file__).parents[1] / "calendar" / "feeds" / "google.ics").read_bytes()
NOW = datetime(2025, 10, 20, 12, 0, tzinfo=UTC)
EVERY = timedelta(minutes=15)
MOVED_FROM = b"20251118T15"
MOVED_TO = b"20251119T15"


@pytest.fixture
async def server() -> AsyncIterator[FeedServer]:
    feed = FeedServer(body=GOOGLE)
    await feed.start()
    yield feed
    await feed.stop()


@pytest.fixture
async def client() -> AsyncIterator[Client]:
    async with make_client(5.0, trust_env=False) as http:
        yield http


def calendar(url: str) -> Calendar:
    source = SourceSpec(
        id="desk",
        url=url,
        path=None,
        refresh=EVERY,
        timezone="America/New_York",
        reminders=offsets("1d"),
        notify=("hooks",),
    )
    return replace(make_calendar([], channels=[make_channel(id="hooks")]), sources=(source,))


class Harness:
    def __init__(self, engine: Engine, client: Client, **settings: Any) -> None:
        self.clock = FixedClock(NOW)
        self.metrics = Metrics(process=False)
        self.changes = 0

        async def run_db(fn: Callable[[], Any]) -> Any:
            return await asyncio.to_thread(fn)

        def changed(_report: object) -> None:
            self.changes += 1

        self.refresher = FeedRefresher(
            engine=engine,
            clock=self.clock,
            settings=Settings(**({"feed_timeout": 2.0} | settings)),
            run_db=run_db,
            http=lambda: client,
            metrics=self.metrics,
            on_change=changed,
        )

    async def refresh(self, cal: Calendar, *, advance: timedelta = EVERY) -> Any:
        self.clock.advance(advance.total_seconds())
        (source,) = cal.sources
        return await self.refresher.refresh(cal, source)


async def fetched_once(engine: Engine, client: Client, server: FeedServer, **settings: Any) -> tuple[Harness, Calendar]:
    """A harness that has made its first fetch of the feed server's calendar."""
    h = Harness(engine, client, **settings)
    cal = calendar(server.url())
    await h.refresh(cal, advance=timedelta(0))
    return h, cal


def events(engine: Engine) -> dict[str, tuple[str, int]]:
    with engine.begin() as conn:
        rows = conn.execute(sa.select(EVENT.c.id, EVENT.c.fingerprint, EVENT.c.revision, EVENT.c.removed))
        return {r.id: (r.fingerprint, r.revision) for r in rows if not r.removed}


def change_rows(engine: Engine) -> list[Any]:
    with engine.begin() as conn:
        return list(conn.execute(sa.select(NOTIFICATION).where(NOTIFICATION.c.kind == "change")))


def notification_count(engine: Engine) -> int:
    with engine.begin() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(NOTIFICATION)).scalar_one())


async def test_a_first_fetch_stores_the_feeds_events_and_its_copy(
    engine: Engine, server: FeedServer, client: Client
) -> None:
    h = Harness(engine, client)
    report = await h.refresh(calendar(server.url()), advance=timedelta(0))
    assert len(report.added) == 8
    assert "desk:weekly-tariff-call-7k2m@google.com@20251117" in events(engine)
    with engine.begin() as conn:
        assert last_body(conn, "desk")[0] == GOOGLE
    assert server.seen[0].headers["accept"].startswith("text/calendar")


async def test_an_unchanged_feed_is_asked_with_if_none_match_and_nothing_is_replanned(
    engine: Engine, server: FeedServer, client: Client
) -> None:
    h, cal = await fetched_once(engine, client, server)
    before, rows = events(engine), notification_count(engine)
    assert await h.refresh(cal) is None
    assert server.seen[-1].headers["if-none-match"] == server.etag
    assert (events(engine), notification_count(engine), h.changes) == (before, rows, 1)


async def test_a_replica_finding_the_interval_taken_does_not_fetch(
    engine: Engine, server: FeedServer, client: Client
) -> None:
    _first, cal = await fetched_once(engine, client, server)
    second = Harness(engine, client)
    assert await second.refresh(cal, advance=timedelta(minutes=1)) is None
    assert len(server.seen) == 1


async def test_a_feed_edit_moving_one_occurrence_sends_exactly_one_change_notice(
    engine: Engine, server: FeedServer, client: Client
) -> None:
    h, cal = await fetched_once(engine, client, server)
    server.body = GOOGLE.replace(MOVED_FROM, MOVED_TO)
    report = await h.refresh(cal)
    assert report.changed == ["desk:weekly-tariff-call-7k2m@google.com@20251117"]
    (notice,) = change_rows(engine)
    assert (notice.payload["type"], notice.payload["after"]["local_start"]) == ("changed", "2025-11-19T10:00:00")


async def test_a_cancelled_occurrence_in_the_feed_sends_one_notice(
    engine: Engine, server: FeedServer, client: Client
) -> None:
    h, cal = await fetched_once(engine, client, server)
    override = b"BEGIN:VEVENT\r\nDTSTART:20251201T140000Z\r\nRECURRENCE-ID:20251201T140000Z\r\n"
    override += (
        b"UID:weekly-tariff-call-7k2m@google.com\r\nSTATUS:CANCELLED\r\nSUMMARY:Weekly tariff call\r\nEND:VEVENT\r\n"
    )
    server.body = GOOGLE.replace(b"END:VCALENDAR", override + b"END:VCALENDAR")
    await h.refresh(cal)
    (notice,) = change_rows(engine)
    assert (notice.event_id, notice.payload["after"]["status"]) == (
        "desk:weekly-tariff-call-7k2m@google.com@20251201",
        "cancelled",
    )


@pytest.mark.parametrize(
    ("mode", "words"),
    [
        ("status", "answered HTTP 500"),
        ("stall", "timed out"),
        ("huge", "larger than 10485760 bytes"),
        ("garbage", "not an iCalendar file"),
    ],
)
async def test_a_failing_feed_keeps_its_last_good_copy_and_says_why_in_one_line(
    engine: Engine, server: FeedServer, client: Client, mode: Any, words: str
) -> None:
    h, cal = await fetched_once(engine, client, server, feed_timeout=0.5)
    before, rows = events(engine), notification_count(engine)
    server.mode = mode
    server.stall = 3.0
    assert await h.refresh(cal) is None
    with engine.begin() as conn:
        status = feed_statuses(conn)["desk"]
        body, _ = last_body(conn, "desk")
    assert status.failing
    assert words in (status.last_error or "")
    assert "\n" not in (status.last_error or "")
    assert status.failing_since == NOW + EVERY
    assert body == GOOGLE
    assert (events(engine), notification_count(engine)) == (before, rows)
    assert h.metrics.feed_up.labels("desk")._value.get() == 0


async def test_a_feed_that_recovers_is_no_longer_failing(engine: Engine, server: FeedServer, client: Client) -> None:
    h = Harness(engine, client)
    cal = calendar(server.url())
    server.mode = "status"
    await h.refresh(cal, advance=timedelta(0))
    server.mode = "ok"
    await h.refresh(cal)
    with engine.begin() as conn:
        status = feed_statuses(conn)["desk"]
    assert (status.failing, status.failing_since) == (False, None)
    assert len(events(engine)) == 8


async def test_plain_http_is_refused_when_private_targets_are_not_allowed(
    engine: Engine, server: FeedServer, client: Client
) -> None:
    h = Harness(engine, client, allow_private_targets=False)
    await h.refresh(calendar(server.url()), advance=timedelta(0))
    with engine.begin() as conn:
        assert "use https" in (feed_statuses(conn)["desk"].last_error or "")
    assert server.seen == []


async def test_the_error_never_quotes_the_feeds_secret_path(engine: Engine, server: FeedServer, client: Client) -> None:
    h = Harness(engine, client)
    server.mode = "status"
    await h.refresh(calendar(server.url("/calendar/ical/private-" + "t0ken/basic.ics")), advance=timedelta(0))
    with engine.begin() as conn:
        error = feed_statuses(conn)["desk"].last_error or ""
    assert "answered HTTP 500" in error
    assert "t0ken" not in error


async def test_a_local_file_source_is_read_and_an_unchanged_file_is_not_replanned(
    engine: Engine, tmp_path: Path
) -> None:
    path = tmp_path / "team.ics"
    path.write_bytes(GOOGLE)
    cal = calendar("https://unused.example")
    cal = replace(cal, sources=(replace(cal.sources[0], url=None, path=str(path)),))
    async with make_client(5.0, trust_env=False) as http:
        h = Harness(engine, http)
        assert len((await h.refresh(cal, advance=timedelta(0))).added) == 8
        assert await h.refresh(cal) is None


async def test_a_read_over_the_time_bound_fails_and_no_second_read_starts_beside_it(
    engine: Engine, server: FeedServer, client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    import alertd.feeds.refresh as refresh_module
    from alertd.calendar import feed_events as real

    def slow(*args: Any, **kwargs: Any) -> Any:
        time.sleep(1.0)
        return real(*args, **kwargs)

    monkeypatch.setattr(refresh_module, "feed_events", slow)
    h = Harness(engine, client, feed_timeout=0.3)
    cal = calendar(server.url())
    assert "reading it took longer than 0.3s" in await _error_after_refresh(h, cal, engine, timedelta(0))
    assert "still running" in await _error_after_refresh(h, cal, engine, EVERY)
    assert events(engine) == {}
    await asyncio.sleep(1.0)  # let the abandoned read finish before the database goes away


async def _error_after_refresh(h: Harness, cal: Calendar, engine: Engine, advance: timedelta) -> str:
    await h.refresh(cal, advance=advance)
    with engine.begin() as conn:
        return feed_statuses(conn)["desk"].last_error or ""


async def test_the_private_target_guard_refuses_a_feed_on_a_loopback_address(engine: Engine) -> None:
    async with make_client(5.0, trust_env=False, allow_private=False) as guarded:
        h = Harness(engine, guarded, allow_private_targets=False)
        await h.refresh(calendar("https://127.0.0.1:9/calendar.ics"), advance=timedelta(0))
    with engine.begin() as conn:
        error = feed_statuses(conn)["desk"].last_error or ""
    assert "private, loopback or reserved address" in error


async def test_a_server_without_etags_is_asked_with_if_modified_since(
    engine: Engine, server: FeedServer, client: Client
) -> None:
    server.etags = False
    h, cal = await fetched_once(engine, client, server)
    assert await h.refresh(cal) is None
    assert server.seen[-1].headers["if-modified-since"] == server.last_modified
    assert "if-none-match" not in server.seen[-1].headers


async def test_a_redirect_is_followed(engine: Engine, server: FeedServer, client: Client) -> None:
    h = Harness(engine, client)
    report = await h.refresh(calendar(server.url("/moved")), advance=timedelta(0))
    assert len(report.added) == 8
    assert [s.path for s in server.seen] == ["/moved", "/calendar.ics"]


async def test_replicas_refreshing_at_the_same_moment_fetch_once(
    engine: Engine, server: FeedServer, client: Client
) -> None:
    first, second = Harness(engine, client), Harness(engine, client)
    cal = calendar(server.url())
    (source,) = cal.sources
    reports = await asyncio.gather(first.refresher.refresh(cal, source), second.refresher.refresh(cal, source))
    assert len(server.seen) == 1
    assert sorted(r is None for r in reports) == [False, True]
    assert len(events(engine)) == 8

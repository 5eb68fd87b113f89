"""Calendar feeds seen through the running daemon: /readyz reports a failing feed, feed events are read-only, a
restart plans from the stored copy while the feed is down."""

from __future__ import annotations

import asyncio
import io
import textwrap
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from alertd.clock import FixedClock
from alertd.daemon import Daemon
from alertd.storage import list_events
from bench.feed_server import FeedServer

from .conftest import READ, READ_TOKEN, WRITE, WRITE_TOKEN, DaemonFactory, client_for

GOOGLE = (Path(__file__).parents[1] / "calendar" / "feeds" / "google.ics").read_bytes()
MOVED = "desk:weekly-tariff-call-7k2m@google.com@20251117"


def calendar_with_feed(url: str) -> str:
    return f"""\
    version: 1
    timezone: America/New_York
    defaults:
      reminders: [1d]
      countdown: false
      notify: [console]
    channels:
      console: {{type: console}}
    sources:
      - {{id: desk, url: "{url}", refresh: 15m}}
    events: []
"""


@pytest.fixture
async def feed() -> AsyncIterator[FeedServer]:
    server = FeedServer(body=GOOGLE)
    await server.start()
    yield server
    await server.stop()


async def until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        assert loop.time() < deadline, "condition not reached in time"
        await asyncio.sleep(0.05)


def feed_ids(daemon: Daemon) -> set[str]:
    return {e.id for e in list_events(daemon.engine) if e.owner == "feed"}


async def started(start_daemon: DaemonFactory, feed: FeedServer) -> Daemon:
    daemon = await start_daemon(
        calendar=calendar_with_feed(feed.url()), api_token=WRITE_TOKEN, api_read_token=READ_TOKEN
    )
    await until(lambda: MOVED in feed_ids(daemon))
    return daemon


async def test_the_daemon_fetches_its_feeds_when_it_starts(start_daemon: DaemonFactory, feed: FeedServer) -> None:
    daemon = await started(start_daemon, feed)
    assert len(feed_ids(daemon)) == 8
    async with client_for(daemon) as http:
        body = (await http.get("/readyz")).json()
    assert body["feeds"]["desk"]["ok"] is True


async def test_a_failing_feed_shows_in_readyz_and_the_daemon_stays_ready(
    start_daemon: DaemonFactory, feed: FeedServer
) -> None:
    daemon = await started(start_daemon, feed)
    feed.mode = "status"
    assert daemon.feeds is not None
    await daemon.feeds.refresh(daemon.calendar, daemon.calendar.sources[0], force=True)
    async with client_for(daemon) as http:
        answer = await http.get("/readyz")
    assert answer.status_code == 200
    desk = answer.json()["feeds"]["desk"]
    assert desk["ok"] is False
    assert "answered HTTP 500" in desk["error"]
    assert desk["has_copy"] is True
    assert len(feed_ids(daemon)) == 8


async def test_a_feed_event_cannot_be_edited_and_the_answer_names_the_feed(
    start_daemon: DaemonFactory, feed: FeedServer
) -> None:
    daemon = await started(start_daemon, feed)
    async with client_for(daemon) as http:
        answer = await http.post(f"/api/v1/events/{MOVED}/cancel", headers=WRITE)
        shown = (await http.get(f"/api/v1/events/{MOVED}", headers=READ)).json()
    assert answer.status_code == 409
    assert "calendar feed 'desk'" in answer.text
    assert "edit it in that calendar" in answer.text
    assert (shown["owner"], shown["read_only"], shown["feed"]) == ("feed", True, "desk")


async def test_a_restart_while_the_feed_is_down_keeps_its_events(
    start_daemon: DaemonFactory, feed: FeedServer, tmp_path: Path
) -> None:
    daemon = await started(start_daemon, feed)
    await daemon.shutdown()
    feed.mode = "status"
    assert isinstance(daemon.clock, FixedClock)
    daemon.clock.advance(15 * 60)  # the next interval: the restarted daemon fetches again
    again = Daemon(
        daemon.settings, clock=daemon.clock, calendar_path=daemon.calendar_path, db_url=daemon.db_url, out=daemon.out
    )
    await again.start()
    try:
        await until(lambda: len(feed.seen) >= 2)
        await asyncio.sleep(0.2)
        assert len(feed_ids(again)) == 8
    finally:
        await again.shutdown()


async def test_a_reload_with_new_source_defaults_reapplies_them_to_feed_events(
    start_daemon: DaemonFactory, feed: FeedServer
) -> None:
    daemon = await started(start_daemon, feed)
    text = calendar_with_feed(feed.url()).replace("refresh: 15m}", "refresh: 15m, reminders: [3d, 1d]}")
    daemon.calendar_path.write_text(textwrap.dedent(text), encoding="utf-8")
    daemon.request_reload()
    await until(lambda: all(len(e.reminders) == 2 for e in list_events(daemon.engine) if e.owner == "feed"))


async def test_a_source_removed_from_the_calendar_takes_its_events_along(
    start_daemon: DaemonFactory, feed: FeedServer
) -> None:
    daemon = await started(start_daemon, feed)
    text = calendar_with_feed(feed.url()).split("    sources:")[0] + "    events: []\n"
    daemon.calendar_path.write_text(textwrap.dedent(text), encoding="utf-8")
    daemon.request_reload()
    await until(lambda: not feed_ids(daemon))


async def test_a_feed_edit_moving_one_occurrence_is_delivered_as_exactly_one_change_notice(
    start_daemon: DaemonFactory, feed: FeedServer
) -> None:
    daemon = await started(start_daemon, feed)
    out = daemon.out
    assert isinstance(out, io.StringIO)
    before = out.getvalue()
    feed.body = GOOGLE.replace(b"20251118T15", b"20251119T15")
    assert isinstance(daemon.clock, FixedClock)
    daemon.clock.advance(15 * 60)
    assert daemon.feeds is not None
    await daemon.feeds.tick(daemon.calendar)
    await until(lambda: "Weekly tariff call" in out.getvalue()[len(before) :])
    await asyncio.sleep(0.5)  # anything more would have been sent by now
    sent = out.getvalue()[len(before) :]
    assert sent.count("change → console") == 1, sent
    assert "moved from Tue 18 Nov 2025 10:00 to Wed 19 Nov 2025 10:00" in sent

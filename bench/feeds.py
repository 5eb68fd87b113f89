"""Calendar feeds: a 5,000-event feed (100 of them weekly series) synced in ≤ 2 s; an unchanged feed (304) ≤ 50 ms.

alertd: the real :class:`~alertd.feeds.FeedRefresher` (alertd's HTTP client, the iCalendar reading in a worker
thread, the sync into a freshly migrated SQLite file) against an aiohttp feed server on 127.0.0.1 in the same
process. ``feed sync``: the first refresh, from the request to the committed sync. ``feed 304``: a later refresh of
the unchanged feed (claim, conditional GET answered 304, record), median of several. Baselines, in the same run:
``icalendar.Calendar.from_ical`` of the same bytes (parsing alone), and a bare aiohttp GET answered 304.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from datetime import time as dtime
from typing import Any

import aiohttp
import icalendar

from alertd.channels.http import make_client
from alertd.clock import FixedClock
from alertd.domain import Calendar, ChannelSpec, Defaults, SourceSpec
from alertd.feeds import FeedRefresher
from alertd.settings import Settings
from alertd.timeexpr import parse_offset
from bench.common import Result, Workspace, fresh_db, median
from bench.feed_server import FeedServer

NOW = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
_SERIES = 100
_304_RUNS = 15


def make_feed(n_events: int, n_series: int) -> bytes:
    """An export shaped like Google's: ``n_events`` VEVENTs, the first ``n_series`` weekly series of 10."""
    lines = ["BEGIN:VCALENDAR", "PRODID:-//bench//EN", "VERSION:2.0", "X-WR-TIMEZONE:America/New_York"]
    base = NOW + timedelta(days=2)
    for i in range(n_events):
        start = (base + timedelta(minutes=37 * i)).strftime("%Y%m%dT%H%M00Z")
        lines += ["BEGIN:VEVENT", f"UID:bench-{i:05d}@example.com", f"DTSTART:{start}", f"SUMMARY:Deadline {i}"]
        if i < n_series:
            lines.append("RRULE:FREQ=WEEKLY;COUNT=10")
        lines.append("END:VEVENT")
    lines.append("END:VCALENDAR")
    return ("\r\n".join(lines) + "\r\n").encode()


def _calendar(url: str) -> Calendar:
    offsets = (parse_offset("1d"), parse_offset("0m"))
    channels = {"hook": ChannelSpec(id="hook", type="webhook", timezone="UTC", options={"url": "http://127.0.0.1:9/"})}
    defaults = Defaults(reminders=offsets, all_day_at=dtime(9, 0), countdown=None, notify=("hook",))
    source = SourceSpec(
        id="bench",
        url=url,
        path=None,
        refresh=timedelta(minutes=15),
        timezone="America/New_York",
        reminders=offsets,
        notify=("hook",),
    )
    return Calendar(
        path="bench.yaml", timezone="UTC", defaults=defaults, channels=channels, events=(), sources=(source,)
    )


async def _measure(ws: Workspace, n_events: int) -> dict[str, Any]:
    body = make_feed(n_events, _SERIES)
    server = FeedServer(body=body)
    await server.start()
    engine = fresh_db(ws.file("feeds.db"))
    url = server.url("/feed.ics")
    calendar = _calendar(url)
    clock = FixedClock(NOW)

    async def run_db(fn: Callable[[], Any]) -> Any:
        return await asyncio.to_thread(fn)

    try:
        async with make_client(15.0, trust_env=False) as http:
            refresher = FeedRefresher(
                engine=engine, clock=clock, settings=Settings(_env_file=None), run_db=run_db, http=lambda: http
            )
            (source,) = calendar.sources
            started = time.perf_counter()
            report = await refresher.refresh(calendar, source)
            sync_s = time.perf_counter() - started
            assert report is not None
            unchanged: list[float] = []
            for _ in range(_304_RUNS):
                clock.advance(15 * 60)
                started = time.perf_counter()
                again = await refresher.refresh(replace(calendar), source)
                unchanged.append(time.perf_counter() - started)
                assert again is None
            bare: list[float] = []
            async with aiohttp.ClientSession() as session:
                for _ in range(_304_RUNS):
                    started = time.perf_counter()
                    async with session.get(url, headers={"If-None-Match": server.etag}) as answer:
                        await answer.read()
                        assert answer.status == 304
                    bare.append(time.perf_counter() - started)
    finally:
        await server.stop()
        engine.dispose()
    started = time.perf_counter()
    icalendar.Calendar.from_ical(body)
    parse_s = time.perf_counter() - started
    return {
        "sync_s": sync_s,
        "parse_s": parse_s,
        "unchanged_ms": median(unchanged) * 1000,
        "bare_304_ms": median(bare) * 1000,
        "occurrences": len(report.added),
        "queued": report.queued,
        "bytes": len(body),
    }


def run(ws: Workspace, *, quick: bool) -> list[Result]:
    n_events = 1000 if quick else 5000
    found = asyncio.run(_measure(ws, n_events))
    sync = Result(
        "feed sync",
        found["sync_s"],
        found["parse_s"],
        "s",
        "≤ 2 s",
        found["sync_s"] <= 2.0,
        details=found | {"events": n_events, "series": _SERIES},
    )
    unchanged = Result(
        "feed 304",
        found["unchanged_ms"],
        found["bare_304_ms"],
        "ms",
        "≤ 50 ms",
        found["unchanged_ms"] <= 50.0,
        details={"runs": _304_RUNS},
    )
    return [sync, unchanged]

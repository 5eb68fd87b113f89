"""Calendar feeds and recurring events on the pages: a feed's events are read-only and name their feed, a series
shows as one card, and a failing feed is listed on ``/channels`` with its one-line reason."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest

from alertd.daemon import Daemon
from alertd.storage import list_events, record_failure
from alertd.web.feedrows import feed_rows

from .conftest import WRITE_TOKEN, WebDaemon, client_for, csrf_of, log_in

GOOGLE = Path(__file__).parents[1] / "calendar" / "feeds" / "google.ics"
SERIES = "desk:weekly-tariff-call-7k2m@google.com"
SINGLE = "desk:3q1v0sd9kk8f2m3r5a7c9e1g3i@google.com"


def _calendar(feed: Path, missing: Path) -> str:
    return f"""\
version: 1
timezone: America/New_York
defaults: {{reminders: [1d], notify: [console], countdown: false}}
channels:
  console: {{type: console}}
sources:
  - {{id: desk, path: "{feed}", refresh: 1h}}
  - {{id: gone, path: "{missing}", refresh: 1h}}
events:
  - id: standup
    title: Stand-up
    at: 2025-10-01T09:00
    repeat: FREQ=DAILY
"""


async def _until(condition: Callable[[], bool]) -> None:
    for _ in range(200):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not reached in time")


def _ids(daemon: Daemon) -> set[str]:
    return {e.id for e in list_events(daemon.engine)}


@pytest.fixture
async def with_feed(start_web: WebDaemon, tmp_path: Path) -> Daemon:
    feed = tmp_path / "google.ics"
    feed.write_bytes(GOOGLE.read_bytes())
    daemon = await start_web(calendar=_calendar(feed, tmp_path / "nowhere.ics"), api_token=WRITE_TOKEN)
    await _until(lambda: SINGLE in _ids(daemon) and any(i.startswith(SERIES + "@") for i in _ids(daemon)))
    return daemon


async def test_the_board_shows_one_card_per_series_with_a_link_to_all_its_occurrences(with_feed: Daemon) -> None:
    async with client_for(with_feed) as http:
        await log_in(http, WRITE_TOKEN)
        html = (await http.get("/")).text
        assert html.count('data-event="standup@') == 2  # the next one, and the newest past one folded away
        assert 'href="/?series=standup"' in html
        assert "repeats" in html
        every = (await http.get("/", params={"series": "standup"})).text
        assert every.count('data-event="standup@') > 300
        assert "desk:" not in every.split("<main", 1)[1].split("data-event=", 1)[1]


async def test_a_feed_event_on_the_board_carries_a_chip_naming_its_feed(with_feed: Daemon) -> None:
    async with client_for(with_feed) as http:
        await log_in(http, WRITE_TOKEN)
        html = (await http.get("/")).text
        card = html.split(f'data-event="{SINGLE}"', 1)[1].split("</article>", 1)[0]
        assert '<span class="chip chip-feed">feed desk</span>' in card


async def test_a_feed_event_has_no_edit_form_and_names_the_feed_to_edit(with_feed: Daemon) -> None:
    async with client_for(with_feed) as http:
        await log_in(http, WRITE_TOKEN)
        html = (await http.get(f"/events/{SINGLE}")).text
        assert 'id="feed-owned"' in html
        assert "comes from the calendar feed &#39;desk&#39; (google.ics)" in html
        assert 'id="change-form"' not in html


async def test_changing_a_feed_event_from_a_form_is_refused_naming_the_feed(with_feed: Daemon) -> None:
    async with client_for(with_feed) as http:
        await log_in(http, WRITE_TOKEN)
        csrf = csrf_of((await http.get("/channels")).text)
        answer = await http.post(f"/events/{SINGLE}", data={"csrf": csrf, "status": "cancelled", "action": "save"})
        assert answer.status_code == 409
        assert "calendar feed &#39;desk&#39;" in answer.text


async def test_an_occurrence_of_a_files_series_shows_the_series_line_read_only(with_feed: Daemon) -> None:
    occurrence = sorted(i for i in _ids(with_feed) if i.startswith("standup@"))[-1]
    async with client_for(with_feed) as http:
        await log_in(http, WRITE_TOKEN)
        html = (await http.get(f"/events/{occurrence}")).text
        assert "calendar.yaml:10" in html
        assert 'id="change-form"' not in html
        assert 'href="/?series=standup"' in html


async def test_a_failing_feed_is_listed_with_since_when_its_reason_and_last_good_copy(with_feed: Daemon) -> None:
    async with client_for(with_feed) as http:
        await log_in(http, WRITE_TOKEN)
        for _ in range(100):
            html = (await http.get("/channels")).text
            if 'data-feed="gone"' in html and "failing" in html.split('data-feed="gone"', 1)[1]:
                break
            await asyncio.sleep(0.05)
        gone = html.split('data-feed="gone"', 1)[1].split("</tr>", 1)[0]
        assert "failing</span> since 2025-10-31 12:00" in gone
        assert "nowhere.ics" in gone
        assert str(with_feed.calendar_path.parent) not in html
        assert "never" in gone
        desk = html.split('data-feed="desk"', 1)[1].split("</tr>", 1)[0]
        assert '<span class="chip">ok</span>' in desk
        assert "2025-10-31 12:00" in desk


async def test_a_feeds_multi_line_error_is_shown_on_one_bounded_line(with_feed: Daemon) -> None:
    error = "HTTP 500\n<html>\n" + "x" * 1000
    with with_feed.engine.begin() as conn:
        record_failure(conn, "desk", error, now=with_feed.clock.now())
    rows = feed_rows(with_feed.engine, with_feed.calendar)
    desk = next(r for r in rows if r.id == "desk")
    assert desk.last_error.startswith("HTTP 500 <html> xxx")
    assert len(desk.last_error) == 300
    assert rows[0].last_error  # failing feeds first


async def test_an_odd_series_filter_is_escaped_and_shows_no_card(with_feed: Daemon) -> None:
    async with client_for(with_feed) as http:
        await log_in(http, WRITE_TOKEN)
        html = (await http.get("/", params={"series": "<script>x</script>"})).text
        assert "<script>x" not in html
        assert "&lt;script&gt;x" in html
        assert 'data-event="' not in html
        assert (await http.get("/", params={"series": "s" * 301})).status_code == 422

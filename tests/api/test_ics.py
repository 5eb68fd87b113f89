"""/calendar.ics: the running calendar as iCalendar, file and database-owned events, behind the read token."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import httpx
from icalendar import Calendar as ICalendar

from .conftest import READ, WRITE, DaemonFactory, client_for

FEED = "feed-token-for-tests-0123456789"


async def test_calendar_ics_lists_file_and_database_events_with_alarms(client: httpx.AsyncClient) -> None:
    """Both events come back; the all-day file event is a DATE, its two reminders are alarms at the planned UTC."""
    event = {"id": "follow-up", "title": "Follow-up summit", "start": "2025-11-20T10:00", "timezone": "Asia/Seoul"}
    assert (await client.post("/api/v1/events", json=event, headers=WRITE)).status_code == 201
    response = await client.get("/calendar.ics", headers=READ)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    parsed = ICalendar.from_ical(response.content)
    events = {str(e["UID"]).split("@")[0]: e for e in parsed.walk("VEVENT")}
    assert set(events) == {"truce-expiry", "follow-up"}
    truce = events["truce-expiry"]
    assert truce.decoded("DTSTART") == date(2025, 11, 10)
    alarms = sorted(a.decoded("TRIGGER") for a in truce.walk("VALARM"))
    assert alarms == [datetime(2025, 11, 7, 14, 0, tzinfo=UTC), datetime(2025, 11, 9, 14, 0, tzinfo=UTC)]
    assert events["follow-up"].decoded("DTSTART").astimezone(UTC) == datetime(2025, 11, 20, 1, 0, tzinfo=UTC)


async def test_calendar_ics_needs_a_token_when_one_is_configured(client: httpx.AsyncClient) -> None:
    """The calendar reveals every event, so it is guarded like the read routes."""
    assert (await client.get("/calendar.ics")).status_code == 401


async def test_feed_url_serves_the_calendar_without_a_header(start_daemon: DaemonFactory) -> None:
    """With ALERTD_FEED_TOKEN set, /calendar/<token>.ics is the same calendar, no Authorization header needed,
    while /calendar.ics still wants the bearer token."""
    daemon = await start_daemon(api_token="write-token-for-tests", feed_token=FEED)
    async with client_for(daemon) as http:
        feed = await http.get(f"/calendar/{FEED}.ics")
        assert (await http.get("/calendar.ics")).status_code == 401
    assert feed.status_code == 200
    assert feed.headers["content-type"] == "text/calendar; charset=utf-8"
    uids = {str(e["UID"]).split("@")[0] for e in ICalendar.from_ical(feed.content).walk("VEVENT")}
    assert uids == {"truce-expiry"}


async def test_feed_url_with_a_wrong_token_is_404(start_daemon: DaemonFactory) -> None:
    """A wrong token (even one character short, or the API's own token) is 404, like an unknown path."""
    daemon = await start_daemon(api_token="write-token-for-tests", feed_token=FEED)
    async with client_for(daemon) as http:
        for guess in (FEED[:-1], FEED + "x", "write-token-for-tests"):
            response = await http.get(f"/calendar/{guess}.ics")
            assert (response.status_code, response.json()["error"]) == (404, "Not Found")


async def test_feed_url_without_a_feed_token_configured_is_404(start_daemon: DaemonFactory) -> None:
    """With no ALERTD_FEED_TOKEN there is no feed URL at all, whatever is guessed."""
    daemon = await start_daemon()
    async with client_for(daemon) as http:
        assert (await http.get(f"/calendar/{FEED}.ics")).status_code == 404


RECURRING = """\
    version: 1
    timezone: America/New_York
    defaults: {reminders: [1d], countdown: false, notify: [console]}
    channels:
      console: {type: console}
    events:
      - id: weekly-sync
        title: Weekly trade sync
        at: 2025-10-21T10:00
        repeat: FREQ=WEEKLY;COUNT=6
        except: [2025-11-04]
        occurrences:
          2025-10-28: {at: 2025-10-29T10:00}
"""


async def test_a_recurring_event_is_served_as_one_series_and_listed_by_occurrence(
    start_daemon: DaemonFactory,
) -> None:
    """/calendar.ics has the master (RRULE, EXDATE) and the moved occurrence (RECURRENCE-ID); the events API and
    the plan speak of occurrences by their ids."""
    daemon = await start_daemon(calendar=RECURRING, api_token="write-token-for-tests", api_read_token=None)
    async with client_for(daemon) as http:
        auth = {"Authorization": "Bearer write-token-for-tests"}
        ics = await http.get("/calendar.ics", headers=auth)
        listed = await http.get("/api/v1/events", headers=auth)
        plan = await http.get("/api/v1/plan", params={"until": "2025-11-20T00:00:00Z"}, headers=auth)
    # Typed loosely: icalendar types each property as a union of every value type.
    found: list[Any] = ICalendar.from_ical(ics.content).walk("VEVENT")
    assert [str(e["UID"]) for e in found] == ["weekly-sync@alertd", "weekly-sync@alertd"]
    master, moved = found
    assert master["RRULE"].to_ical() == b"FREQ=WEEKLY;COUNT=6"
    assert [d.dt.date() for d in master["EXDATE"].dts] == [date(2025, 11, 4)]
    assert moved.decoded("RECURRENCE-ID").date() == date(2025, 10, 28)
    assert [e["id"] for e in listed.json()] == [
        "weekly-sync@20251021",
        "weekly-sync@20251028",
        "weekly-sync@20251111",
        "weekly-sync@20251118",
        "weekly-sync@20251125",
    ]
    assert {i["event_id"] for i in plan.json()["items"]} == {
        "weekly-sync@20251021",
        "weekly-sync@20251028",
        "weekly-sync@20251111",
        "weekly-sync@20251118",
    }

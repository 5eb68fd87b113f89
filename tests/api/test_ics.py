"""/calendar.ics: the running calendar as iCalendar, file and database-owned events, behind the read token."""

from __future__ import annotations

from datetime import UTC, date, datetime

import httpx
from icalendar import Calendar as ICalendar

from .conftest import READ, WRITE


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

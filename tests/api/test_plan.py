"""/api/v1/plan: what would be sent in a window, for file and database-owned events."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

import httpx
import sqlalchemy as sa

from alertd.clock import ReplayClock, utc
from alertd.storage import NOTIFICATION

from .conftest import READ, READ_TOKEN, WRITE, WRITE_TOKEN, DaemonFactory, client_for


async def test_plan_lists_reminders_in_the_window_in_due_order(client: httpx.AsyncClient) -> None:
    """Both reminders of the file event fall in the default 30-day window, with local times."""
    body = (await client.get("/api/v1/plan", headers=READ)).json()
    assert (body["start"], body["until"]) == ("2025-10-20T12:00:00Z", "2025-11-19T12:00:00Z")
    assert [(i["offset"], i["due_at"], i["local_due_at"]) for i in body["items"]] == [
        ("3d", "2025-11-07T14:00:00Z", "2025-11-07T09:00:00-05:00"),
        ("1d", "2025-11-09T14:00:00Z", "2025-11-09T09:00:00-05:00"),
    ]


async def test_plan_honours_from_and_until(client: httpx.AsyncClient) -> None:
    """Only notifications due inside [from, until] are listed; a naive time is UTC."""
    params = {"from": "2025-11-08T00:00:00", "until": "2025-11-10T00:00:00Z"}
    body = (await client.get("/api/v1/plan", params=params, headers=READ)).json()
    assert [i["offset"] for i in body["items"]] == ["1d"]


async def test_plan_includes_database_owned_events(client: httpx.AsyncClient) -> None:
    """An event created through the API is in the plan too."""
    event = {"id": "extra", "title": "Extra deadline", "start": "2025-11-01"}
    assert (await client.post("/api/v1/events", json=event, headers=WRITE)).status_code == 201
    body = (await client.get("/api/v1/plan", headers=READ)).json()
    assert {i["event_id"] for i in body["items"]} == {"truce-expiry", "extra"}


async def test_plan_with_until_before_from_is_400(client: httpx.AsyncClient) -> None:
    """A window that ends before it starts is a client error."""
    params = {"from": "2025-11-10T00:00:00Z", "until": "2025-11-01T00:00:00Z"}
    response = await client.get("/api/v1/plan", params=params, headers=READ)
    assert (response.status_code, response.json()["error"]) == (400, "until is before from")


async def test_plan_window_longer_than_a_year_is_400(client: httpx.AsyncClient) -> None:
    """Huge windows are refused instead of tying up the daemon."""
    params = {"from": "2025-01-01T00:00:00Z", "until": "2027-01-01T00:00:00Z"}
    assert (await client.get("/api/v1/plan", params=params, headers=READ)).status_code == 400


async def test_plan_with_a_bad_instant_is_422(client: httpx.AsyncClient) -> None:
    """A from that is not an ISO 8601 instant is rejected naming the parameter."""
    response = await client.get("/api/v1/plan", params={"from": "tomorrow"}, headers=READ)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == "query.from"


async def test_plan_needs_a_token_when_one_is_configured(client: httpx.AsyncClient) -> None:
    """The plan is a read route like any other."""
    assert (await client.get("/api/v1/plan")).status_code == 401


def _busy_calendar(start: datetime, events: int) -> str:
    """Many events with reminders all year: a plan of a year renders thousands of messages."""
    lines = [
        "version: 1",
        "timezone: UTC",
        "defaults: {reminders: [60d, 30d, 14d, 7d, 3d, 1d, 2h, 0m], countdown: false, notify: [console]}",
        "channels: {console: {type: console}}",
        "events:",
    ]
    for n in range(events):
        day = (start + timedelta(days=1 + n % 300)).date().isoformat()
        lines.append(f"  - {{id: e{n}, title: Deadline number {n} with a long enough title, at: {day}}}")
    return "\n".join(lines) + "\n"


def _hammer(url: str, until: float, counts: list[int]) -> None:
    with httpx.Client(base_url=url, headers=WRITE, timeout=60, trust_env=False) as http:
        while time.monotonic() < until:
            assert http.get("/api/v1/plan", params={"until": "2026-10-20T00:00:00Z"}).status_code in (200, 503)
            counts.append(1)


async def test_concurrent_plan_readers_do_not_delay_due_reminders(start_daemon: DaemonFactory) -> None:
    """Four clients asking for a year's plan in a loop: every reminder due meanwhile is sent within a second."""
    start = datetime(2025, 10, 20, 12, 0, tzinfo=UTC)
    daemon = await start_daemon(
        ReplayClock(start),
        _busy_calendar(start, 3000),
        http_host="127.0.0.1",
        http_port=0,
        api_token=WRITE_TOKEN,
        max_sleep=1.0,
    )
    assert daemon.http_address is not None
    url = "http://{}:{}".format(*daemon.http_address)
    # Eight reminders due one second apart, from 3 s after now (the start above took its time).
    soon = {
        "id": "soon",
        "title": "Soon",
        "start": (daemon.clock.now() + timedelta(seconds=12)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "reminders": [f"{s}s" for s in range(9, 1, -1)],
    }
    async with httpx.AsyncClient(base_url=url, headers=WRITE, trust_env=False) as http:
        assert (await http.post("/api/v1/events", json=soon)).status_code == 201
    counts: list[int] = []
    until = time.monotonic() + 11
    await asyncio.gather(*(asyncio.to_thread(_hammer, url, until, counts) for _ in range(4)))
    with daemon.engine.connect() as conn:
        rows = conn.execute(
            sa.select(NOTIFICATION.c.due_at, NOTIFICATION.c.sent_at).where(
                NOTIFICATION.c.event_id == "soon", NOTIFICATION.c.kind == "reminder"
            )
        ).all()
    lateness = [(utc(r.sent_at) - utc(r.due_at)).total_seconds() for r in rows if r.sent_at is not None]
    assert len(lateness) == 8, rows
    assert len(counts) >= 4  # the readers did run meanwhile
    assert max(lateness) < 1.0, lateness


BUSINESS_DAYS = """\
    version: 1
    timezone: America/New_York
    workdays: {country: US, subdivision: NY}
    defaults:
      reminders: [3bd]
      if_closed: previous
      countdown: false
      notify: [console]
    channels:
      console: {type: console}
    events:
      - id: filing
        title: Annual filing
        at: 2025-11-27T17:00
"""
WINDOW = {"from": "2025-11-01T00:00:00Z", "until": "2025-12-02T00:00:00Z"}


async def test_plan_and_events_show_business_day_reminders_and_the_written_date(start_daemon: DaemonFactory) -> None:
    """An event written on Thanksgiving is moved to Wednesday 17:00; its 3bd reminder lands Friday the week
    before (Nov 21); the event lists the offset as written and notes the written date."""
    daemon = await start_daemon(calendar=BUSINESS_DAYS, api_token=WRITE_TOKEN, api_read_token=READ_TOKEN)
    async with client_for(daemon) as client:
        plan = (await client.get("/api/v1/plan", params=WINDOW, headers=READ)).json()
        event = (await client.get("/api/v1/events/filing", headers=READ)).json()
    assert [(i["event_id"], i["offset"], i["due_at"], i["local_due_at"]) for i in plan["items"]] == [
        ("filing", "3bd", "2025-11-21T22:00:00Z", "2025-11-21T17:00:00-05:00")
    ]
    assert event["reminders"] == ["3bd"]
    assert event["start"].startswith("2025-11-26T17:00")
    assert "Moved from Thu 2025-11-27 (Thanksgiving Day in US-NY) by if_closed: previous." in event["notes"]


async def test_an_api_event_with_a_business_day_reminder_is_planned_by_the_files_workdays(
    start_daemon: DaemonFactory,
) -> None:
    """POSTed with reminders [1bd] before Monday 2025-12-01 09:00: Friday 2025-11-28 09:00 EST."""
    daemon = await start_daemon(calendar=BUSINESS_DAYS, api_token=WRITE_TOKEN, api_read_token=READ_TOKEN)
    body = {"id": "extra", "title": "Extra", "start": "2025-12-01T09:00", "reminders": ["1bd"]}
    async with client_for(daemon) as client:
        assert (await client.post("/api/v1/events", json=body, headers=WRITE)).status_code == 201
        plan = (await client.get("/api/v1/plan", params=WINDOW, headers=READ)).json()
    items = [(i["event_id"], i["offset"], i["due_at"]) for i in plan["items"]]
    assert ("extra", "1bd", "2025-11-28T14:00:00Z") in items

"""``/plan``: the same items as ``/api/v1/plan``, per channel, with local and UTC instants and failing marks."""

from __future__ import annotations

import re

import httpx

from alertd.daemon import Daemon
from alertd.delivery.health import mark_failing

from .conftest import READ_TOKEN, WebDaemon, client_for, log_in

BEARER = {"Authorization": "Bearer " + READ_TOKEN}


async def test_the_timeline_lists_what_the_api_plans_for_the_same_window(client: httpx.AsyncClient) -> None:
    await log_in(client, READ_TOKEN)
    html = (await client.get("/plan", params={"days": 14})).text
    api = (await client.get("/api/v1/plan", params={"until": "2025-11-14T12:00:00Z"}, headers=BEARER)).json()
    utc_column = re.findall(r"<td>(\d{4}-\d\d-\d\d \d\d:\d\d)</td>\s*<td>(?:countdown|reminder)", html)
    assert utc_column
    assert sorted(utc_column) == sorted(i["due_at"][:16].replace("T", " ") for i in api["items"])


async def test_local_times_cross_the_clock_change_in_the_channels_zone(client: httpx.AsyncClient) -> None:
    await log_in(client, READ_TOKEN)
    html = (await client.get("/plan", params={"days": 14})).text
    # The 7-day reminder of the 10 Nov truce expiry: 09:00 in New York, after the change (EST, 14:00 UTC).
    assert "2025-11-03 09:00 EST</td>\n      <td>2025-11-03 14:00" in html


async def test_a_failing_channel_is_marked_on_its_lane(daemon: Daemon, client: httpx.AsyncClient) -> None:
    with daemon.engine.begin() as conn:
        mark_failing(conn, "console", "stdout is closed", now=daemon.clock.now())
    await log_in(client, READ_TOKEN)
    html = (await client.get("/plan")).text
    assert "failing since 2025-10-31 12:00Z: stdout is closed" in html


async def test_a_window_beyond_ninety_days_is_refused(client: httpx.AsyncClient) -> None:
    await log_in(client, READ_TOKEN)
    assert (await client.get("/plan", params={"days": 400})).status_code == 422


QUIET = """\
version: 1
timezone: America/New_York
defaults: {reminders: [2h], notify: [desk], countdown: false}
channels:
  desk: {type: console, timezone: America/New_York, quiet_hours: {from: "22:00", to: "07:00"}}
events:
  - {id: early-call, title: Early call, at: "2025-11-05T06:00"}
"""


async def test_a_reminder_inside_quiet_hours_is_marked_held_until_they_end(start_web: WebDaemon) -> None:
    daemon = await start_web(calendar=QUIET, api_read_token=READ_TOKEN)
    async with client_for(daemon) as http:
        await log_in(http, READ_TOKEN)
        html = (await http.get("/plan")).text
    # 04:00 EST is inside 22:00–07:00, so the reminder waits until 07:00 EST (12:00 UTC).
    assert "2025-11-05 04:00 EST" in html
    assert "held</span> until 2025-11-05 12:00 UTC (quiet hours)" in html

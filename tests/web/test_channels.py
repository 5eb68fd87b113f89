"""``/channels``: health and pacing per channel, and send-test through the daemon's own channel to a real receiver."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx
import sqlalchemy as sa
from support.receiver import Receiver

from alertd.clock import FixedClock
from alertd.delivery.health import mark_failing
from alertd.storage import NOTIFICATION

from .conftest import NOW, READ_TOKEN, WRITE_TOKEN, WebDaemon, client_for, csrf_of, log_in

SECRET = "s3cr3t-" + "hook-path"


def _calendar(receiver: Receiver) -> str:
    return f"""\
version: 1
timezone: America/New_York
defaults: {{reminders: [1d], notify: [hook], countdown: false}}
channels:
  hook: {{type: webhook, url: "{receiver.url("/" + SECRET)}"}}
  console: {{type: console}}
events:
  - {{id: launch, title: Launch day, at: 2025-11-10}}
"""


async def _send_test(http: httpx.AsyncClient) -> dict[str, list[str]]:
    csrf = csrf_of((await http.get("/channels")).text)
    done = await http.post("/channels/hook/test", data={"csrf": csrf})
    assert done.status_code == 303
    return parse_qs(urlsplit(done.headers["location"]).query)


async def test_send_test_shows_the_services_answer_without_the_channels_secret(
    start_web: WebDaemon, receiver: Receiver
) -> None:
    receiver.reply(200, f"accepted at /{SECRET}")
    daemon = await start_web(calendar=_calendar(receiver), api_token=WRITE_TOKEN, allow_private_targets=True)
    async with client_for(daemon) as http:
        await log_in(http, WRITE_TOKEN)
        result = await _send_test(http)
        assert result["outcome"] == ["ok"]
        assert result["answer"][0].startswith("delivered")
        assert SECRET not in result["answer"][0]
        page = (await http.get("/channels", params=result)).text
        assert "Send-test hook: delivered" in page
        assert SECRET not in page
    assert len(receiver.requests) == 1
    with daemon.engine.connect() as conn:
        kinds = conn.execute(sa.select(NOTIFICATION.c.state).where(NOTIFICATION.c.kind == "test")).scalars().all()
    assert kinds == ["sent"]


async def test_a_failing_send_test_says_why_and_is_kept_in_history(start_web: WebDaemon, receiver: Receiver) -> None:
    receiver.reply(404, "no such hook")
    daemon = await start_web(calendar=_calendar(receiver), api_token=WRITE_TOKEN, allow_private_targets=True)
    async with client_for(daemon) as http:
        await log_in(http, WRITE_TOKEN)
        result = await _send_test(http)
        assert result["outcome"] == ["failed"]
        assert "404" in result["answer"][0]
        assert "test:hook:" in (await http.get("/history", params={"state": "dead"})).text


async def test_a_failing_channel_shows_its_reason_and_since_when(start_web: WebDaemon, receiver: Receiver) -> None:
    daemon = await start_web(calendar=_calendar(receiver), api_read_token=READ_TOKEN, allow_private_targets=True)
    with daemon.engine.begin() as conn:
        mark_failing(conn, "hook", "HTTP 410: the webhook was deleted", now=daemon.clock.now())
    async with client_for(daemon) as http:
        await log_in(http, READ_TOKEN)
        html = (await http.get("/channels")).text
    assert "failing</span> since 2025-10-31 12:00: HTTP 410: the webhook was deleted" in html
    assert "Send test" not in html
    assert SECRET not in html


async def test_the_pacing_column_shows_the_types_documented_rate(client: httpx.AsyncClient) -> None:
    await log_in(client, READ_TOKEN)
    html = (await client.get("/channels")).text
    assert '<th scope="row">console</th>' in html
    assert "unpaced" in html


async def test_send_test_during_a_reload_says_to_try_again(start_web: WebDaemon, receiver: Receiver) -> None:
    daemon = await start_web(calendar=_calendar(receiver), api_token=WRITE_TOKEN, allow_private_targets=True)
    del daemon.dispatcher.channels["hook"]  # as between a reload's calendar and its channels
    async with client_for(daemon) as http:
        await log_in(http, WRITE_TOKEN)
        result = await _send_test(http)
    assert result["outcome"] == ["failed"]
    assert "being reloaded; try again" in result["answer"][0]
    assert receiver.requests == []


async def test_a_repeated_click_within_ten_seconds_is_answered_without_sending(
    start_web: WebDaemon, receiver: Receiver
) -> None:
    clock = FixedClock(NOW)
    daemon = await start_web(clock, _calendar(receiver), api_token=WRITE_TOKEN, allow_private_targets=True)
    async with client_for(daemon) as http:
        await log_in(http, WRITE_TOKEN)
        assert (await _send_test(http))["outcome"] == ["ok"]
        clock.advance(3)
        again = await _send_test(http)
        assert again["outcome"] == ["failed"]
        assert again["answer"] == ["not sent: a test went to 'hook' less than 10 s ago; try again in 7 s"]
        clock.advance(8)
        assert (await _send_test(http))["outcome"] == ["ok"]
    assert len(receiver.requests) == 2


async def test_send_test_keeps_to_the_channels_rate_limit(start_web: WebDaemon, receiver: Receiver) -> None:
    clock = FixedClock(NOW)
    paced = _calendar(receiver).replace('url: "', 'rate_limit: {per_minute: 1, burst: 1}, url: "')
    daemon = await start_web(clock, paced, api_token=WRITE_TOKEN, allow_private_targets=True)
    async with client_for(daemon) as http:
        await log_in(http, WRITE_TOKEN)
        assert (await _send_test(http))["outcome"] == ["ok"]
        clock.advance(20)
        again = await _send_test(http)
        assert again["outcome"] == ["failed"]
        assert again["answer"] == ["not sent: 'hook' is at its rate limit; try again in 40 s"]
    assert len(receiver.requests) == 1

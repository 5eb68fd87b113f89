"""Slack's interactivity endpoint over real sockets: a bot card with an "Acknowledge" button (on a stand-in Slack
Web API on 127.0.0.1), a signed click acknowledging the event and the card updated in place; forged, stale and
replayed clicks refused with 401 and nothing changed."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
import sqlalchemy as sa
from support.slack_api import TOKEN, SlackApi

from alertd.channels.slack_verify import signature
from alertd.clock import FixedClock
from alertd.daemon import Daemon
from alertd.storage.acks import ACK, unack_event
from alertd.storage.outbox import NOTIFICATION

from .conftest import NOW, DaemonFactory

# Assembled, so that no scanner takes this test value for a real Slack signing secret.
SIGNING_SECRET = "test-signing-" + "secret-not-real-0000"
SLACK_CHANNEL = "C0TEST1234"
CALENDAR = """\
    version: 1
    timezone: America/New_York
    defaults: {{reminders: [3d, 1d], countdown: false, notify: [desk]}}
    channels:
      desk: {{type: slack, token: "{token}", channel: {channel}, api_base: "{api}"}}
    events:
      - id: truce-expiry
        title: US–China tariff truce expires
        at: 2025-11-10
"""


class Setup:
    def __init__(self, daemon: Daemon, clock: FixedClock, http: httpx.AsyncClient, slack: SlackApi) -> None:
        self.daemon, self.clock, self.http, self.slack = daemon, clock, http, slack

    async def deliver(self) -> None:
        """One dispatcher round, as the daemon's timer runs it, with its outcomes stored."""
        await self.daemon.dispatcher.step()
        await self.daemon.dispatcher.drain(timeout=5)

    def reminder_states(self) -> set[str]:
        with self.daemon.engine.begin() as conn:
            query = sa.select(NOTIFICATION.c.state).where(NOTIFICATION.c.kind == "reminder")
            return set(conn.execute(query).scalars())

    def acks(self) -> list[Any]:
        with self.daemon.engine.begin() as conn:
            return list(conn.execute(sa.select(ACK)))

    async def click(
        self, *, event_id: str = "truce-expiry", secret: str = SIGNING_SECRET, age: float = 0, body: bytes | None = None
    ) -> tuple[httpx.Response, bytes, dict[str, str]]:
        payload = {
            "type": "block_actions",
            "user": {"id": "U0ANA", "username": "ana"},
            "channel": {"id": SLACK_CHANNEL},
            "container": {"type": "message", "message_ts": "1.2", "channel_id": SLACK_CHANNEL},
            "actions": [{"action_id": "alertd_ack", "value": event_id, "type": "button"}],
        }
        raw = body if body is not None else urlencode({"payload": json.dumps(payload)}).encode()
        stamp = str(int(time.time() - age))
        headers = {
            "x-slack-request-timestamp": stamp,
            "x-slack-signature": signature(secret.encode(), stamp, raw),
            "content-type": "application/x-www-form-urlencoded",
        }
        return await self.send(raw, headers), raw, headers

    async def send(self, raw: bytes, headers: dict[str, str]) -> httpx.Response:
        return await self.http.post("/slack/interactions", content=raw, headers=headers)


@pytest.fixture
async def slack() -> AsyncIterator[SlackApi]:
    server = SlackApi()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def setup(start_daemon: DaemonFactory, slack: SlackApi) -> AsyncIterator[Setup]:
    clock = FixedClock(NOW)
    daemon = await start_daemon(
        clock,
        calendar=CALENDAR.format(token=TOKEN, channel=SLACK_CHANNEL, api=slack.url()),
        http_host="127.0.0.1",
        http_port=0,
        slack_signing_secret=SIGNING_SECRET,
    )
    assert daemon.http_address is not None
    host, port = daemon.http_address
    async with httpx.AsyncClient(base_url=f"http://{host}:{port}", trust_env=False) as http:
        state = Setup(daemon, clock, http, slack)
        # The 3d reminder (7 Nov 14:00Z) posts the event's card, with its button.
        clock.set(NOW + timedelta(days=18, hours=2))
        await state.deliver()
        yield state


def card_ts(slack: SlackApi) -> str:
    return next(iter(slack.messages))


def buttons(blocks: list[dict[str, Any]]) -> list[str]:
    return [e["action_id"] for b in blocks if b["type"] == "actions" for e in b["elements"]]


async def test_the_card_has_an_acknowledge_button(setup: Setup) -> None:
    assert buttons(setup.slack.messages[card_ts(setup.slack)]["blocks"]) == ["alertd_ack"]


async def test_a_signed_click_acknowledges_and_updates_the_card_in_place(setup: Setup) -> None:
    """Valid signature: the ack is recorded (slack, @ana), reminders stop, and the card says who, without button."""
    answer, _, _ = await setup.click()

    assert answer.status_code == 200
    assert [(a.by, a.via) for a in setup.acks()] == [("@ana", "slack")]
    sample = setup.daemon.metrics.registry.get_sample_value
    assert sample("alertd_acknowledgements_total", {"via": "slack"}) == 1.0
    assert setup.reminder_states() == {"sent", "cancelled"}
    await setup.deliver()  # the acknowledgement notice reaches the Slack channel
    updated = setup.slack.calls("chat.update")[-1]
    assert updated["ts"] == card_ts(setup.slack)
    lead = updated["blocks"][1]["text"]["text"]
    assert lead.startswith(":white_check_mark:")
    assert "acknowledged by @ana (slack)" in lead
    assert buttons(updated["blocks"]) == []


async def test_a_wrong_signature_is_refused_and_changes_nothing(setup: Setup, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="alertd.http"):
        answer, _, headers = await setup.click(secret="not-the-" + "signing-secret")
    assert answer.status_code == 401
    assert setup.acks() == []
    assert setup.reminder_states() == {"sent", "pending"}
    assert "signature does not match" in caplog.text
    assert SIGNING_SECRET not in caplog.text
    assert headers["x-slack-signature"] not in caplog.text


async def test_a_changed_body_is_refused(setup: Setup) -> None:
    _, raw, headers = await setup.click(event_id="nope")  # an unknown event: accepted, nothing recorded
    forged = raw.replace(b"nope", b"truce-expiry")
    headers = {**headers, "x-slack-request-timestamp": headers["x-slack-request-timestamp"]}
    assert (await setup.send(forged, headers)).status_code == 401
    assert setup.acks() == []


async def test_a_stale_click_is_refused(setup: Setup, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="alertd.http"):
        answer, _, _ = await setup.click(age=301)
    assert answer.status_code == 401
    assert setup.acks() == []
    assert "5-minute window" in caplog.text


async def test_a_replayed_click_is_refused(setup: Setup) -> None:
    first, raw, headers = await setup.click()
    assert first.status_code == 200
    # Withdrawn meanwhile: a replay must not acknowledge it again.
    unack_event(setup.daemon.engine, setup.daemon.calendar, event_id="truce-expiry", by="bo", now=setup.clock.now())

    again = await setup.send(raw, headers)

    assert again.status_code == 401
    assert [(a.by, a.revoked_by) for a in setup.acks()] == [("@ana", "bo")]


async def test_missing_headers_are_refused(setup: Setup) -> None:
    assert (await setup.send(b"payload=%7B%7D", {})).status_code == 401
    assert setup.acks() == []


async def test_without_a_signing_secret_the_endpoint_is_off(start_daemon: DaemonFactory) -> None:
    daemon = await start_daemon(http_host="127.0.0.1", http_port=0)
    assert daemon.http_address is not None
    host, port = daemon.http_address
    async with httpx.AsyncClient(base_url=f"http://{host}:{port}", trust_env=False) as http:
        answer = await http.post("/slack/interactions", content=b"payload=%7B%7D")
    assert answer.status_code == 404
    assert "ALERTD_SLACK_SIGNING_SECRET" in answer.json()["error"]

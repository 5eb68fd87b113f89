"""Slack bot mode end to end: one card per event, created once and updated across three days and two restarts."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from support.slack_api import TOKEN, SlackApi

from e2e.harness import Harness

pytestmark = pytest.mark.slow

SLACK_CHANNEL = "C0DESK0001"
# Digests daily at 12:00 UTC; the vote is on day 3 at 12:30 with reminders a day and 15 minutes before.
CALENDAR = """
    version: 1
    timezone: UTC
    defaults:
      countdown: {within: 14d, at: "12:00"}
    channels:
      desk: {type: slack, token_file: token.txt, channel: C0DESK0001, api_base: "${SLACK_API}"}
    events:
      - id: vote
        title: Council vote
        at: 2025-11-12T12:30
        status: tentative
        source: "https://example.org/agenda?id=7&x=1"
        reminders: [1d, 15m]
        notify: [desk]
"""


@pytest.fixture
def slack() -> Iterator[SlackApi]:
    server = SlackApi()
    server.start_in_thread()
    yield server
    server.close()


# On a busy machine a send may be a few virtual minutes late, which the log line says.
_LATE = r"(?: \(late\))?"


def _day(day: int, hour: int, minute: int) -> datetime:
    return datetime(2025, 11, day, hour, minute, tzinfo=UTC)


def test_one_card_is_created_once_and_updated_across_restarts(e2e: Harness, slack: SlackApi) -> None:
    """Day 1 posts the card; days 2 and 3 (each a new daemon) update it, and milestones reply in its thread."""
    (e2e.dir / "token.txt").write_text(TOKEN + "\n", encoding="utf-8")
    env = {"SLACK_API": slack.url()}
    calendar = e2e.calendar(CALENDAR)

    # An hour (6 real seconds) ahead: the first digest is planned only if the daemon is up before it is due.
    first = e2e.start(calendar, replay_from=_day(10, 11, 0), env=env)
    first.wait_for_log(rf"sent cd:desk:20251110 → desk{_LATE}: 1 card created")
    assert first.stop() == 0
    (card_ts,) = slack.messages

    second = e2e.start(calendar, replay_from=_day(11, 11, 58), env=env)
    second.wait_for_log(rf"sent cd:desk:20251111 → desk{_LATE}: 1 card updated")
    second.wait_for_log(
        rf"sent rem:vote:1d:desk:\S+ → desk{_LATE}: card {card_ts} updated in {SLACK_CHANNEL}; reply \S+ in its thread"
    )
    assert second.stop() == 0

    # Day 3: the vote is confirmed while no daemon runs; the next one sends a change notice.
    e2e.calendar(CALENDAR.replace("status: tentative", "status: confirmed"))
    third = e2e.start(calendar, replay_from=_day(12, 11, 30), env=env)
    third.wait_for_log(rf"sent cd:desk:20251112 → desk{_LATE}: 1 card updated")
    third.wait_for_log(rf"sent chg:vote:\S+ → desk{_LATE}: card {card_ts} updated")
    third.wait_for_log(rf"sent rem:vote:15m:desk:\S+ → desk{_LATE}: card {card_ts} updated")
    assert third.stop() == 0

    posts = slack.calls("chat.postMessage")
    assert [p for p in posts if "thread_ts" not in p] == [posts[0]]
    replies = [p for p in posts if "thread_ts" in p]
    assert {p["thread_ts"] for p in replies} == {card_ts}
    assert len(replies) == 3
    updates = slack.calls("chat.update")
    assert {u["ts"] for u in updates} == {card_ts}
    assert len(updates) == 5
    assert all(r.headers["authorization"] == f"Bearer {TOKEN}" for r in slack.requests)

    final = slack.messages[card_ts]
    status = final["blocks"][2]["fields"][1]["text"]
    assert status == "*Status*\n:white_check_mark: confirmed"
    assert re.fullmatch(r":hourglass_flowing_sand: \*in \d+ minutes?\*", final["blocks"][1]["text"]["text"])
    assert {r["state"] for r in e2e.history()} == {"sent"}

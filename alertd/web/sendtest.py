"""A test message from the dashboard: sent through the daemon's own channel (scrubbed, same HTTP client), within the
channel's pace (its rate-limit tokens, shared with deliveries), at most one per channel every ``TEST_EVERY`` (a
repeated click is answered, not sent), and kept in history like ``alertd send-test`` keeps it."""

from __future__ import annotations

import math
import weakref
from datetime import datetime, timedelta

import sqlalchemy as sa

from alertd.api.deps import Backend, run_db
from alertd.channels import PartialAnswer
from alertd.delivery import last_test_at, record_test
from alertd.errors import DeliveryError
from alertd.messages import render
from alertd.storage import Outcome

__all__ = ["TEST_EVERY", "TestResult", "send_test"]

# Long enough that a double click or an impatient reload sends one message, short enough to test again after a fix.
TEST_EVERY = timedelta(seconds=10)
# Tests being sent now, per dispatcher: the database knows of a test only once it is recorded, after the answer.
_SENDING: weakref.WeakKeyDictionary[object, set[str]] = weakref.WeakKeyDictionary()


class TestResult:
    """What the service answered (scrubbed of the channel's secrets), or why it failed or was not sent."""

    __test__ = False  # not a pytest class, despite its name

    def __init__(self, ok: bool, text: str) -> None:
        self.ok = ok
        self.text = " ".join(text.split())[:300]


def _seconds(delta: timedelta) -> int:
    return max(1, math.ceil(delta.total_seconds()))


def _too_soon(engine: sa.Engine, channel_id: str, now: datetime) -> timedelta | None:
    with engine.connect() as conn:
        last = last_test_at(conn, channel_id)
    return None if last is None or now - last >= TEST_EVERY else TEST_EVERY - (now - last)


async def send_test(daemon: Backend, channel_id: str) -> TestResult:
    """Send a test message to ``channel_id`` (a channel of the loaded calendar) and record the outcome."""
    channel = daemon.dispatcher.channels.get(channel_id)
    if channel is None:
        # The calendar was reloaded between the page and the click, and the dispatcher has not caught up yet.
        return TestResult(False, f"channel {channel_id!r} is being reloaded; try again in a few seconds")
    sending = _SENDING.setdefault(daemon.dispatcher, set())
    if channel_id in sending:
        return TestResult(False, f"a test to {channel_id!r} is being sent now; its answer shows when it is back")
    now = daemon.clock.now()
    wait = await run_db(daemon, _too_soon, daemon.engine, channel_id, now)
    if wait is not None:
        return TestResult(
            False,
            f"not sent: a test went to {channel_id!r} less than {_seconds(TEST_EVERY)} s ago; "
            f"try again in {_seconds(wait)} s",
        )
    ready = daemon.dispatcher.pace_test(channel_id)
    if ready is not None:
        return TestResult(
            False, f"not sent: {channel_id!r} is at its rate limit; try again in {_seconds(ready - now)} s"
        )
    sending.add(channel_id)
    try:
        return await _send(daemon, channel_id, now)
    finally:
        sending.discard(channel_id)


async def _send(daemon: Backend, channel_id: str, now: datetime) -> TestResult:
    spec = daemon.calendar.channels[channel_id]
    channel = daemon.dispatcher.channels[channel_id]
    message = render(id=f"test:{spec.id}:{now:%Y%m%dT%H%M%S%fZ}", kind="test", channel=spec, due_at=now, now=now)
    try:
        answer = await channel.send(message)
    except DeliveryError as exc:
        outcome = Outcome(id=message.id, state="dead", at=now, detail=str(exc))
        result = TestResult(False, f"failed ({'permanent' if exc.permanent else 'temporary'}): {exc}")
    else:
        refused = f"refused: {answer.refused}" if isinstance(answer, PartialAnswer) else None
        outcome = Outcome(id=message.id, state="sent", at=now, detail=answer, note=refused)
        result = TestResult(True, f"delivered — {answer}")
    engine, admin = daemon.engine, daemon.calendar.admin

    def remember() -> None:
        with engine.begin() as conn:
            record_test(conn, outcome, spec.id, now=now, worker="web", admin=admin)

    await run_db(daemon, remember)
    daemon.dispatcher.kick.set()
    return result

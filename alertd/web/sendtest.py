"""A test message from the dashboard: sent through the daemon's own channel (so it is paced, scrubbed and uses the
same HTTP client), kept in history like ``alertd send-test`` keeps it, and a success clears a failing mark."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from alertd.api.deps import Backend, run_db
from alertd.channels import PartialAnswer
from alertd.delivery import clear_failing
from alertd.domain import Planned
from alertd.errors import DeliveryError
from alertd.messages import render
from alertd.storage import NOTIFICATION, Outcome, enqueue, record

__all__ = ["TestResult", "send_test"]


class TestResult:
    """What the service answered (scrubbed of the channel's secrets), or why it failed."""

    __test__ = False  # not a pytest class, despite its name

    def __init__(self, ok: bool, text: str) -> None:
        self.ok = ok
        self.text = " ".join(text.split())[:300]


def _remember(conn: sa.Connection, id: str, channel: str, now: datetime, outcome: Outcome, admin: str | None) -> None:
    enqueue(conn, [Planned(id=id, kind="test", channel=channel, due_at=now)], now=now - timedelta(seconds=1))
    conn.execute(
        NOTIFICATION.update().where(NOTIFICATION.c.id == id).values(state="sending", locked_by="web", attempts=1)
    )
    record(conn, [outcome], worker="web")
    if outcome.state == "sent":
        clear_failing(conn, channel, now=now, admin=admin)


async def send_test(daemon: Backend, channel_id: str) -> TestResult:
    """Send a test message to ``channel_id`` (a channel of the loaded calendar) and record the outcome."""
    spec = daemon.calendar.channels[channel_id]
    channel = daemon.dispatcher.channels.get(channel_id)
    if channel is None:
        # The calendar was reloaded between the page and the click, and the dispatcher has not caught up yet.
        return TestResult(False, f"channel {channel_id!r} is being reloaded; try again in a few seconds")
    now = daemon.clock.now()
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
            _remember(conn, message.id, spec.id, now, outcome, admin)

    await run_db(daemon, remember)
    daemon.dispatcher.kick.set()
    return result

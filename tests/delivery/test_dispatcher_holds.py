"""The dispatcher's holds against a real SQLite outbox on a fixed clock: quiet hours, rate limits, channel health."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from alertd.calendar.load import parse_calendar
from alertd.channels import Channel
from alertd.clock import FixedClock
from alertd.delivery.dispatcher import Dispatcher, DispatchSettings
from alertd.delivery.health import clear_failing, failing_channels, mark_failing
from alertd.domain import Calendar, ChannelSpec, Message
from alertd.errors import DeliveryError
from alertd.storage.db import create_engine, migrate
from alertd.storage.outbox import NOTIFICATION
from alertd.storage.sync import sync_calendar

# The event starts at 23:30 UTC; its 1h reminder is due at 22:30, inside the 22:00-07:00 quiet hours.
START = datetime(2025, 10, 30, 23, 30, tzinfo=UTC)
REMINDER = START - timedelta(hours=1)
MORNING = datetime(2025, 10, 31, 7, 0, tzinfo=UTC)


class FakeChannel:
    """Answers each send with the next scripted outcome ("ok" when the script is empty)."""

    def __init__(self, spec: ChannelSpec, *script: str | DeliveryError) -> None:
        self.spec = spec
        self.script = list(script)
        self.messages: list[Message] = []

    async def send(self, message: Message) -> str:
        self.messages.append(message)
        outcome = self.script.pop(0) if self.script else "ok"
        if isinstance(outcome, DeliveryError):
            raise outcome
        return outcome


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Engine]:
    engine = create_engine(f"sqlite:///{tmp_path / 'alertd.db'}")
    migrate(engine)
    yield engine
    engine.dispose()


def load(engine: Engine, channel: str, events: int = 1, *, apart: int = 0) -> Calendar:
    """``events`` events with a 1h reminder each, the first starting at START, the others ``apart`` minutes later."""
    listed = "".join(
        f"  - {{id: e{i}, title: Event {i}, at: 2025-10-30T23:{30 + i * apart:02d}, reminders: [1h], notify: [a]}}\n"
        for i in range(events)
    )
    text = f"version: 1\ntimezone: UTC\nchannels:\n  a: {channel}\nevents:\n{listed}"
    calendar, _ = parse_calendar(textwrap.dedent(text), name="calendar.yaml", environ={})
    with engine.begin() as conn:
        sync_calendar(conn, calendar, now=REMINDER - timedelta(hours=1))
    return calendar


def make(engine: Engine, calendar: Calendar, clock: FixedClock, channel: FakeChannel) -> Dispatcher:
    channels: dict[str, Channel] = {"a": channel}
    return Dispatcher(
        engine=engine,
        clock=clock,
        calendar=calendar,
        channels=channels,
        concurrency={"a": 10},
        settings=DispatchSettings(worker="test-worker"),
    )


def reminders(engine: Engine) -> list[sa.Row[Any]]:
    with engine.connect() as conn:
        query = sa.select(NOTIFICATION).where(NOTIFICATION.c.kind == "reminder").order_by(NOTIFICATION.c.id)
        return list(conn.execute(query).all())


async def run_once(dispatcher: Dispatcher) -> tuple[int, datetime | None]:
    claimed, due = await dispatcher.step()
    await dispatcher.drain(timeout=5)
    return claimed, due


QUIET = '{type: console, quiet_hours: {from: "22:00", to: "07:00"}}'


async def test_reminder_due_in_quiet_hours_is_held_until_the_window_ends(db: Engine) -> None:
    calendar = load(db, QUIET)
    dispatcher = make(db, calendar, FixedClock(REMINDER), FakeChannel(calendar.channels["a"]))
    try:
        claimed, due = await run_once(dispatcher)
    finally:
        dispatcher.close()
    (row,) = reminders(db)
    assert (claimed, due) == (0, MORNING)
    assert (row.state, row.attempts, row.next_at, row.held_until) == ("pending", 0, MORNING, MORNING)
    assert row.due_at == REMINDER
    assert row.last_error == "held by quiet hours until 07:00 UTC"


async def test_held_reminder_is_sent_late_at_window_end_even_after_its_event_started(db: Engine) -> None:
    calendar = load(db, QUIET)
    clock = FixedClock(REMINDER)
    channel = FakeChannel(calendar.channels["a"])
    dispatcher = make(db, calendar, clock, channel)
    try:
        await run_once(dispatcher)
        clock.set(MORNING)
        claimed, _ = await run_once(dispatcher)
    finally:
        dispatcher.close()
    (row,) = reminders(db)
    assert claimed == 1
    assert (row.state, row.late, row.sent_at) == ("sent", True, MORNING)
    assert [m.id for m in channel.messages] == [row.id]


RATED = "{type: console, rate_limit: {per_second: 1, burst: 2}}"


async def test_rate_limited_channel_claims_only_what_its_bucket_allows(db: Engine) -> None:
    calendar = load(db, RATED, events=4)
    dispatcher = make(db, calendar, FixedClock(REMINDER), FakeChannel(calendar.channels["a"]))
    try:
        claimed, _ = await run_once(dispatcher)
    finally:
        dispatcher.close()
    assert claimed == 2
    assert sorted((r.state, r.attempts) for r in reminders(db)) == [("pending", 0)] * 2 + [("sent", 1)] * 2


async def test_starved_channel_asks_to_wake_when_its_bucket_refills(db: Engine) -> None:
    calendar = load(db, RATED, events=4)
    clock = FixedClock(REMINDER)
    dispatcher = make(db, calendar, clock, FakeChannel(calendar.channels["a"]))
    try:
        await run_once(dispatcher)
        claimed, due = await run_once(dispatcher)
        assert (claimed, due) == (0, REMINDER + timedelta(seconds=1))
        clock.set(REMINDER + timedelta(seconds=1))
        claimed, _ = await run_once(dispatcher)
    finally:
        dispatcher.close()
    assert claimed == 1


BAD_TOKEN = DeliveryError("HTTP 401 invalid_auth", permanent=True, status=401)


async def test_permanent_error_marks_the_channel_failing(db: Engine) -> None:
    calendar = load(db, "{type: console}")
    dispatcher = make(db, calendar, FixedClock(REMINDER), FakeChannel(calendar.channels["a"], BAD_TOKEN))
    try:
        await run_once(dispatcher)
        await run_once(dispatcher)
    finally:
        dispatcher.close()
    with db.connect() as conn:
        failing = failing_channels(conn)
    assert [(h.channel, h.since, h.reason) for h in failing.values()] == [("a", REMINDER, "HTTP 401 invalid_auth")]
    assert [r.state for r in reminders(db)] == ["dead"]


async def test_failing_channel_rows_stay_pending_and_do_not_ask_for_a_wake_up(db: Engine) -> None:
    calendar = load(db, "{type: console}", events=2, apart=10)
    clock = FixedClock(REMINDER)
    channel = FakeChannel(calendar.channels["a"], BAD_TOKEN)
    dispatcher = make(db, calendar, clock, channel)
    try:
        await run_once(dispatcher)
        clock.set(REMINDER + timedelta(minutes=10))
        claimed, due = await run_once(dispatcher)
    finally:
        dispatcher.close()
    assert (claimed, due) == (0, None)
    assert [(r.state, r.attempts) for r in reminders(db)] == [("dead", 1), ("pending", 0)]
    assert len(channel.messages) == 1


async def test_rejected_payload_does_not_mark_the_channel_failing(db: Engine) -> None:
    calendar = load(db, "{type: console}")
    too_big = DeliveryError("HTTP 413 payload too large", permanent=True, status=413)
    dispatcher = make(db, calendar, FixedClock(REMINDER), FakeChannel(calendar.channels["a"], too_big))
    try:
        await run_once(dispatcher)
        await run_once(dispatcher)
    finally:
        dispatcher.close()
    with db.connect() as conn:
        assert failing_channels(conn) == {}


async def test_rows_held_by_a_failing_channel_are_sent_late_once_cleared_not_missed(db: Engine) -> None:
    calendar = load(db, "{type: console}", events=2, apart=10)
    channel = FakeChannel(calendar.channels["a"], BAD_TOKEN)
    clock = FixedClock(REMINDER)
    dispatcher = make(db, calendar, clock, channel)
    try:
        await run_once(dispatcher)
        # Fixed the next morning: long past the event start and the 6h catch-up window.
        clock.set(MORNING)
        assert await run_once(dispatcher) == (0, None)
        with db.begin() as conn:
            clear_failing(conn, "a", now=MORNING)
        claimed, _ = await run_once(dispatcher)
    finally:
        dispatcher.close()
    assert claimed == 1
    assert [(r.state, r.late) for r in reminders(db)] == [("dead", False), ("sent", True)]


async def test_poll_health_kicks_the_loop_after_a_clear_elsewhere(db: Engine) -> None:
    calendar = load(db, "{type: console}")
    dispatcher = make(db, calendar, FixedClock(REMINDER), FakeChannel(calendar.channels["a"], BAD_TOKEN))
    try:
        await run_once(dispatcher)
        await run_once(dispatcher)
        dispatcher.kick.clear()
        with db.begin() as conn:
            clear_failing(conn, "a", now=REMINDER)
        await dispatcher.poll_health()
        assert dispatcher.kick.is_set()
    finally:
        dispatcher.close()


async def test_after_a_clear_only_the_newest_overdue_digest_is_sent(db: Engine) -> None:
    text = """
        version: 1
        timezone: UTC
        defaults: {countdown: {within: 14d, at: "09:00"}, reminders: []}
        channels:
          a: {type: console}
        events:
          - {id: expiry, title: Truce expires, at: 2025-11-10, notify: [a]}
    """
    calendar, _ = parse_calendar(textwrap.dedent(text), name="calendar.yaml", environ={})
    with db.begin() as conn:
        sync_calendar(conn, calendar, now=datetime(2025, 11, 1, 8, 0, tzinfo=UTC))
        mark_failing(conn, "a", "HTTP 401", now=datetime(2025, 11, 1, 8, 0, tzinfo=UTC))
    later = datetime(2025, 11, 3, 12, 0, tzinfo=UTC)
    with db.begin() as conn:
        clear_failing(conn, "a", now=later)
    channel = FakeChannel(calendar.channels["a"])
    dispatcher = make(db, calendar, FixedClock(later), channel)
    try:
        await run_once(dispatcher)
    finally:
        dispatcher.close()
    with db.connect() as conn:
        query = sa.select(NOTIFICATION.c.id, NOTIFICATION.c.state).where(NOTIFICATION.c.due_at <= later)
        states: dict[str, str] = {r[0]: r[1] for r in conn.execute(query.order_by(NOTIFICATION.c.id))}
    assert states == {"cd:a:20251101": "missed", "cd:a:20251102": "missed", "cd:a:20251103": "sent"}
    assert [m.id for m in channel.messages] == ["cd:a:20251103"]

"""When the dispatcher wakes itself: outcomes stored in batches, and rows claimed a moment early sent on time."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from alertd.calendar.load import parse_calendar
from alertd.channels import Channel
from alertd.clock import Clock, FixedClock, ReplayClock
from alertd.delivery.dispatcher import Dispatcher, DispatchSettings
from alertd.domain import Calendar, ChannelSpec, Message
from alertd.storage.db import create_engine, migrate
from alertd.storage.outbox import NOTIFICATION
from alertd.storage.sync import sync_calendar

START = datetime(2025, 10, 30, 12, 0, tzinfo=UTC)
ONE = """
version: 1
timezone: UTC
channels:
  a: {type: console}
events:
  - {id: expiry, title: Truce expires, at: 2025-10-30T12:00, reminders: [2h], notify: [a]}
"""

EVENTS = "\n".join(
    f"  - {{id: e{i}, title: Event {i}, at: 2025-10-30T12:00, reminders: [1h], notify: [a]}}" for i in range(10)
)
MANY = f"""
version: 1
timezone: UTC
channels:
  a: {{type: console}}
events:
{EVENTS}
"""


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Engine]:
    engine = create_engine(f"sqlite:///{tmp_path / 'alertd.db'}")
    migrate(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def spec() -> ChannelSpec:
    return ChannelSpec(id="a", type="console", timezone="UTC")


def load(engine: Engine, text: str = ONE) -> Calendar:
    calendar, _ = parse_calendar(text, name="calendar.yaml", environ={})
    with engine.begin() as conn:
        sync_calendar(conn, calendar, now=START - timedelta(hours=3))
    return calendar


def make_dispatcher(
    engine: Engine, calendar: Calendar, clock: Clock, channel: Channel, *, concurrency: int = 10, **settings: Any
) -> Dispatcher:
    return Dispatcher(
        engine=engine,
        clock=clock,
        calendar=calendar,
        channels={"a": channel},
        concurrency={"a": concurrency},
        settings=DispatchSettings(worker="test-worker", **settings),
    )


def states(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        return set(conn.execute(sa.select(NOTIFICATION.c.state)).scalars())


class FakeChannel:
    """Records when each send happened (clock time), answers "ok"."""

    def __init__(self, spec: ChannelSpec, clock: Clock) -> None:
        self.spec = spec
        self.clock = clock
        self.sent: list[datetime] = []

    async def send(self, message: Message) -> str:
        self.sent.append(self.clock.now())
        return "ok"


class HeldChannel:
    """Each send waits until the test releases it."""

    def __init__(self, spec: ChannelSpec) -> None:
        self.spec = spec
        self.waiting: list[asyncio.Future[None]] = []

    async def send(self, message: Message) -> str:
        done = asyncio.get_running_loop().create_future()
        self.waiting.append(done)
        await done
        return "ok"


async def test_a_finished_send_of_a_busy_channel_is_stored_with_the_next_batch(db: Engine, spec: ChannelSpec) -> None:
    """No step per finished send while the channel's queue is long; the outcome is stored within moments."""
    calendar = load(db, MANY)
    channel = HeldChannel(spec)
    dispatcher = make_dispatcher(db, calendar, FixedClock(START - timedelta(hours=1)), channel, concurrency=1)
    try:
        claimed, _ = await dispatcher.step()
        assert claimed == 10
        while not channel.waiting:
            await asyncio.sleep(0)
        dispatcher.kick.clear()
        channel.waiting[0].set_result(None)
        while dispatcher.inflight != 9:
            await asyncio.sleep(0)
        assert not dispatcher.kick.is_set()  # 9 still queued for a channel sending one at a time
        await asyncio.wait_for(dispatcher.kick.wait(), timeout=2.0)  # the batch timer
        await dispatcher.step()
        assert dispatcher.sent_total == 1
        while dispatcher.inflight:
            for waiting in channel.waiting:
                if not waiting.done():
                    waiting.set_result(None)
            await asyncio.sleep(0.01)
        await dispatcher.drain(timeout=5)
    finally:
        dispatcher.close()
    assert states(db) == {"sent"}


async def test_a_row_claimed_early_is_sent_at_its_instant_not_before(db: Engine, spec: ChannelSpec) -> None:
    """With a lead, a row due in a few milliseconds is claimed now and sent once it is due."""
    calendar = load(db)
    due = START - timedelta(hours=2)
    clock = ReplayClock(due - timedelta(milliseconds=30))
    channel = FakeChannel(spec, clock)
    dispatcher = make_dispatcher(db, calendar, clock, channel, lead=0.2)
    try:
        claimed, _ = await dispatcher.step()
        assert claimed == 1
        await dispatcher.drain(timeout=5)
    finally:
        dispatcher.close()
    assert len(channel.sent) == 1
    assert channel.sent[0] >= due
    assert states(db) == {"sent"}


async def test_without_a_lead_nothing_is_claimed_before_it_is_due(db: Engine, spec: ChannelSpec) -> None:
    calendar = load(db)
    clock = FixedClock(START - timedelta(hours=2) - timedelta(milliseconds=30))
    dispatcher = make_dispatcher(db, calendar, clock, FakeChannel(spec, clock))
    try:
        claimed, due = await dispatcher.step()
    finally:
        dispatcher.close()
    assert claimed == 0
    assert due == START - timedelta(hours=2)

"""The dispatcher against a real SQLite outbox, on a fixed clock, with in-test channels (e2e covers sockets)."""

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
from alertd.clock import FixedClock
from alertd.delivery.dispatcher import Dispatcher, DispatchSettings
from alertd.delivery.health import mark_failing
from alertd.delivery.retry import RetryPolicy
from alertd.domain import Calendar, ChannelSpec, Message
from alertd.errors import DeliveryError
from alertd.messages.rendering import render
from alertd.storage.db import create_engine, migrate
from alertd.storage.outbox import ATTEMPT, NOTIFICATION
from alertd.storage.sync import sync_calendar

START = datetime(2025, 10, 30, 12, 0, tzinfo=UTC)
# Loaded an hour before the first reminder, so every reminder is still in the future and gets queued.
LOADED = START - timedelta(hours=3)

CALENDAR = """
version: 1
timezone: UTC
channels:
  a: {type: console}
events:
  - id: expiry
    title: Truce expires
    at: 2025-10-30T12:00
    reminders: [2h, 1h]
    notify: [a]
"""


class FakeChannel:
    """Answers each send with the next scripted outcome ("ok" when the script is empty); can hold sends open."""

    def __init__(self, spec: ChannelSpec, *script: str | DeliveryError) -> None:
        self.spec = spec
        self.script = list(script)
        self.messages: list[Message] = []
        self.gate: asyncio.Event | None = None
        self.active = 0
        self.most_active = 0

    async def send(self, message: Message) -> str:
        self.messages.append(message)
        self.active += 1
        self.most_active = max(self.most_active, self.active)
        try:
            if self.gate is not None:
                await self.gate.wait()
            outcome = self.script.pop(0) if self.script else "ok"
            if isinstance(outcome, DeliveryError):
                raise outcome
            return outcome
        finally:
            self.active -= 1


class SpeedyClock(FixedClock):
    """A fixed clock that claims to run 600 times faster than real time, like ``--replay-from --speed 600``."""

    speed = 600.0


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Engine]:
    engine = create_engine(f"sqlite:///{tmp_path / 'alertd.db'}")
    migrate(engine)
    yield engine
    engine.dispose()


def load(engine: Engine, text: str = CALENDAR) -> Calendar:
    calendar, _ = parse_calendar(text, name="calendar.yaml", environ={})
    with engine.begin() as conn:
        sync_calendar(conn, calendar, now=LOADED)
    return calendar


def make_dispatcher(
    engine: Engine,
    calendar: Calendar,
    clock: FixedClock,
    channel: FakeChannel,
    *,
    concurrency: int = 10,
    **settings: Any,
) -> Dispatcher:
    channels: dict[str, Channel] = {"a": channel}
    return Dispatcher(
        engine=engine,
        clock=clock,
        calendar=calendar,
        channels=channels,
        concurrency={"a": concurrency},
        settings=DispatchSettings(worker="test-worker", **settings),
    )


def rows(engine: Engine) -> dict[str, sa.Row[Any]]:
    """Every reminder row by its offset."""
    with engine.connect() as conn:
        found = conn.execute(sa.select(NOTIFICATION).where(NOTIFICATION.c.kind == "reminder")).all()
    return {r.offset: r for r in found}


def attempts(engine: Engine, notification_id: str) -> list[sa.Row[Any]]:
    with engine.connect() as conn:
        query = sa.select(ATTEMPT).where(ATTEMPT.c.notification_id == notification_id).order_by(ATTEMPT.c.at)
        return list(conn.execute(query).all())


async def run_once(dispatcher: Dispatcher) -> int:
    """Claim what is due, let every send finish and store the outcomes."""
    claimed, _ = await dispatcher.step()
    await dispatcher.drain(timeout=5)
    return claimed


@pytest.fixture
def spec() -> ChannelSpec:
    return ChannelSpec(id="a", type="console", timezone="UTC")


async def test_sent_reminder_is_recorded_with_its_attempt(db: Engine, spec: ChannelSpec) -> None:
    calendar = load(db)
    channel = FakeChannel(spec, "200 OK")
    clock = FixedClock(START - timedelta(hours=2))
    dispatcher = make_dispatcher(db, calendar, clock, channel)
    try:
        assert await run_once(dispatcher) == 1
    finally:
        dispatcher.close()
    row = rows(db)["2h"]
    assert (row.state, row.attempts, row.late, row.sent_at) == ("sent", 1, False, clock.now())
    assert [(a.outcome, a.detail, a.worker) for a in attempts(db, row.id)] == [("sent", "200 OK", "test-worker")]
    assert [m.id for m in channel.messages] == [row.id]
    assert rows(db)["1h"].state == "pending"


async def test_transient_error_schedules_a_retry_within_the_policy_backoff(db: Engine, spec: ChannelSpec) -> None:
    calendar = load(db)
    channel = FakeChannel(spec, DeliveryError("HTTP 503"))
    clock = FixedClock(START - timedelta(hours=2))
    policy = RetryPolicy(base=60.0)
    dispatcher = make_dispatcher(db, calendar, clock, channel, policy=policy)
    try:
        await run_once(dispatcher)
    finally:
        dispatcher.close()
    row = rows(db)["2h"]
    assert (row.state, row.attempts, row.last_error) == ("retrying", 1, "HTTP 503")
    wait = (row.next_at - clock.now()).total_seconds()
    assert policy.base / 2 <= wait <= policy.base
    assert [a.outcome for a in attempts(db, row.id)] == ["retrying"]


async def test_retry_carries_the_same_id_and_counts_attempts(db: Engine, spec: ChannelSpec) -> None:
    calendar = load(db)
    channel = FakeChannel(spec, DeliveryError("HTTP 500"), "200 OK")
    clock = FixedClock(START - timedelta(hours=2))
    dispatcher = make_dispatcher(db, calendar, clock, channel, policy=RetryPolicy(base=10.0))
    try:
        await run_once(dispatcher)
        clock.set(rows(db)["2h"].next_at)
        assert await run_once(dispatcher) == 1
    finally:
        dispatcher.close()
    row = rows(db)["2h"]
    assert (row.state, row.attempts) == ("sent", 2)
    assert [m.id for m in channel.messages] == [row.id, row.id]
    assert [a.outcome for a in attempts(db, row.id)] == ["retrying", "sent"]


async def test_retry_after_is_honoured_in_clock_time(db: Engine, spec: ChannelSpec) -> None:
    """A service's pause is real seconds: on a clock running 600x it is 600 times as many clock seconds."""
    calendar = load(db)
    channel = FakeChannel(spec, DeliveryError("HTTP 429", retry_after=5.0))
    clock = SpeedyClock(START - timedelta(hours=2))
    dispatcher = make_dispatcher(db, calendar, clock, channel, policy=RetryPolicy(base=1.0))
    try:
        await run_once(dispatcher)
    finally:
        dispatcher.close()
    row = rows(db)["2h"]
    assert row.state == "retrying"
    wait = (row.next_at - clock.now()).total_seconds()
    assert 5.0 * clock.speed <= wait <= 6.0 * clock.speed


async def test_permanent_error_is_dead_at_once_with_its_reason(db: Engine, spec: ChannelSpec) -> None:
    calendar = load(db)
    channel = FakeChannel(spec, DeliveryError("HTTP 404 no_service", permanent=True))
    clock = FixedClock(START - timedelta(hours=2))
    dispatcher = make_dispatcher(db, calendar, clock, channel)
    try:
        await run_once(dispatcher)
    finally:
        dispatcher.close()
    row = rows(db)["2h"]
    assert (row.state, row.attempts) == ("dead", 1)
    assert "HTTP 404 no_service" in row.last_error
    assert "permanent" in row.last_error


async def test_reminder_is_not_retried_past_its_event_start(db: Engine, spec: ChannelSpec) -> None:
    calendar = load(db)
    # The service asks for a pause that would end after the event has begun.
    throttled = DeliveryError("HTTP 429", retry_after=2 * 3600.0)
    channel = FakeChannel(spec, throttled, throttled)
    clock = FixedClock(START - timedelta(hours=1))
    dispatcher = make_dispatcher(db, calendar, clock, channel)
    try:
        await run_once(dispatcher)
    finally:
        dispatcher.close()
    found = rows(db)
    assert {r.state for r in found.values()} == {"dead"}
    assert all("not retried past the event start" in r.last_error for r in found.values())


async def test_overdue_beyond_catch_up_window_is_missed_without_a_send(db: Engine, spec: ChannelSpec) -> None:
    calendar = load(db)
    channel = FakeChannel(spec)
    # The 2h reminder (10:00) is 90 minutes overdue, the 1h reminder (11:00) 30 minutes.
    clock = FixedClock(START - timedelta(minutes=30))
    dispatcher = make_dispatcher(db, calendar, clock, channel, catch_up=timedelta(hours=1))
    try:
        await run_once(dispatcher)
    finally:
        dispatcher.close()
    missed = rows(db)["2h"]
    assert missed.state == "missed"
    assert "catch-up window" in missed.last_error
    assert attempts(db, missed.id) == []
    assert missed.id not in {m.id for m in channel.messages}


async def test_overdue_within_catch_up_window_is_sent_marked_late(db: Engine, spec: ChannelSpec) -> None:
    calendar = load(db)
    channel = FakeChannel(spec)
    clock = FixedClock(START - timedelta(minutes=30))
    dispatcher = make_dispatcher(db, calendar, clock, channel, catch_up=timedelta(hours=1))
    try:
        await run_once(dispatcher)
    finally:
        dispatcher.close()
    row = rows(db)["1h"]
    assert (row.state, row.late) == ("sent", True)
    assert [m.late for m in channel.messages if m.id == row.id] == [True]


MANY = """
version: 1
timezone: UTC
channels:
  a: {type: console}
events:
  - id: expiry
    title: Truce expires
    at: 2025-10-30T12:00
    reminders: [2h, 110m, 100m, 90m, 80m]
    notify: [a]
"""


async def test_sends_to_one_channel_never_exceed_its_concurrency(db: Engine, spec: ChannelSpec) -> None:
    calendar = load(db, MANY)
    channel = FakeChannel(spec)
    channel.gate = asyncio.Event()
    clock = FixedClock(START - timedelta(minutes=80))
    dispatcher = make_dispatcher(db, calendar, clock, channel, concurrency=2)
    try:
        claimed, _ = await dispatcher.step()
        for _ in range(20):
            await asyncio.sleep(0)
        held = channel.active
        channel.gate.set()
        await dispatcher.drain(timeout=5)
        while await run_once(dispatcher):
            pass
    finally:
        dispatcher.close()
    assert claimed > 2
    assert held == 2
    assert channel.most_active == 2
    assert {r.state for r in rows(db).values()} == {"sent"}


class FirstSendQuick(FakeChannel):
    """Answers the first send at once and holds every later one until the gate opens."""

    async def send(self, message: Message) -> str:
        if not self.messages:
            self.messages.append(message)
            return "ok"
        return await super().send(message)


async def test_with_every_queue_full_a_few_outcomes_wait_for_the_record_timer(db: Engine, spec: ChannelSpec) -> None:
    """A round that could claim nothing and store only a few outcomes is skipped; the timer stores them soon after."""
    calendar = load(db, MANY)
    channel = FirstSendQuick(spec)
    channel.gate = asyncio.Event()
    dispatcher = make_dispatcher(db, calendar, FixedClock(START - timedelta(minutes=80)), channel, concurrency=1)
    try:
        claimed, _ = await dispatcher.step()
        for _ in range(5):
            await asyncio.sleep(0)  # the first send finishes, the second one waits at the gate
        skipped = await dispatcher.step()
        before = sorted(r.state for r in rows(db).values())
        dispatcher.kick.clear()
        await asyncio.wait_for(dispatcher.kick.wait(), timeout=2)
        stored = await dispatcher.step()
        after = sorted(r.state for r in rows(db).values())
        channel.gate.set()
        await dispatcher.drain(timeout=5)
    finally:
        dispatcher.close()
    assert claimed == 5
    assert skipped == (0, None)
    assert before == ["sending"] * 5
    assert stored == (0, None)
    assert after == ["sending"] * 4 + ["sent"]
    assert {r.state for r in rows(db).values()} == {"sent"}


async def test_drain_waits_for_sends_in_flight_and_stores_them(db: Engine, spec: ChannelSpec) -> None:
    calendar = load(db)
    channel = FakeChannel(spec)
    channel.gate = asyncio.Event()
    clock = FixedClock(START - timedelta(hours=2))
    dispatcher = make_dispatcher(db, calendar, clock, channel)
    try:
        await dispatcher.step()
        await asyncio.sleep(0)
        assert rows(db)["2h"].state == "sending"
        asyncio.get_running_loop().call_later(0.05, channel.gate.set)
        abandoned = await dispatcher.drain(timeout=5)
    finally:
        dispatcher.close()
    assert abandoned == 0
    assert rows(db)["2h"].state == "sent"


async def test_drain_abandons_a_stuck_send_and_leaves_it_to_be_resent(db: Engine, spec: ChannelSpec) -> None:
    calendar = load(db)
    channel = FakeChannel(spec)
    channel.gate = asyncio.Event()  # never opened
    clock = FixedClock(START - timedelta(hours=2))
    dispatcher = make_dispatcher(db, calendar, clock, channel)
    try:
        await dispatcher.step()
        abandoned = await dispatcher.drain(timeout=0.1)
    finally:
        dispatcher.close()
    assert abandoned == 1
    # Still held: the next start reclaims it and resends it with the same id.
    assert rows(db)["2h"].state == "sending"


async def test_drain_counts_work_queued_behind_a_stuck_send_as_abandoned(db: Engine, spec: ChannelSpec) -> None:
    """With one send at a time and that one stuck, the rows waiting behind it are abandoned too, still held."""
    calendar = load(db, MANY)
    channel = FakeChannel(spec)
    channel.gate = asyncio.Event()  # never opened
    dispatcher = make_dispatcher(db, calendar, FixedClock(START - timedelta(minutes=80)), channel, concurrency=1)
    try:
        claimed, _ = await dispatcher.step()
        abandoned = await dispatcher.drain(timeout=0.1)
        await asyncio.sleep(0)  # the cancelled worker counts out its send
        left = dispatcher.inflight
    finally:
        dispatcher.close()
    assert claimed == abandoned == 5
    assert left == 0
    assert len(channel.messages) == 1
    assert {r.state for r in rows(db).values()} == {"sending"}


async def test_an_internal_error_before_a_send_is_retried_and_the_channel_keeps_sending(
    db: Engine, spec: ChannelSpec, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bug while preparing one message (here: rendering) costs that row a retry, not the channel its worker."""
    calls = 0

    def render_failing_first(**kwargs: Any) -> Message:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise KeyError("boom")
        return render(**kwargs)

    monkeypatch.setattr("alertd.delivery.dispatcher.render", render_failing_first)
    calendar = load(db, MANY)
    channel = FakeChannel(spec)
    dispatcher = make_dispatcher(db, calendar, FixedClock(START - timedelta(minutes=80)), channel, concurrency=1)
    try:
        assert await run_once(dispatcher) == 5
    finally:
        dispatcher.close()
    states = {offset: (r.state, r.last_error) for offset, r in rows(db).items()}
    assert states.pop("2h") == ("retrying", "internal error while preparing the message: KeyError (see the log)")
    assert set(states.values()) == {("sent", None)}
    assert len(channel.messages) == 4


async def test_catch_up_window_applies_to_first_attempts_only(db: Engine, spec: ChannelSpec) -> None:
    """A retry that comes back after the window (the service was down long) is still sent, not turned missed."""
    calendar = load(db)
    channel = FakeChannel(spec, DeliveryError("HTTP 503"))
    clock = FixedClock(START - timedelta(hours=2))
    dispatcher = make_dispatcher(db, calendar, clock, channel, catch_up=timedelta(minutes=30))
    try:
        await run_once(dispatcher)
        clock.set(START - timedelta(minutes=10))
        await run_once(dispatcher)
    finally:
        dispatcher.close()
    row = rows(db)["2h"]
    assert (row.state, row.attempts, row.late) == ("sent", 2, True)


async def test_after_the_start_a_retried_0m_reminder_is_sent_late_and_an_earlier_one_is_not(
    db: Engine, spec: ChannelSpec
) -> None:
    """What the README's delivery guarantees say: only reminders due before the start expire with it."""
    calendar = load(db, CALENDAR.replace("reminders: [2h, 1h]", "reminders: [1m, 0m]"))
    channel = FakeChannel(spec, *[DeliveryError("HTTP 503")] * 3)
    clock = FixedClock(START - timedelta(minutes=1))
    dispatcher = make_dispatcher(db, calendar, clock, channel, policy=RetryPolicy(base=60.0, cap=60.0))
    try:
        await run_once(dispatcher)
        clock.set(START)
        await run_once(dispatcher)
        assert rows(db)["0m"].state == "retrying"
        clock.set(START + timedelta(minutes=5))
        await run_once(dispatcher)
    finally:
        dispatcher.close()
    found = rows(db)
    assert (found["1m"].state, found["1m"].last_error) == ("dead", "HTTP 503 (not retried past the event start)")
    assert (found["0m"].state, found["0m"].late) == ("sent", True)


def test_a_round_that_only_stores_outcomes_leaves_a_new_failing_mark_for_the_next_claim(
    db: Engine, spec: ChannelSpec
) -> None:
    """A round with every queue full skips the health read; the next round that claims reads it before claiming."""
    calendar = load(db)
    clock = FixedClock(START - timedelta(minutes=30))
    dispatcher = make_dispatcher(db, calendar, clock, FakeChannel(spec))
    try:
        with db.begin() as conn:
            mark_failing(conn, "a", "HTTP 401 from elsewhere", now=clock.now())
        dispatcher._step_sync([], clock.now(), 0, ["a"])
        assert "a" not in dispatcher.failing
        work, _due = dispatcher._step_sync([], clock.now(), 10, [])
    finally:
        dispatcher.close()
    assert work == []
    assert "a" in dispatcher.failing
    assert {row.state for row in rows(db).values()} == {"pending"}


async def test_the_database_connection_is_held_while_sends_are_under_way_and_given_back_after(
    db: Engine, spec: ChannelSpec
) -> None:
    """Rounds with deliveries in flight keep one connection (no pool checkout per round); once the work runs out
    the next round gives it back, so an idle daemon holds none."""
    calendar = load(db)
    channel = FakeChannel(spec)
    channel.gate = asyncio.Event()
    dispatcher = make_dispatcher(db, calendar, FixedClock(START - timedelta(hours=2)), channel)
    try:
        assert (await dispatcher.step())[0] == 1
        assert db.pool.checkedout() == 1  # type: ignore[attr-defined]
        await dispatcher.step()  # the send is still open
        assert db.pool.checkedout() == 1  # type: ignore[attr-defined]
        channel.gate.set()
        while dispatcher.inflight:
            await asyncio.sleep(0.01)
        await dispatcher.step()  # stores the outcome; nothing is left in flight
        assert db.pool.checkedout() == 0  # type: ignore[attr-defined]
    finally:
        dispatcher.close()
    assert rows(db)["2h"].state == "sent"


async def test_closing_twice_is_harmless(db: Engine, spec: ChannelSpec) -> None:
    """A daemon shut down twice (a signal during a stop, a test's finaliser after a restart) does not raise."""
    dispatcher = make_dispatcher(db, load(db), FixedClock(START - timedelta(hours=2)), FakeChannel(spec))
    dispatcher.close()
    dispatcher.close()
    assert db.pool.checkedout() == 0  # type: ignore[attr-defined]

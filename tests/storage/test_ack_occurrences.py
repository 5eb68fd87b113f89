"""Acknowledging occurrences of recurring events and feed events: what a re-plan, the rolling window and a feed
refresh do to them (nothing: an acknowledged occurrence stays quiet)."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from support.factories import from_file, make_calendar, make_channel, make_event, offsets

from alertd.domain import Calendar, EventSpec, SourceSpec
from alertd.errors import NotFoundError, UsageError
from alertd.storage import sync_feed
from alertd.storage.acks import ack_event, drop_acknowledged, unack_event
from alertd.storage.eventrows import load_events
from alertd.storage.outbox import NOTIFICATION, claim
from alertd.storage.sync import sync_calendar

NOW = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
HEAD = """\
version: 1
timezone: America/New_York
defaults: {reminders: [1d], countdown: false, notify: [hooks]}
channels:
  hooks: {type: console}
  pager: {type: console}
events:
  - id: once
    title: One-off
    at: 2026-06-01
"""
MONTH_END = """\
  - id: month-end
    title: Month-end report
    at: 2026-01-30T17:00
    repeat: FREQ=MONTHLY;BYDAY=-1FR
    escalate: [{at: 2h, unless: acknowledged, notify: [pager]}]
"""
FEB = "month-end@20260227"
MAR = "month-end@20260327"


def cal(tmp_path: Path, *bodies: str) -> Calendar:
    return from_file(tmp_path, HEAD + "".join(bodies))


def sync(engine: Engine, calendar: Calendar, now: datetime = NOW, horizon: int = 120) -> None:
    with engine.begin() as conn:
        sync_calendar(conn, calendar, now=now, horizon_days=horizon)


def states(engine: Engine, event_id: str, kind: str = "reminder") -> Counter[str]:
    n = NOTIFICATION.c
    with engine.begin() as conn:
        return Counter(conn.execute(sa.select(n.state).where(n.event_id == event_id, n.kind == kind)).scalars())


def test_acking_an_occurrence_stops_only_its_reminders(engine: Engine, tmp_path: Path) -> None:
    calendar = cal(tmp_path, MONTH_END)
    sync(engine, calendar)

    record, new, _ = ack_event(engine, calendar, event_id=FEB, by="ana", via="cli", now=NOW)

    assert (record.event_id, new) == (FEB, True)
    assert states(engine, FEB) == Counter({"cancelled": 1})
    assert states(engine, MAR) == Counter({"pending": 1})
    with engine.begin() as conn:
        stored = load_events(conn)
    assert stored[FEB].acknowledged
    assert not stored[MAR].acknowledged


def test_escalation_steps_are_planned_per_occurrence_and_an_acked_one_is_dropped_at_claim(
    engine: Engine, tmp_path: Path
) -> None:
    """Each occurrence has its own step; the claim cancels only the acknowledged occurrence's."""
    calendar = cal(tmp_path, MONTH_END)
    sync(engine, calendar)
    assert states(engine, FEB, "escalation") == Counter({"pending": 1})
    assert states(engine, MAR, "escalation") == Counter({"pending": 1})
    ack_event(engine, calendar, event_id=FEB, by="ana", via="cli", now=NOW)
    # As if a racing replica re-queued the step after the ack: the claim must still drop it.
    n = NOTIFICATION.c
    with engine.begin() as conn:
        conn.execute(NOTIFICATION.update().where(n.kind == "escalation").values(state="pending", last_error=None))
    due = datetime(2026, 3, 27, 20, 0, tzinfo=UTC)  # 2h before the March occurrence (17:00 New York, EDT)
    with engine.begin() as conn:
        claimed = claim(conn, now=due, worker="w", lease_until=due + timedelta(minutes=2), limit=50)
        kept = drop_acknowledged(conn, claimed, now=due)
    assert {c.event_id for c in kept if c.kind == "escalation"} == {"month-end@20260130", MAR}
    assert states(engine, FEB, "escalation") == Counter({"cancelled": 1})


def test_the_rolling_window_does_not_revive_an_acked_occurrence(engine: Engine, tmp_path: Path) -> None:
    calendar = cal(tmp_path, MONTH_END)
    sync(engine, calendar)
    ack_event(engine, calendar, event_id=FEB, by="ana", via="cli", now=NOW)
    with engine.begin() as conn:
        sync_calendar(conn, calendar, now=NOW + timedelta(hours=1), horizon_days=120, occurrences_only=True)
    assert states(engine, FEB) == Counter({"cancelled": 1})


def test_a_file_edit_replan_does_not_revive_an_acked_occurrence(engine: Engine, tmp_path: Path) -> None:
    """Moving every occurrence an hour re-plans them all; the acknowledged one gets no reminder back."""
    calendar = cal(tmp_path, MONTH_END)
    sync(engine, calendar)
    ack_event(engine, calendar, event_id=FEB, by="ana", via="cli", now=NOW)

    sync(engine, cal(tmp_path, MONTH_END.replace("T17:00", "T18:00")), now=NOW + timedelta(hours=1))

    assert "pending" not in states(engine, FEB)
    assert states(engine, MAR) == Counter({"pending": 1, "cancelled": 1})
    assert "pending" not in states(engine, FEB, "escalation")


def test_an_acked_occurrence_that_leaves_and_reenters_the_window_stays_acked(engine: Engine, tmp_path: Path) -> None:
    """A shorter horizon drops the stored occurrence; when the window reaches it again it comes back acknowledged."""
    calendar = cal(tmp_path, MONTH_END)
    sync(engine, calendar)
    ack_event(engine, calendar, event_id=MAR, by="ana", via="cli", now=NOW)
    sync(engine, calendar, now=NOW + timedelta(minutes=1), horizon=30)
    with engine.begin() as conn:
        assert MAR not in load_events(conn)

    sync(engine, calendar, now=NOW + timedelta(minutes=2), horizon=120)

    with engine.begin() as conn:
        assert load_events(conn)[MAR].acknowledged
    assert "pending" not in states(engine, MAR)
    assert "pending" not in states(engine, MAR, "escalation")


def test_unacking_an_occurrence_brings_back_its_reminders(engine: Engine, tmp_path: Path) -> None:
    calendar = cal(tmp_path, MONTH_END)
    sync(engine, calendar)
    ack_event(engine, calendar, event_id=FEB, by="ana", via="cli", now=NOW)

    unack_event(engine, calendar, event_id=FEB, by="ana", now=NOW + timedelta(minutes=1))

    assert states(engine, FEB) == Counter({"pending": 1})
    assert states(engine, FEB, "escalation") == Counter({"pending": 1})


def test_acking_the_series_id_is_refused_naming_the_occurrence_form(engine: Engine, tmp_path: Path) -> None:
    """A recurring event as a whole cannot be acknowledged: the message names its next occurrence's id."""
    calendar = cal(tmp_path, MONTH_END)
    sync(engine, calendar)
    with pytest.raises(UsageError, match=r"month-end repeats: acknowledge one occurrence.*month-end@20260130"):
        ack_event(engine, calendar, event_id="month-end", by="ana", via="cli", now=NOW)


def test_an_occurrence_id_of_a_date_the_rule_skips_is_refused(engine: Engine, tmp_path: Path) -> None:
    calendar = cal(tmp_path, MONTH_END)
    sync(engine, calendar)
    with pytest.raises(NotFoundError, match="no occurrence 'month-end@20260228'"):
        ack_event(engine, calendar, event_id="month-end@20260228", by="ana", via="cli", now=NOW)


def test_an_occurrence_id_of_a_one_off_event_is_refused(engine: Engine, tmp_path: Path) -> None:
    calendar = cal(tmp_path, MONTH_END)
    sync(engine, calendar)
    with pytest.raises(UsageError, match="'once' does not repeat"):
        ack_event(engine, calendar, event_id="once@20260601", by="ana", via="cli", now=NOW)


SOURCE = SourceSpec(
    id="desk",
    url="https://example.com/desk.ics",
    path=None,
    refresh=timedelta(minutes=15),
    timezone="America/New_York",
    reminders=offsets("1d"),
    notify=("hooks",),
)
FEED_NOW = datetime(2025, 10, 20, 12, 0, tzinfo=UTC)


def feed_event(day: int, **changes: Any) -> EventSpec:
    values: dict[str, Any] = {
        "local_start": datetime(2025, 11, day, 9, 0),
        "all_day": False,
        "reminders": offsets("1d"),
        "notify": ("hooks",),
        "owner": "feed",
        "source": None,
    } | changes
    return make_event(f"desk:call@202511{day:02d}", **values)


def feed(engine: Engine, events: list[EventSpec], now: datetime, previous_end: datetime | None) -> Calendar:
    calendar = replace(make_calendar([], channels=[make_channel(id="hooks")]), sources=(SOURCE,))
    with engine.begin() as conn:
        sync_feed(
            conn,
            calendar,
            "desk",
            events,
            now=now,
            window_end=now + timedelta(days=400),
            previous_end=previous_end,
        )
    return calendar


def test_a_feed_event_can_be_acked_and_a_refresh_does_not_revive_it(engine: Engine) -> None:
    """An ack is not an edit of the feed: allowed; a refresh that moves the event plans no reminder for it."""
    events = [feed_event(3), feed_event(10)]
    calendar = feed(engine, events, FEED_NOW, None)
    _, new, _ = ack_event(engine, calendar, event_id="desk:call@20251110", by="ana", via="api", now=FEED_NOW)
    assert new
    assert states(engine, "desk:call@20251110") == Counter({"cancelled": 1})
    later = FEED_NOW + timedelta(minutes=15)

    feed(engine, events, later, FEED_NOW + timedelta(days=400))
    feed(engine, [events[0], feed_event(10, local_start=datetime(2025, 11, 10, 11, 0))], later, later)

    assert "pending" not in states(engine, "desk:call@20251110")
    assert states(engine, "desk:call@20251103") == Counter({"pending": 1})
    with engine.begin() as conn:
        assert load_events(conn)["desk:call@20251110"].acknowledged


def test_escalation_under_defaults_is_planned_for_each_occurrence(engine: Engine, tmp_path: Path) -> None:
    text = HEAD.replace("notify: [hooks]}", "notify: [hooks], escalate: [{at: 1d, notify: [pager]}]}")
    calendar = from_file(
        tmp_path, text + MONTH_END.replace("    escalate: [{at: 2h, unless: acknowledged, notify: [pager]}]\n", "")
    )
    sync(engine, calendar)
    ack_event(engine, calendar, event_id=FEB, by="ana", via="cli", now=NOW)
    assert states(engine, MAR, "escalation") == Counter({"pending": 1})
    assert states(engine, FEB, "escalation") == Counter({"cancelled": 1})

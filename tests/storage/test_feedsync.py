"""Syncing a feed's events: the same re-planning and change notices as a file edit, with feed-specific quiet."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from support.factories import make_calendar, make_channel, make_event, offsets

from alertd.domain import Calendar, EventSpec, SourceSpec
from alertd.errors import FeedError
from alertd.storage import EVENT, NOTIFICATION, SyncReport, drop_feed_events, load_events, sync_calendar, sync_feed
from alertd.storage.feedsync import EMPTIED

NOW = datetime(2025, 10, 20, 12, 0, tzinfo=UTC)
END = NOW + timedelta(days=400)
SOURCE = SourceSpec(
    id="desk",
    url="https://example.com/desk.ics",
    path=None,
    refresh=timedelta(minutes=15),
    timezone="America/New_York",
    reminders=offsets("1d"),
    notify=("hooks",),
)


def feed_event(uid: str, day: int, **changes: Any) -> EventSpec:
    values: dict[str, Any] = {
        "local_start": datetime(2025, 11, day, 9, 0),
        "all_day": False,
        "reminders": offsets("1d"),
        "notify": ("hooks",),
        "owner": "feed",
        "source": None,
    } | changes
    return make_event(f"desk:{uid}", **values)


SERIES = [feed_event(f"call@202511{d:02d}", d) for d in (3, 10, 17, 24)]


def calendar(sources: tuple[SourceSpec, ...] = (SOURCE,)) -> Calendar:
    return replace(make_calendar([], channels=[make_channel(id="hooks")]), sources=sources)


def sync(
    engine: Engine,
    events: list[EventSpec],
    *,
    now: datetime = NOW,
    previous_end: datetime | None = END,
    cal: Calendar | None = None,
) -> SyncReport:
    with engine.begin() as conn:
        return sync_feed(
            conn,
            cal or calendar(),
            "desk",
            events,
            now=now,
            window_end=now + timedelta(days=400),
            previous_end=previous_end,
        )


def changes(engine: Engine) -> list[Any]:
    with engine.begin() as conn:
        return list(
            conn.execute(sa.select(NOTIFICATION).where(NOTIFICATION.c.kind == "change").order_by(NOTIFICATION.c.id))
        )


def reminder_states(engine: Engine, event_id: str) -> Counter[str]:
    with engine.begin() as conn:
        query = sa.select(NOTIFICATION.c.state).where(
            NOTIFICATION.c.event_id == event_id, NOTIFICATION.c.kind == "reminder"
        )
        return Counter(conn.execute(query).scalars())


def test_the_first_sync_of_a_feed_plans_reminders_and_announces_nothing(engine: Engine) -> None:
    report = sync(engine, SERIES, previous_end=None)
    assert len(report.added) == 4
    assert changes(engine) == []
    assert reminder_states(engine, "desk:call@20251103") == Counter({"pending": 1})


def test_feed_events_are_stored_as_owned_by_the_feed(engine: Engine) -> None:
    sync(engine, SERIES, previous_end=None)
    with engine.begin() as conn:
        stored = load_events(conn)
    assert {e.owner for e in stored.values()} == {"feed"}


def test_an_unchanged_feed_writes_nothing(engine: Engine) -> None:
    sync(engine, SERIES, previous_end=None)
    report = sync(engine, SERIES, now=NOW + timedelta(minutes=15))
    assert (report.added, report.changed, report.removed, report.queued) == ([], [], [], 0)


def test_moving_one_occurrence_sends_exactly_one_change_notice(engine: Engine) -> None:
    sync(engine, SERIES, previous_end=None)
    moved = [*SERIES[:2], replace(feed_event("call@20251117", 18), title=SERIES[2].title), SERIES[3]]
    report = sync(engine, moved, now=NOW + timedelta(minutes=15))
    assert report.changed == ["desk:call@20251117"]
    (notice,) = changes(engine)
    assert notice.payload["type"] == "changed"
    assert notice.payload["after"]["local_start"] == "2025-11-18T09:00:00"
    assert reminder_states(engine, "desk:call@20251117") == Counter({"pending": 1, "cancelled": 1})


def test_a_cancelled_occurrence_sends_one_notice_and_cancels_its_reminders(engine: Engine) -> None:
    sync(engine, SERIES, previous_end=None)
    cancelled = [*SERIES[:3], replace(SERIES[3], status="cancelled")]
    sync(engine, cancelled, now=NOW + timedelta(minutes=15))
    (notice,) = changes(engine)
    assert notice.payload["after"]["status"] == "cancelled"
    assert reminder_states(engine, "desk:call@20251124") == Counter({"cancelled": 1})


def test_an_event_dropped_from_the_feed_is_announced_as_removed(engine: Engine) -> None:
    sync(engine, SERIES, previous_end=None)
    report = sync(engine, SERIES[1:], now=NOW + timedelta(minutes=15))
    assert report.removed == ["desk:call@20251103"]
    (notice,) = changes(engine)
    assert notice.payload["type"] == "removed"
    assert reminder_states(engine, "desk:call@20251103") == Counter({"cancelled": 1})


def test_a_new_event_inside_the_last_window_is_announced(engine: Engine) -> None:
    sync(engine, SERIES, previous_end=None)
    sync(engine, [*SERIES, feed_event("extra", 20)], now=NOW + timedelta(minutes=15))
    (notice,) = changes(engine)
    assert (notice.event_id, notice.payload["type"]) == ("desk:extra", "added")


def test_an_occurrence_the_rolling_window_reaches_is_planned_without_a_notice(engine: Engine) -> None:
    sync(engine, SERIES, previous_end=None)
    later = feed_event("call@20251201", 1, local_start=datetime(2025, 12, 1, 9, 0))
    report = sync(
        engine, [*SERIES, later], now=NOW + timedelta(days=1), previous_end=datetime(2025, 11, 30, tzinfo=UTC)
    )
    assert report.added == ["desk:call@20251201"]
    assert changes(engine) == []


def test_an_occurrence_that_has_passed_out_of_the_window_stays_as_it_was(engine: Engine) -> None:
    sync(engine, SERIES, previous_end=None)
    report = sync(engine, SERIES[1:], now=datetime(2025, 11, 6, tzinfo=UTC))
    assert report.removed == []
    with engine.begin() as conn:
        assert "desk:call@20251103" in load_events(conn)


def test_a_file_sync_leaves_feed_events_alone(engine: Engine) -> None:
    sync(engine, SERIES, previous_end=None)
    with engine.begin() as conn:
        report = sync_calendar(conn, calendar(), now=NOW + timedelta(minutes=1))
        assert report.removed == []
        assert len(load_events(conn)) == 4


def test_a_feed_removed_from_the_calendar_takes_its_events_without_notices(engine: Engine) -> None:
    sync(engine, SERIES, previous_end=None)
    with engine.begin() as conn:
        report = drop_feed_events(conn, calendar(sources=()), now=NOW + timedelta(minutes=1))
        removed = conn.execute(sa.select(EVENT.c.id).where(EVENT.c.removed.is_(True))).scalars().all()
    assert sorted(report.removed) == sorted(removed) == sorted(e.id for e in SERIES)
    assert changes(engine) == []
    assert reminder_states(engine, "desk:call@20251103") == Counter({"cancelled": 1})


def test_a_feed_that_comes_back_empty_is_refused_and_nothing_changes(engine: Engine) -> None:
    many = [feed_event(f"e{i}", 3 + i) for i in range(EMPTIED)]
    sync(engine, many, previous_end=None)
    with pytest.raises(FeedError, match="came back with no events"):
        sync(engine, [], now=NOW + timedelta(minutes=15))
    with engine.begin() as conn:
        assert len(load_events(conn)) == EMPTIED
    assert changes(engine) == []


def test_a_small_feed_may_lose_its_last_events(engine: Engine) -> None:
    sync(engine, SERIES, previous_end=None)
    assert len(sync(engine, [], now=NOW + timedelta(minutes=15)).removed) == 4

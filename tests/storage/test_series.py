"""Syncing recurring events: occurrences stored in a rolling window, one notice per edit, a bounded row count."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from support.factories import from_file

from alertd.calendar import EventDraft
from alertd.domain import Calendar
from alertd.errors import ConflictError
from alertd.storage import events as eventsdb
from alertd.storage.eventrows import EVENT
from alertd.storage.outbox import NOTIFICATION
from alertd.storage.sync import SyncReport, sync_calendar

NOW = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
HEAD = """\
version: 1
timezone: America/New_York
defaults: {reminders: [1d], countdown: false}
channels:
  hooks: {type: console}
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
"""


def cal(tmp_path: Path, *bodies: str) -> Calendar:
    return from_file(tmp_path, HEAD + "".join(bodies))


def sync(engine: Engine, calendar: Calendar, now: datetime = NOW, horizon: int = 400) -> SyncReport:
    with engine.begin() as conn:
        return sync_calendar(conn, calendar, now=now, horizon_days=horizon)


def notices(engine: Engine) -> list[Any]:
    query = sa.select(NOTIFICATION).where(NOTIFICATION.c.kind == "change").order_by(NOTIFICATION.c.id)
    with engine.begin() as conn:
        return list(conn.execute(query))


def stored(engine: Engine, prefix: str) -> list[str]:
    query = sa.select(EVENT.c.id).where(EVENT.c.id.like(prefix + "@%"), EVENT.c.removed.is_(False))
    with engine.begin() as conn:
        return sorted(conn.execute(query).scalars())


def reminders(engine: Engine, event_id: str) -> Counter[str]:
    query = sa.select(NOTIFICATION.c.state).where(
        NOTIFICATION.c.event_id == event_id, NOTIFICATION.c.kind == "reminder"
    )
    with engine.begin() as conn:
        return Counter(conn.execute(query).scalars())


def test_occurrences_within_the_horizon_are_stored_as_events(engine: Engine, tmp_path: Path) -> None:
    """Each occurrence in the window is an event row ``id@YYYYMMDD`` with its own reminder."""
    sync(engine, cal(tmp_path, MONTH_END), horizon=120)
    assert stored(engine, "month-end") == [
        "month-end@20260130",
        "month-end@20260227",
        "month-end@20260327",
        "month-end@20260424",
    ]
    assert reminders(engine, "month-end@20260227") == Counter({"pending": 1})


def test_moving_one_occurrence_is_one_change_notice_and_replans_only_it(engine: Engine, tmp_path: Path) -> None:
    sync(engine, cal(tmp_path, MONTH_END))
    report = sync(
        engine,
        cal(tmp_path, MONTH_END, "    occurrences:\n      2026-03-27: {at: 2026-03-30T17:00}\n"),
        now=NOW + timedelta(hours=1),
    )
    assert report.changed == ["month-end@20260327"]
    (notice,) = notices(engine)
    assert notice.event_id == "month-end@20260327"
    assert notice.payload["type"] == "changed"
    assert notice.payload["after"]["local_start"] == "2026-03-30T17:00:00"
    assert reminders(engine, "month-end@20260327") == Counter({"pending": 1, "cancelled": 1})
    assert reminders(engine, "month-end@20260424") == Counter({"pending": 1})


def test_cancelling_one_occurrence_is_one_change_notice(engine: Engine, tmp_path: Path) -> None:
    sync(engine, cal(tmp_path, MONTH_END))
    sync(engine, cal(tmp_path, MONTH_END, "    occurrences:\n      2026-02-27: {status: cancelled}\n"))
    (notice,) = notices(engine)
    assert (notice.event_id, notice.payload["after"]["status"]) == ("month-end@20260227", "cancelled")
    assert reminders(engine, "month-end@20260227") == Counter({"cancelled": 1})


def test_an_except_date_removes_that_occurrence_with_one_notice(engine: Engine, tmp_path: Path) -> None:
    sync(engine, cal(tmp_path, MONTH_END))
    report = sync(engine, cal(tmp_path, MONTH_END, "    except: [2026-04-24]\n"))
    assert report.removed == ["month-end@20260424"]
    (notice,) = notices(engine)
    assert (notice.event_id, notice.payload["type"]) == ("month-end@20260424", "removed")


def test_editing_the_rule_is_one_notice_for_the_series(engine: Engine, tmp_path: Path) -> None:
    """Moving every occurrence by an hour re-plans them all but announces only the earliest upcoming one."""
    sync(engine, cal(tmp_path, MONTH_END))
    report = sync(engine, cal(tmp_path, MONTH_END.replace("T17:00", "T18:00")))
    assert len(report.changed) == len(stored(engine, "month-end")) > 10
    (notice,) = notices(engine)
    assert notice.event_id == "month-end@20260130"


def test_a_new_series_in_a_known_calendar_is_one_added_notice(engine: Engine, tmp_path: Path) -> None:
    sync(engine, cal(tmp_path))
    sync(engine, cal(tmp_path, MONTH_END))
    (notice,) = notices(engine)
    assert (notice.event_id, notice.payload["type"]) == ("month-end@20260130", "added")


def test_a_removed_series_is_one_removed_notice_and_cancels_every_reminder(engine: Engine, tmp_path: Path) -> None:
    sync(engine, cal(tmp_path, MONTH_END))
    sync(engine, cal(tmp_path))
    (notice,) = notices(engine)
    assert (notice.event_id, notice.payload["type"]) == ("month-end@20260130", "removed")
    assert stored(engine, "month-end") == []
    assert reminders(engine, "month-end@20260424") == Counter({"cancelled": 1})


def test_the_window_rolls_forward_quietly(engine: Engine, tmp_path: Path) -> None:
    """A day later the unchanged file gains the occurrence that came within the horizon and lets go of the one a
    day past (its follow-ups are over), without a notice."""
    calendar = cal(tmp_path, "  - id: daily\n    title: D\n    at: 2026-01-01T09:00\n    repeat: FREQ=DAILY\n")
    sync(engine, calendar, horizon=30)
    before = stored(engine, "daily")
    report = sync(engine, calendar, now=NOW + timedelta(days=1), horizon=30)
    after = stored(engine, "daily")
    assert (before[0], before[-1]) == ("daily@20260104", "daily@20260203")
    assert (after[0], after[-1]) == ("daily@20260105", "daily@20260204")
    assert report.added == ["daily@20260204"]
    assert notices(engine) == []
    assert reminders(engine, "daily@20260204") == Counter({"pending": 1})


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
def test_a_daemon_running_three_years_keeps_an_unending_daily_rule_bounded(engine: Engine, tmp_path: Path) -> None:
    """Syncing every few days for three years: the series never holds more than horizon/interval rows (plus the
    occurrence in progress and the one a day back kept for its follow-ups), and nothing is announced."""
    horizon = 60
    calendar = cal(tmp_path, "  - id: daily\n    title: D\n    at: 2026-01-01T09:00\n    repeat: FREQ=DAILY\n")
    most, now = 0, NOW
    for step in range(0, 3 * 365, 5):
        now = NOW + timedelta(days=step)
        sync(engine, calendar, now=now, horizon=horizon)
        with engine.begin() as conn:
            rows = conn.execute(sa.select(sa.func.count()).where(EVENT.c.id.like("daily@%"))).scalar_one()
        most = max(most, rows)
    assert most <= horizon // 1 + 2
    assert notices(engine) == []
    # Past rows are the dispatcher's (sent, or missed after the catch-up window): only what lies ahead is planning's.
    ahead = sa.and_(NOTIFICATION.c.state == "pending", NOTIFICATION.c.due_at > now)
    with engine.begin() as conn:
        assert conn.execute(sa.select(sa.func.count()).where(ahead)).scalar_one() <= horizon + 1


def test_a_shorter_horizon_lets_the_far_occurrences_go_quietly(engine: Engine, tmp_path: Path) -> None:
    calendar = cal(tmp_path, MONTH_END)
    sync(engine, calendar)
    report = sync(engine, calendar, horizon=60)
    assert stored(engine, "month-end") == ["month-end@20260130", "month-end@20260227"]
    assert report.removed == []
    assert notices(engine) == []
    assert reminders(engine, "month-end@20260424") == Counter({"cancelled": 1})


def test_current_events_list_the_stored_occurrences(engine: Engine, tmp_path: Path) -> None:
    """``alertd events list`` and the API's calendar read the occurrences the daemon stored, beside one-off events."""
    calendar = cal(tmp_path, MONTH_END)
    sync(engine, calendar, horizon=60)
    ids = [e.id for e in eventsdb.current_events(engine, calendar)]
    assert ids == ["month-end@20260130", "month-end@20260227", "once"]


def test_a_database_event_cannot_take_a_series_id(engine: Engine, tmp_path: Path) -> None:
    calendar = cal(tmp_path, MONTH_END)
    sync(engine, calendar)
    draft = EventDraft(id="month-end", title="Clash", start="2026-02-01T10:00")
    with pytest.raises(ConflictError, match=r"defined in calendar\.yaml"):
        eventsdb.add_event(engine, calendar, draft, now=NOW)


def test_an_occurrence_is_edited_in_the_file_not_through_the_api(engine: Engine, tmp_path: Path) -> None:
    calendar = cal(tmp_path, MONTH_END)
    sync(engine, calendar)
    with pytest.raises(ConflictError, match="edit the file instead"):
        eventsdb.set_status(engine, calendar, "month-end@20260227", "cancelled", now=NOW)


def test_an_occurrences_only_sync_moves_the_window_and_compares_nothing_else(engine: Engine, tmp_path: Path) -> None:
    """The daemon's hourly move: occurrences roll forward; the other events are taken as last applied (a change
    to one of them waits for the reload that brings it)."""
    daily = "  - id: daily\n    title: D\n    at: 2026-01-01T09:00\n    repeat: FREQ=DAILY\n"
    sync(engine, cal(tmp_path, daily), horizon=30)
    edited = from_file(tmp_path, HEAD.replace("title: One-off", "title: Renamed") + daily)
    with engine.begin() as conn:
        report = sync_calendar(conn, edited, now=NOW + timedelta(days=1), horizon_days=30, occurrences_only=True)
    assert report.added == ["daily@20260204"]
    assert report.changed == []
    assert report.removed == []
    assert stored(engine, "daily")[0] == "daily@20260105"
    with engine.begin() as conn:
        assert conn.execute(sa.select(EVENT.c.title).where(EVENT.c.id == "once")).scalar_one() == "One-off"


def test_moving_the_window_plans_the_countdown_digests_of_the_new_occurrences(engine: Engine, tmp_path: Path) -> None:
    text = HEAD.replace("countdown: false", 'countdown: {within: 2d, at: "08:00"}')
    calendar = from_file(
        tmp_path, text + "  - id: daily\n    title: D\n    at: 2026-01-01T09:00\n    repeat: FREQ=DAILY\n"
    )
    sync(engine, calendar, horizon=10)
    query = sa.select(NOTIFICATION.c.id).where(NOTIFICATION.c.kind == "countdown")
    with engine.begin() as conn:
        before = set(conn.execute(query).scalars())
        sync_calendar(conn, calendar, now=NOW + timedelta(hours=1), horizon_days=10, occurrences_only=True)
        unchanged = set(conn.execute(query).scalars())
        sync_calendar(conn, calendar, now=NOW + timedelta(days=1), horizon_days=10, occurrences_only=True)
        after = set(conn.execute(query).scalars())
    assert unchanged == before
    assert after - before == {"cd:hooks:20260115"}


LAST_BUSINESS_DAY = """\
  - id: close
    title: Month-end close
    at: 2026-01-31T17:00
    if_closed: previous
    repeat: FREQ=MONTHLY;BYMONTHDAY=-1
"""


def with_workdays(tmp_path: Path, workdays: str) -> Calendar:
    return from_file(tmp_path, HEAD.replace("events:\n", f"workdays: {workdays}\nevents:\n") + LAST_BUSINESS_DAY)


def test_a_closed_date_added_to_the_file_moves_exactly_one_occurrence_with_one_notice(
    engine: Engine, tmp_path: Path
) -> None:
    """Closing Tue 2026-03-31 moves that month's close to Monday under the same id: one change, one notice, one
    reminder re-planned; every other occurrence stays as it was."""
    sync(engine, with_workdays(tmp_path, "{country: US}"))
    ids = stored(engine, "close")
    assert ids[:3] == ["close@20260131", "close@20260228", "close@20260331"]
    report = sync(engine, with_workdays(tmp_path, "{country: US, closed: [2026-03-31]}"), now=NOW + timedelta(hours=1))
    assert report.changed == ["close@20260331"]
    assert (report.added, report.removed) == ([], [])
    assert stored(engine, "close") == ids
    (notice,) = notices(engine)
    assert (notice.event_id, notice.payload["type"]) == ("close@20260331", "changed")
    assert (notice.payload["before"]["local_start"], notice.payload["after"]["local_start"]) == (
        "2026-03-31T17:00:00",
        "2026-03-30T17:00:00",
    )
    assert reminders(engine, "close@20260331") == Counter({"pending": 1, "cancelled": 1})
    assert reminders(engine, "close@20260430") == Counter({"pending": 1})


def test_occurrences_are_stored_on_the_business_day_they_move_to(engine: Engine, tmp_path: Path) -> None:
    """Sat 2026-01-31 and Sat 2026-02-28 are stored on the Fridays before, under the rule's dates."""
    sync(engine, with_workdays(tmp_path, "{country: US}"))
    query = sa.select(EVENT.c.id, EVENT.c.local_start).where(EVENT.c.id.in_(["close@20260131", "close@20260228"]))
    with engine.begin() as conn:
        rows = sorted((row.id, str(row.local_start)[:10]) for row in conn.execute(query))
    assert rows == [("close@20260131", "2026-01-30"), ("close@20260228", "2026-02-27")]

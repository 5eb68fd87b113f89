"""Database-owned events: validation shared with the calendar file, one-transaction writes, re-planning."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
import yaml
from sqlalchemy.engine import Engine

from alertd.calendar.load import parse_calendar
from alertd.domain import Calendar, EventSpec
from alertd.errors import CalendarError, ConflictError, NotFoundError
from alertd.planning.planner import plan_reminders
from alertd.storage import events as eventsdb
from alertd.storage.eventrows import EVENT
from alertd.storage.events import EventDraft
from alertd.storage.outbox import NOTIFICATION
from alertd.storage.sync import events_revision, sync_calendar

NOW = datetime(2025, 10, 20, 12, 0, tzinfo=UTC)


def make_calendar(**changes: Any) -> Calendar:
    """The truce calendar (one provisioned event) with two console channels; keywords replace top-level keys."""
    doc: dict[str, Any] = {
        "version": 1,
        "timezone": "America/New_York",
        "defaults": {"reminders": ["7d", "1d", "2h"], "notify": ["desk"]},
        "channels": {"desk": {"type": "console"}, "audit": {"type": "console", "timezone": "Asia/Shanghai"}},
        "events": [{"id": "truce-expiry", "title": "US–China tariff truce expires", "at": "2025-11-10"}],
    }
    doc.update(changes)
    calendar, _ = parse_calendar(yaml.safe_dump(doc, allow_unicode=True), name="calendar.yaml")
    return calendar


@pytest.fixture
def calendar(engine: Engine) -> Calendar:
    cal = make_calendar()
    with engine.begin() as conn:
        sync_calendar(conn, cal, now=NOW)
    return cal


def draft(**changes: Any) -> EventDraft:
    fields: dict[str, Any] = {"id": "truce-extension", "title": "Truce extension talks", "start": "2025-11-12T10:00"}
    return EventDraft(**(fields | changes))


def notifications(engine: Engine, event_id: str, kind: str | None = None) -> dict[str, str]:
    query = sa.select(NOTIFICATION.c.id, NOTIFICATION.c.state).where(NOTIFICATION.c.event_id == event_id)
    if kind is not None:
        query = query.where(NOTIFICATION.c.kind == kind)
    with engine.connect() as conn:
        return {row.id: row.state for row in conn.execute(query)}


def pending(engine: Engine, event_id: str, kind: str) -> set[str]:
    return {i for i, state in notifications(engine, event_id, kind).items() if state == "pending"}


def planned_ids(event: EventSpec) -> set[str]:
    return {p.id for p in plan_reminders(event, event.notify) if p.due_at > NOW}


def test_added_event_is_database_owned_and_listed_with_file_events(engine: Engine, calendar: Calendar) -> None:
    added = eventsdb.add_event(engine, calendar, draft(), now=NOW)

    listed = {e.id: e.owner for e in eventsdb.list_events(engine)}
    assert listed == {"truce-expiry": "file", added.id: "db"}
    assert eventsdb.get_event(engine, added.id) == added


def test_added_event_gets_its_reminders_and_an_added_notice(engine: Engine, calendar: Calendar) -> None:
    added = eventsdb.add_event(engine, calendar, draft(), now=NOW)

    assert pending(engine, added.id, "reminder") == planned_ids(added)
    assert pending(engine, added.id, "change") == {f"chg:{added.id}:1:{c}" for c in added.notify}


def test_defaults_of_the_calendar_apply_to_an_added_event(engine: Engine, calendar: Calendar) -> None:
    added = eventsdb.add_event(engine, calendar, draft(), now=NOW)

    assert added.reminders == calendar.defaults.reminders
    assert added.notify == calendar.defaults.notify
    assert added.timezone == calendar.timezone


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("notify", ["desk-slack"]),
        ("timezone", "America/NewYork"),
        ("start", "2025-03-09T02:30"),
        ("reminders", ["7x"]),
        ("status", "maybe"),
        ("id", "Truce Extension"),
    ],
)
def test_invalid_event_is_rejected_with_the_calendar_file_message(
    engine: Engine, calendar: Calendar, field: str, value: Any
) -> None:
    key = "at" if field == "start" else field
    file_event = {"id": "x", "title": "X", "at": "2025-11-12T10:00", key: value}
    with pytest.raises(CalendarError) as from_file:
        make_calendar(events=[file_event])
    expected = [i.message for i in from_file.value.issues if i.severity == "error"]

    with pytest.raises(CalendarError) as from_db:
        eventsdb.add_event(engine, calendar, draft(**{field: value}), now=NOW)

    assert [i.message for i in from_db.value.issues] == expected
    assert field in str(from_db.value)


def test_rejected_event_writes_nothing(engine: Engine, calendar: Calendar) -> None:
    with engine.connect() as conn:
        before = events_revision(conn)

    with pytest.raises(CalendarError):
        eventsdb.add_event(engine, calendar, draft(notify=["nowhere"]), now=NOW)

    assert "truce-extension" not in {e.id for e in eventsdb.list_events(engine)}
    with engine.connect() as conn:
        assert events_revision(conn) == before


def test_all_day_with_a_time_is_rejected(engine: Engine, calendar: Calendar) -> None:
    with pytest.raises(CalendarError, match="all_day"):
        eventsdb.add_event(engine, calendar, draft(all_day=True), now=NOW)


def test_timed_flag_reads_a_date_as_local_midnight(engine: Engine, calendar: Calendar) -> None:
    added = eventsdb.add_event(engine, calendar, draft(start="2025-11-12", all_day=False), now=NOW)

    assert not added.all_day
    assert added.local_start == datetime(2025, 11, 12)


def test_id_of_a_provisioned_event_cannot_be_added(engine: Engine, calendar: Calendar) -> None:
    with pytest.raises(ConflictError, match=r"calendar\.yaml"):
        eventsdb.add_event(engine, calendar, draft(id="truce-expiry"), now=NOW)


def test_id_of_a_database_event_cannot_be_added_twice(engine: Engine, calendar: Calendar) -> None:
    eventsdb.add_event(engine, calendar, draft(), now=NOW)

    with pytest.raises(ConflictError, match="truce-extension"):
        eventsdb.add_event(engine, calendar, draft(title="Other"), now=NOW)


def test_provisioned_event_is_read_only_naming_the_file(engine: Engine, calendar: Calendar) -> None:
    with pytest.raises(ConflictError) as exc:
        eventsdb.move_event(engine, calendar, "truce-expiry", "2025-11-12", now=NOW)

    assert str(exc.value) == "event 'truce-expiry' is defined in calendar.yaml; edit the file instead"


def test_unknown_event_is_not_found(engine: Engine, calendar: Calendar) -> None:
    with pytest.raises(NotFoundError, match="nope"):
        eventsdb.get_event(engine, "nope")
    with pytest.raises(NotFoundError, match="nope"):
        eventsdb.set_status(engine, calendar, "nope", "confirm", now=NOW)


def test_move_replans_reminders_and_queues_a_change_notice(engine: Engine, calendar: Calendar) -> None:
    added = eventsdb.add_event(engine, calendar, draft(), now=NOW)

    moved = eventsdb.move_event(engine, calendar, added.id, "2025-11-14T16:00", "Europe/London", now=NOW)

    assert moved.timezone == "Europe/London"
    assert pending(engine, added.id, "reminder") == planned_ids(moved)
    cancelled = {i for i, s in notifications(engine, added.id, "reminder").items() if s == "cancelled"}
    assert cancelled == planned_ids(added) - planned_ids(moved)
    assert f"chg:{added.id}:2:desk" in pending(engine, added.id, "change")


def test_move_into_the_past_window_sends_no_late_reminders(engine: Engine, calendar: Calendar) -> None:
    added = eventsdb.add_event(engine, calendar, draft(), now=NOW)

    moved = eventsdb.move_event(engine, calendar, added.id, "2025-10-21T10:00", now=NOW)

    due = {p.id: p.due_at for p in plan_reminders(moved, moved.notify)}
    assert pending(engine, added.id, "reminder") == {i for i, at in due.items() if at > NOW}
    assert any(at <= NOW for at in due.values())


def test_change_notice_reports_before_and_after(engine: Engine, calendar: Calendar) -> None:
    added = eventsdb.add_event(engine, calendar, draft(), now=NOW)
    eventsdb.move_event(engine, calendar, added.id, "2025-11-13", now=NOW)

    with engine.connect() as conn:
        payload = conn.execute(
            sa.select(NOTIFICATION.c.payload).where(NOTIFICATION.c.id == f"chg:{added.id}:2:desk")
        ).scalar_one()
    assert payload["before"]["local_start"] == added.local_start.isoformat()
    assert payload["after"]["all_day"] is True


def test_cancel_cancels_pending_reminders(engine: Engine, calendar: Calendar) -> None:
    added = eventsdb.add_event(engine, calendar, draft(), now=NOW)

    cancelled = eventsdb.set_status(engine, calendar, added.id, "cancel", now=NOW)

    assert cancelled.status == "cancelled"
    assert pending(engine, added.id, "reminder") == set()
    assert f"chg:{added.id}:2:desk" in pending(engine, added.id, "change")


def test_confirm_restores_reminders_of_a_cancelled_event(engine: Engine, calendar: Calendar) -> None:
    added = eventsdb.add_event(engine, calendar, draft(status="cancelled"), now=NOW)

    confirmed = eventsdb.set_status(engine, calendar, added.id, "confirm", now=NOW)

    assert confirmed.status == "confirmed"
    assert pending(engine, added.id, "reminder") == planned_ids(confirmed)


def test_every_write_bumps_the_events_revision(engine: Engine, calendar: Calendar) -> None:
    seen = []
    added = eventsdb.add_event(engine, calendar, draft(), now=NOW)
    for step in (
        lambda: None,
        lambda: eventsdb.move_event(engine, calendar, added.id, "2025-11-13", now=NOW),
        lambda: eventsdb.set_status(engine, calendar, added.id, "tentative", now=NOW),
    ):
        step()
        with engine.connect() as conn:
            seen.append(events_revision(conn))
    assert len(set(seen)) == len(seen)


def test_unchanged_update_writes_nothing(engine: Engine, calendar: Calendar) -> None:
    added = eventsdb.add_event(engine, calendar, draft(), now=NOW)
    with engine.connect() as conn:
        before = events_revision(conn)

    eventsdb.update_event(engine, calendar, added.id, {"title": added.title}, now=NOW)

    with engine.connect() as conn:
        assert events_revision(conn) == before


def test_unknown_field_in_an_update_is_rejected(engine: Engine, calendar: Calendar) -> None:
    added = eventsdb.add_event(engine, calendar, draft(), now=NOW)

    with pytest.raises(CalendarError, match="colour"):
        eventsdb.update_event(engine, calendar, added.id, {"colour": "red"}, now=NOW)


def test_calendar_reload_reapplies_changed_defaults_to_database_events(engine: Engine, calendar: Calendar) -> None:
    added = eventsdb.add_event(engine, calendar, draft(), now=NOW)
    changed = make_calendar(defaults={"reminders": ["3d"], "notify": ["desk", "audit"]})

    with engine.begin() as conn:
        report = sync_calendar(conn, changed, now=NOW)

    current = eventsdb.get_event(engine, added.id)
    assert added.id in report.changed
    assert current.owner == "db"
    assert current.reminders == changed.defaults.reminders
    assert pending(engine, added.id, "reminder") == planned_ids(current)


def test_explicit_reminders_survive_a_change_of_defaults(engine: Engine, calendar: Calendar) -> None:
    added = eventsdb.add_event(engine, calendar, draft(reminders=["14d"]), now=NOW)

    with engine.begin() as conn:
        sync_calendar(conn, make_calendar(defaults={"reminders": ["3d"]}), now=NOW)

    assert eventsdb.get_event(engine, added.id).reminders == added.reminders


def test_calendar_reload_never_removes_database_events(engine: Engine, calendar: Calendar) -> None:
    added = eventsdb.add_event(engine, calendar, draft(notify=["desk", "audit"]), now=NOW)
    without_audit = make_calendar(channels={"desk": {"type": "console"}}, events=[])

    with engine.begin() as conn:
        report = sync_calendar(conn, without_audit, now=NOW)

    assert added.id not in report.removed
    assert eventsdb.get_event(engine, added.id).notify == ("desk",)
    assert [e.id for e in eventsdb.list_events(engine)] == [added.id]


def test_database_event_id_taken_back_from_a_removed_file_event(engine: Engine, calendar: Calendar) -> None:
    with engine.begin() as conn:
        sync_calendar(conn, make_calendar(events=[]), now=NOW)
    empty = make_calendar(events=[])

    added = eventsdb.add_event(engine, empty, draft(id="truce-expiry"), now=NOW)

    with engine.connect() as conn:
        revision = conn.execute(sa.select(EVENT.c.revision).where(EVENT.c.id == added.id)).scalar_one()
    assert eventsdb.get_event(engine, added.id).owner == "db"
    assert revision > 1


def test_concurrent_adds_of_one_id_leave_one_event_and_one_conflict(engine: Engine, calendar: Calendar) -> None:
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def add(title: str) -> None:
        barrier.wait()
        try:
            eventsdb.add_event(engine, calendar, draft(title=title), now=NOW)
            outcomes.append("added")
        except ConflictError:
            outcomes.append("conflict")

    threads = [threading.Thread(target=add, args=(title,)) for title in ("First", "Second")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert sorted(outcomes) == ["added", "conflict"]
    assert [e.id for e in eventsdb.list_events(engine)].count("truce-extension") == 1


def test_file_event_reusing_a_database_id_leaves_the_database_event_alone(engine: Engine, calendar: Calendar) -> None:
    added = eventsdb.add_event(engine, calendar, draft(), now=NOW)
    clash = {"id": added.id, "title": "From the file", "at": "2025-12-01"}

    with engine.begin() as conn:
        report = sync_calendar(conn, make_calendar(events=[clash]), now=NOW)

    assert added.id in report.skipped
    assert eventsdb.get_event(engine, added.id) == added

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from support.factories import make_event

from alertd.planning import event_fingerprint
from alertd.storage.eventrows import EVENT, event_values
from alertd.storage.stored import Other, absent_rows, add_db_owned, read_stored

NOW = datetime(2025, 10, 20, 12, 0, tzinfo=UTC)


def seed(engine: Engine) -> None:
    """Live file events (one an occurrence), a removed one-off, a removed occurrence, database events."""
    rows = [
        event_values(make_event("live"), revision=1, now=NOW),
        event_values(make_event("review@20251031"), revision=1, now=NOW),
        event_values(make_event("gone"), revision=3, now=NOW) | {"removed": True},
        event_values(make_event("review@20250930"), revision=2, now=NOW) | {"removed": True},
        event_values(make_event("db-drafted", owner="db"), revision=1, now=NOW) | {"draft": {"id": "db-drafted"}},
        event_values(make_event("db-plain", owner="db"), revision=1, now=NOW),
    ]
    with engine.begin() as conn:
        for row in rows:  # one by one: a multi-row insert takes its columns from the first row (no draft)
            conn.execute(EVENT.insert().values(**row))


def test_live_file_events_are_read_as_id_fingerprint_pairs(engine: Engine) -> None:
    seed(engine)
    with engine.begin() as conn:
        stored = read_stored(conn, occurrences_only=False)
    assert stored.live == {
        "live": event_fingerprint(make_event("live")),
        "review@20251031": event_fingerprint(make_event("review@20251031")),
    }


def test_every_other_row_but_plain_database_events_is_read_with_its_owner_removal_and_draft(engine: Engine) -> None:
    """Booleans come back as booleans on both backends (SQLite's driver gives integers). A database-owned event
    without a draft cannot change with the calendar: it is not read (there may be hundreds of thousands)."""
    seed(engine)
    with engine.begin() as conn:
        stored = read_stored(conn, occurrences_only=False)
    assert stored.other == {
        "gone": Other("file", True, False),
        "review@20250930": Other("file", True, False),
        "db-drafted": Other("db", False, True),
    }
    assert all(type(v) is bool for row in stored.other.values() for v in (row.removed, row.drafted))


def test_plain_database_events_are_added_by_the_ids_a_calendar_takes(engine: Engine) -> None:
    """Only the ids asked for are read, with booleans; ids already read or not stored at all change nothing."""
    seed(engine)
    with engine.begin() as conn:
        stored = read_stored(conn, occurrences_only=False)
        add_db_owned(conn, stored, ["db-plain", "live", "gone", "nowhere"])
    assert stored.other["db-plain"] == Other("db", False, False)
    assert type(stored.other["db-plain"].drafted) is bool
    assert "nowhere" not in stored.other
    assert "live" not in stored.other


def test_occurrences_only_reads_the_occurrences_alone(engine: Engine) -> None:
    seed(engine)
    with engine.begin() as conn:
        stored = read_stored(conn, occurrences_only=True)
    assert set(stored.live) == {"review@20251031"}
    assert stored.other == {"review@20250930": Other("file", True, False)}


def test_absent_rows_leave_out_removed_one_off_events_and_come_in_id_order(engine: Engine) -> None:
    """A removed one-off event can only stay removed; a removed occurrence may still leave the window."""
    seed(engine)
    with engine.begin() as conn:
        stored = read_stored(conn, occurrences_only=False)
        absent = absent_rows(conn, stored, {"live": "changed"})
    assert [(r.id, r.revision, bool(r.removed)) for r in absent] == [
        ("review@20250930", 2, True),
        ("review@20251031", 1, False),
    ]
    assert all(r.starts_at.tzinfo is not None for r in absent)


def test_an_empty_table_reads_as_nothing(engine: Engine) -> None:
    with engine.begin() as conn:
        stored = read_stored(conn, occurrences_only=False)
        assert (stored.live, stored.other, absent_rows(conn, stored, {})) == ({}, {}, [])
        assert conn.execute(sa.select(sa.func.count()).select_from(EVENT)).scalar() == 0

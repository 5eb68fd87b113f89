from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from support.factories import from_file, make_calendar, make_event

from alertd.calendar import EventDraft, resolve_draft
from alertd.domain import Calendar, EventSpec
from alertd.planning import event_fingerprint
from alertd.storage.db import create_engine, migrate
from alertd.storage.eventrows import EVENT, event_values
from alertd.storage.feedsync import sync_feed
from alertd.storage.stored import Other, StoredCache, absent_rows, add_db_owned, read_stored
from alertd.storage.sync import SyncReport, apply_event, sync_calendar

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


# --- a syncing process's kept view of the table -----------------------------------------------------------


def synced(engine: Engine, calendar: Calendar, cache: StoredCache | None, **options: Any) -> SyncReport:
    with engine.begin() as conn:
        return sync_calendar(conn, calendar, now=NOW, cache=cache, **options)


def file_calendar(*events: EventSpec) -> Calendar:
    return make_calendar(events)


def kept_is_the_table(engine: Engine, cache: StoredCache) -> bool:
    """The maps ``cache`` would hand the next sync are the ones read from the table (this empties the cache)."""
    with engine.begin() as conn:
        fresh = read_stored(conn, occurrences_only=False)
        reads = cache.reads
        kept = read_stored(conn, occurrences_only=False, cache=cache)
    return cache.reads == reads and (kept.live, kept.other) == (fresh.live, fresh.other)


A, B, C = make_event("alpha"), make_event("beta"), make_event("gamma")


def test_a_sync_after_our_own_committed_sync_reads_nothing_back(engine: Engine) -> None:
    cache = StoredCache()
    synced(engine, file_calendar(A, B), cache)
    report = synced(engine, file_calendar(A, replace(B, title="Beta moved"), C), cache)
    assert (report.added, report.changed) == (["gamma"], ["beta"])
    report = synced(engine, file_calendar(A, C), cache)
    assert report.removed == ["beta"]
    assert cache.reads == 1
    assert kept_is_the_table(engine, cache)


def test_a_sync_after_another_replicas_sync_reads_the_table_again(engine: Engine) -> None:
    """The other replica changed beta, added gamma and removed alpha: we announce nothing of it a second time."""
    ours, theirs = StoredCache(), StoredCache()
    synced(engine, file_calendar(A, B), ours)
    edited = file_calendar(replace(B, title="Beta moved"), C)
    assert synced(engine, edited, theirs).changed == ["beta"]
    report = synced(engine, edited, ours)
    assert (report.added, report.changed, report.removed, report.queued) == ([], [], [], 0)
    assert ours.reads == 2
    assert kept_is_the_table(engine, ours)


def test_a_sync_without_a_cache_also_makes_the_next_one_read(engine: Engine) -> None:
    """A CLI command syncs without a cache: it still replaces the token, so the daemon's view is dropped."""
    cache = StoredCache()
    synced(engine, file_calendar(A, B), cache)
    synced(engine, file_calendar(A), None)
    report = synced(engine, file_calendar(A, B), cache)
    assert report.added == ["beta"]
    assert cache.reads == 2


def test_after_a_rolled_back_sync_the_change_is_still_found(engine: Engine) -> None:
    cache = StoredCache()
    synced(engine, file_calendar(A, B), cache)
    edited = file_calendar(A, replace(B, title="Beta moved"))
    with engine.connect() as conn:
        transaction = conn.begin()
        assert sync_calendar(conn, edited, now=NOW, cache=cache).changed == ["beta"]
        transaction.rollback()
    assert synced(engine, edited, cache).changed == ["beta"]
    assert cache.reads == 2


def test_a_database_owned_event_written_between_makes_the_next_sync_read(engine: Engine) -> None:
    """Its id now belongs to the database: the file event of that id is skipped, not added over it."""
    cache = StoredCache()
    synced(engine, file_calendar(A), cache)
    draft = EventDraft(id="gamma", title="Gamma talks", start="2025-11-12T10:00")
    owned, _ = resolve_draft(draft, file_calendar(A))
    with engine.begin() as conn:
        apply_event(conn, file_calendar(A), owned, now=NOW, draft=draft.model_dump())
    report = synced(engine, file_calendar(A, C), cache)
    assert (report.added, report.skipped) == ([], ["gamma"])
    assert cache.reads == 2


def test_a_feed_sync_that_wrote_makes_the_next_sync_read(engine: Engine) -> None:
    cache = StoredCache()
    synced(engine, file_calendar(A), cache)
    with engine.begin() as conn:
        feed = [make_event("news:one", owner="feed")]
        sync_feed(conn, file_calendar(A), "news", feed, now=NOW, window_end=NOW + timedelta(days=30), previous_end=None)
    synced(engine, file_calendar(A), cache)
    assert cache.reads == 2
    assert kept_is_the_table(engine, cache)


def test_window_moves_keep_the_kept_view_in_step(engine: Engine, tmp_path: Path) -> None:
    text = """\
version: 1
timezone: UTC
defaults: {reminders: [1d], countdown: false}
channels:
  hooks: {type: console}
events:
  - {id: once, title: One-off, at: 2026-06-01}
  - {id: weekly, title: Weekly, at: "2025-10-06T09:00", repeat: FREQ=WEEKLY}
"""
    calendar = from_file(tmp_path, text)
    cache = StoredCache()
    synced(engine, calendar, cache, horizon_days=30)
    for days in (7, 14, 24):
        # Each move stores the occurrence the window reaches and deletes the one it left, quietly.
        with engine.begin() as conn:
            later = NOW + timedelta(days=days)
            report = sync_calendar(conn, calendar, now=later, horizon_days=30, occurrences_only=True, cache=cache)
        assert len(report.added) == 1
    with engine.begin() as conn:
        report = sync_calendar(conn, calendar, now=NOW + timedelta(days=24), horizon_days=30, cache=cache)
    assert (report.added, report.changed, report.removed) == ([], [], [])
    assert cache.reads == 1
    assert kept_is_the_table(engine, cache)


def test_a_cache_never_matches_another_database(engine: Engine, tmp_path: Path) -> None:
    other = create_engine(f"sqlite:///{tmp_path / 'other.db'}")
    migrate(other)
    cache = StoredCache()
    synced(engine, file_calendar(A, B), cache)
    assert synced(other, file_calendar(A), cache).added == ["alpha"]
    assert synced(engine, file_calendar(A, B), cache).added == []
    assert cache.reads == 3
    other.dispose()


def test_a_sync_that_changed_nothing_leaves_every_process_its_view(engine: Engine) -> None:
    """No row changed, so the maps read under the token are still the table's: the token stays, for both."""
    ours, theirs = StoredCache(), StoredCache()
    synced(engine, file_calendar(A, B), ours)
    assert synced(engine, file_calendar(A, B), theirs).queued == 0  # reads the table, writes no event row
    synced(engine, file_calendar(A, B), ours)
    synced(engine, file_calendar(A, B), theirs)
    assert (ours.reads, theirs.reads) == (1, 1)
    assert synced(engine, file_calendar(A), theirs).removed == ["beta"]
    assert synced(engine, file_calendar(A), ours).removed == []
    assert ours.reads == 2
    assert kept_is_the_table(engine, ours)

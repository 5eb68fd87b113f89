"""Target 1: plan and store 100k events × 4 reminders × 2 channels within 3× of raw ``sqlite3.executemany``.

alertd: ``sync_calendar`` (planner + ``outbox.enqueue``, plus the event rows) inside one transaction on a freshly
migrated database, through alertd's engine. Baseline: the very same event and notification rows, converted to
their stored form beforehand, written with ``sqlite3.executemany`` on a connection with alertd's PRAGMAs into a
second freshly migrated database. Both include the commit.
"""

from __future__ import annotations

import gc
import json
import sqlite3
import time
from datetime import UTC, datetime, timedelta
from datetime import time as dtime
from typing import Any

from alertd.domain import Calendar, ChannelSpec, Defaults, EventSpec
from alertd.planning.planner import event_fingerprint, plan_reminders
from alertd.storage.outbox import enqueue
from alertd.storage.sync import sync_calendar
from alertd.timeexpr import localize, parse_offset, zone
from bench.common import Result, Workspace, fresh_db, median

_REMINDERS = ("7d", "1d", "1h", "0m")
_CHANNELS = ("hook-a", "hook-b")
_ZONES = ("Europe/Berlin", "America/New_York", "Asia/Tokyo", "UTC")


def make_calendar(n_events: int, now: datetime) -> Calendar:
    """A calendar of ``n_events`` timed events spread over the next year, in several zones."""
    offsets = tuple(parse_offset(t) for t in _REMINDERS)
    channels = {
        cid: ChannelSpec(id=cid, type="webhook", timezone="UTC", options={"url": f"http://127.0.0.1:9/{cid}"})
        for cid in _CHANNELS
    }
    base = (now + timedelta(days=10)).replace(tzinfo=None, minute=0, second=0, microsecond=0)
    events = []
    for i in range(n_events):
        tz_name = _ZONES[i % len(_ZONES)]
        local = base + timedelta(minutes=5 * i)
        events.append(
            EventSpec(
                id=f"event-{i:07d}",
                title=f"Deadline number {i}",
                local_start=local,
                all_day=False,
                timezone=tz_name,
                starts_at=localize(local, zone(tz_name)),
                tags=("bench",),
                reminders=offsets,
                notify=_CHANNELS,
                countdown=False,
            )
        )
    defaults = Defaults(reminders=offsets, all_day_at=dtime(9, 0), countdown=None, notify=_CHANNELS)
    return Calendar(path="bench.yaml", timezone="UTC", defaults=defaults, channels=channels, events=tuple(events))


def _stamp(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


_EVENT_COLS = (
    "id",
    "title",
    "local_start",
    "all_day",
    "timezone",
    "starts_at",
    "status",
    "tags",
    "source",
    "notes",
    "reminders",
    "notify",
    "all_day_at",
    "countdown",
    "owner",
    "fingerprint",
    "revision",
    "removed",
    "updated_at",
)
_NOTE_COLS = (
    "id",
    "kind",
    "event_id",
    "channel",
    "offset",
    "due_at",
    "next_at",
    "expires_at",
    "state",
    "attempts",
    "late",
    "payload",
    "created_at",
    "updated_at",
)


def raw_rows(calendar: Calendar, now: datetime) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """The event and notification rows alertd stores for ``calendar``, as plain tuples in their on-disk form."""
    at = _stamp(now)
    events = [
        (
            e.id,
            e.title,
            e.local_start.isoformat(),
            e.all_day,
            e.timezone,
            _stamp(e.starts_at),
            e.status,
            json.dumps(list(e.tags)),
            e.source,
            e.notes,
            json.dumps([o.text for o in e.reminders]),
            json.dumps(list(e.notify)),
            e.all_day_at.strftime("%H:%M"),
            e.countdown,
            e.owner,
            event_fingerprint(e),
            1,
            False,
            at,
        )
        for e in calendar.events
    ]
    notes = [
        (
            p.id,
            p.kind,
            p.event_id,
            p.channel,
            p.offset,
            _stamp(p.due_at),
            _stamp(p.due_at),
            _stamp(p.expires_at),
            "pending",
            0,
            False,
            None,
            at,
            at,
        )
        for e in calendar.events
        for p in plan_reminders(e, e.notify)
        if p.due_at > now
    ]
    return events, notes


def _raw_insert(path: str, events: list[tuple[Any, ...]], notes: list[tuple[Any, ...]]) -> float:
    conn = sqlite3.connect(path, isolation_level=None)
    for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "busy_timeout=5000", "foreign_keys=ON"):
        conn.execute(f"PRAGMA {pragma}")
    ev_sql = f"INSERT INTO event ({', '.join(_EVENT_COLS)}) VALUES ({', '.join('?' * len(_EVENT_COLS))})"
    cols = ", ".join(f'"{c}"' for c in _NOTE_COLS)
    nt_sql = f"INSERT INTO notification ({cols}) VALUES ({', '.join('?' * len(_NOTE_COLS))})"
    started = time.perf_counter()
    conn.execute("BEGIN IMMEDIATE")
    conn.executemany(ev_sql, events)
    conn.executemany(nt_sql, notes)
    conn.execute("COMMIT")
    elapsed = time.perf_counter() - started
    conn.close()
    return elapsed


def _raw(ws: Workspace, events: list[tuple[Any, ...]], notes: list[tuple[Any, ...]]) -> float:
    fresh_db(ws.file("plan-raw.db")).dispose()
    gc.collect()
    return _raw_insert(str(ws.file("plan-raw.db")), events, notes)


def run(ws: Workspace, *, quick: bool, repeat: int) -> Result:
    n_events = 5_000 if quick else 100_000
    now = datetime.now(UTC).replace(microsecond=0)
    calendar = make_calendar(n_events, now)
    events, notes = raw_rows(calendar, now)
    alertd_s: list[float] = []
    enqueue_s: list[float] = []
    raw_s: list[float] = []
    raw_notes_s: list[float] = []
    queued = 0
    for _ in range(repeat):
        # alertd's full path: events + planner + outbox, one transaction.
        engine = fresh_db(ws.file("plan-alertd.db"))
        gc.collect()
        started = time.perf_counter()
        with engine.begin() as conn:
            report = sync_calendar(conn, calendar, now=now)
        alertd_s.append(time.perf_counter() - started)
        queued = report.queued
        engine.dispose()
        raw_s.append(_raw(ws, events, notes))
        if not quick:
            continue  # the split below is for diagnosis; the full size would double the run time
        # Planner + outbox.enqueue alone (no event rows), against raw notification rows alone.
        engine = fresh_db(ws.file("plan-enqueue.db"))
        gc.collect()
        started = time.perf_counter()
        with engine.begin() as conn:
            planned = [p for e in calendar.events for p in plan_reminders(e, e.notify)]
            enqueue(conn, planned, now=now)
        enqueue_s.append(time.perf_counter() - started)
        del planned
        engine.dispose()
        raw_notes_s.append(_raw(ws, [], notes))
    if queued != len(notes):
        raise RuntimeError(f"alertd queued {queued} rows, the raw baseline has {len(notes)}")
    figure, baseline = median(alertd_s), median(raw_s)
    ratio = figure / baseline
    return Result(
        name="planning",
        figure=figure,
        baseline=baseline,
        unit="s",
        target="ratio ≤ 3.0",
        passed=ratio <= 3.0,
        ratio=ratio,
        details={
            "events": n_events,
            "notification_rows": len(notes),
            "alertd_sync_calendar_s": alertd_s,
            "raw_executemany_s": raw_s,
            "alertd_rows_per_s": len(notes) / figure,
            "raw_rows_per_s": len(notes) / baseline,
            "planner_plus_enqueue_s": enqueue_s,
            "raw_notifications_only_s": raw_notes_s,
            "planner_plus_enqueue_ratio": median(enqueue_s) / median(raw_notes_s) if enqueue_s else None,
        },
    )

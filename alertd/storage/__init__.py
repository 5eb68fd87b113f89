"""Storage: the database is the source of truth, and this package is the only code that writes it.

Engines, the single-writer guard and migrations (``db``, ``migrations/``), the tables (``models``), the outbox of
planned notifications, the only writer of their rows (``outbox``), events read back (``eventrows``) and edited
through the CLI and API (``events``), the calendar file synced into rows (``sync``), channel state kept between
sends (``channel_state``) and batched SQL helpers (``bulk``).

May import: alertd's shared modules, :mod:`alertd.messages`, :mod:`alertd.channels`, :mod:`alertd.calendar` and
:mod:`alertd.planning`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from alertd.storage.bulk import fetch, insert_ignoring_duplicates
    from alertd.storage.channel_state import MetaState
    from alertd.storage.db import (
        InstanceLock,
        create_engine,
        create_reader_engine,
        describe_db_error,
        is_sqlite,
        load_migrations,
        migrate,
        schema_is_current,
        sqlite_path,
    )
    from alertd.storage.eventrows import EVENT, event_from_row, load_events
    from alertd.storage.events import (
        add_event,
        current_events,
        event_as_json,
        event_revisions,
        get_event,
        list_events,
        move_event,
        planned_calendar,
        set_status,
        update_event,
    )
    from alertd.storage.held import HeldConnection
    from alertd.storage.models import ACTIVE_STATES, Meta, Notification
    from alertd.storage.outbox import (
        ATTEMPT,
        DUE_CHANNEL,
        NOTIFICATION,
        Claimed,
        Outcome,
        cancel_one,
        claim,
        enqueue,
        hold,
        next_due,
        notify_due,
        reclaim,
        record,
        requeue,
        supersede_countdowns,
    )
    from alertd.storage.sync import SyncReport, events_revision, sync_calendar
else:
    from alertd._exports import exports

    __getattr__ = exports(
        __name__,
        db=(
            "InstanceLock",
            "create_engine",
            "create_reader_engine",
            "describe_db_error",
            "is_sqlite",
            "load_migrations",
            "load_migrations",
            "migrate",
            "schema_is_current",
            "sqlite_path",
        ),
        models=("ACTIVE_STATES", "Meta", "Notification"),
        bulk=("fetch", "insert_ignoring_duplicates"),
        outbox=(
            "ATTEMPT",
            "DUE_CHANNEL",
            "NOTIFICATION",
            "Claimed",
            "Outcome",
            "cancel_one",
            "claim",
            "enqueue",
            "hold",
            "next_due",
            "notify_due",
            "reclaim",
            "record",
            "requeue",
            "supersede_countdowns",
        ),
        eventrows=("EVENT", "event_from_row", "load_events"),
        events=(
            "add_event",
            "current_events",
            "event_as_json",
            "event_revisions",
            "get_event",
            "list_events",
            "move_event",
            "planned_calendar",
            "set_status",
            "update_event",
        ),
        sync=("SyncReport", "events_revision", "sync_calendar"),
        channel_state=("MetaState",),
        held=("HeldConnection",),
    )

__all__ = [
    "ACTIVE_STATES",
    "ATTEMPT",
    "DUE_CHANNEL",
    "EVENT",
    "NOTIFICATION",
    "Claimed",
    "HeldConnection",
    "InstanceLock",
    "Meta",
    "MetaState",
    "Notification",
    "Outcome",
    "SyncReport",
    "add_event",
    "cancel_one",
    "claim",
    "create_engine",
    "create_reader_engine",
    "current_events",
    "describe_db_error",
    "enqueue",
    "event_as_json",
    "event_from_row",
    "event_revisions",
    "events_revision",
    "fetch",
    "get_event",
    "hold",
    "insert_ignoring_duplicates",
    "is_sqlite",
    "list_events",
    "load_events",
    "load_migrations",
    "migrate",
    "move_event",
    "next_due",
    "notify_due",
    "planned_calendar",
    "reclaim",
    "record",
    "requeue",
    "schema_is_current",
    "set_status",
    "sqlite_path",
    "supersede_countdowns",
    "sync_calendar",
    "update_event",
]

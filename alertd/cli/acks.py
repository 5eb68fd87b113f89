"""``alertd ack EVENT --by NAME`` and ``alertd unack EVENT --by NAME``: say an event is handled, or take it back.

Heavy imports wait for the handlers, as in :mod:`alertd.cli.main`, so ``alertd --help`` stays quick.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from alertd.cli.args import instant

if TYPE_CHECKING:
    from alertd.settings import Settings

__all__ = ["ack", "add_parsers", "unack"]


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date: {text!r} (e.g. 2026-03-31)") from None


def add_parsers(sub: Any) -> None:
    """Register ``ack`` and ``unack`` on the ``alertd`` subcommand parser ``sub``."""
    for name, help in (
        ("ack", "acknowledge an event: its remaining reminders and escalation steps stop, its channels are told"),
        ("unack", "withdraw an event's acknowledgement: its reminders and escalation steps still ahead come back"),
    ):
        p: argparse.ArgumentParser = sub.add_parser(name, help=help, description=help)
        p.add_argument("event", metavar="EVENT", help="the event's id, e.g. truce-expiry")
        p.add_argument("--occurrence", type=_day, metavar="DATE", help="one occurrence of a recurring event")
        p.add_argument("--by", required=True, metavar="NAME", help="who is acknowledging (shown to the team)")
        if name == "ack":
            p.add_argument("--note", help="a line for the team, e.g. 'filed with the agency'")
        p.add_argument("--calendar", type=Path, help="calendar file (default: ALERTD_CALENDAR or config/calendar.yaml)")
        p.add_argument("--db", help="database URL (default: ALERTD_DATABASE_URL or sqlite:///alertd.db)")
        p.add_argument("--format", choices=("text", "json"), default="text")
        p.add_argument("--now", type=instant, metavar="ISO", help="pretend it is this instant (default: now)")


def _run(args: argparse.Namespace, settings: Settings, revoke: bool) -> int:
    from alertd.calendar import load_calendar
    from alertd.cli.common import migrated_engine
    from alertd.clock import SystemClock
    from alertd.settings import calendar_environ
    from alertd.storage import ack_event, ack_json, occurrence_id, unack_event

    calendar, _ = load_calendar(
        args.calendar or settings.calendar, environ=calendar_environ(), settings=settings, secrets=False
    )
    engine = migrated_engine(args.db or settings.database_url)
    event_id = occurrence_id(args.event, args.occurrence)
    now = args.now or SystemClock().now()
    try:
        _known(engine, calendar, event_id, now, settings.recurrence_horizon)
        if revoke:
            record, report = unack_event(engine, calendar, event_id=event_id, by=args.by, now=now)
            text = f"{event_id} is no longer acknowledged; {report.queued} notifications still ahead are queued again"
            new = True
        else:
            record, new, report = ack_event(
                engine, calendar, event_id=event_id, by=args.by, via="cli", now=now, note=args.note
            )
            text = (
                f"acknowledged {event_id} by {record.by}; cancelled: {_kinds(report.cancelled_by)}"
                if new
                else f"{event_id} was already acknowledged by {record.by} at {record.at:%Y-%m-%d %H:%M}Z; nothing done"
            )
    finally:
        engine.dispose()
    if args.format == "json":
        print(json.dumps(ack_json(record) | {"changed": new}, indent=2, ensure_ascii=False))
    else:
        print(text)
    return 0


def _known(engine: Any, calendar: Any, event_id: str, now: Any, horizon: int) -> None:
    """Store the calendar file's events first when the daemon has not yet (a fresh database): a file event, or an
    occurrence of a recurring one, can then be acknowledged before the first ``alertd run``, as the daemon would
    plan it."""
    import sqlalchemy as sa

    from alertd.storage import EVENT, sync_calendar

    base = event_id.split("@", 1)[0]
    if not any(e.id == base for e in (*calendar.events, *(s.event for s in calendar.series))):
        return
    with engine.begin() as conn:
        if conn.execute(sa.select(EVENT.c.id).where(EVENT.c.id == event_id)).first() is None:
            sync_calendar(conn, calendar, now=now, horizon_days=horizon)


def _kinds(cancelled: Counter[tuple[str, str]]) -> str:
    """``2 reminder, 8 countdown`` (notifications cancelled, by kind), or ``nothing``."""
    by_kind: Counter[str] = Counter()
    for (kind, _), n in cancelled.items():
        by_kind[kind] += n
    return ", ".join(f"{n} {kind}" for kind, n in sorted(by_kind.items())) or "nothing"


def ack(args: argparse.Namespace, settings: Settings) -> int:
    return _run(args, settings, revoke=False)


def unack(args: argparse.Namespace, settings: Settings) -> int:
    return _run(args, settings, revoke=True)

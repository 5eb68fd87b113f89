"""``alertd events …`` (edit database-owned events, SPEC §7) and ``alertd export-ics`` (the calendar as iCalendar).

Heavy imports wait for the handlers, as in :mod:`alertd.cli.main`, so ``alertd --help`` stays quick.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from alertd.cli.args import instant
from alertd.errors import CalendarError, UsageError

if TYPE_CHECKING:
    import sqlalchemy as sa

    from alertd.calendar import EventDraft
    from alertd.domain import Calendar, EventSpec
    from alertd.settings import Settings

__all__ = ["add_parsers", "events", "export_ics"]


def _items(text: str) -> list[str]:
    """``a,b`` → ``["a", "b"]``; an empty string is an empty list (``--reminders ""`` = no reminders)."""
    return [part.strip() for part in text.split(",") if part.strip()]


def _common(p: argparse.ArgumentParser, *, write: bool = False, formats: tuple[str, ...] = ("text", "json")) -> None:
    p.add_argument("--calendar", type=Path, help="calendar file (default: ALERTD_CALENDAR or config/calendar.yaml)")
    p.add_argument("--db", help="database URL (default: ALERTD_DATABASE_URL or sqlite:///alertd.db)")
    p.add_argument("--format", choices=formats, default=formats[0])
    if write:
        p.add_argument("--now", type=instant, metavar="ISO", help="pretend it is this instant (default: now)")


def add_parsers(sub: Any) -> None:
    """Register ``events`` and ``export-ics`` on the ``alertd`` subcommand parser ``sub``."""

    def cmd(parent: Any, name: str, help: str) -> argparse.ArgumentParser:
        parser: argparse.ArgumentParser = parent.add_parser(name, help=help, description=help)
        return parser

    ev = cmd(sub, "events", "list, show and edit events (database-owned events can be added and changed)")
    actions = ev.add_subparsers(dest="events_command", required=True, metavar="ACTION")
    _common(cmd(actions, "list", "every event, provisioned and database-owned, by start"), formats=("table", "json"))
    show = cmd(actions, "show", "one event in full")
    show.add_argument("id")
    _common(show)

    add = cmd(actions, "add", "add a database-owned event (checked like an event of the calendar file)")
    add.add_argument("id", help="stable id: a-z, 0-9 and '-', e.g. truce-extension")
    add.add_argument("--title", required=True)
    add.add_argument("--start", required=True, help="2025-11-10 (all day), 2025-11-10T00:01 or …T00:01-05:00")
    add.add_argument("--timezone", help="IANA zone of the event (default: the calendar's)")
    day = add.add_mutually_exclusive_group()
    day.add_argument("--all-day", dest="all_day", action="store_true", default=None, help="a date, no time")
    day.add_argument("--timed", dest="all_day", action="store_false", help="a date alone means midnight")
    add.add_argument("--status", default="confirmed", help="tentative, confirmed, postponed or cancelled")
    add.add_argument("--tags", type=_items, default=[], metavar="A,B")
    add.add_argument("--notes")
    add.add_argument("--source", help="where the date comes from (a URL)")
    add.add_argument("--notify", type=_items, metavar="CH1,CH2", help="channels (default: the calendar's defaults)")
    add.add_argument(
        "--reminders", type=_items, metavar="7d,1d", help='offsets (default: calendar defaults; "" = none)'
    )
    add.add_argument(
        "--after-ack", choices=("stop", "keep"), help="after an acknowledgement (default: the calendar's): stop or keep"
    )
    _common(add, write=True)

    move = cmd(actions, "move", "give a database-owned event a new start")
    move.add_argument("id")
    move.add_argument("start", help="2025-11-10 (all day), 2025-11-10T00:01 or …T00:01-05:00")
    move.add_argument("--timezone", help="also change the event's zone")
    move.add_argument("--force", action="store_true", help="accept a start in the past (refused by default)")
    _common(move, write=True)

    for verb, what in (("confirm", "mark confirmed"), ("cancel", "cancel (pending reminders are cancelled)")):
        status = cmd(actions, verb, f"{what} a database-owned event")
        status.add_argument("id")
        _common(status, write=True)
    tentative = cmd(actions, "tentative", "mark a database-owned event tentative")
    tentative.add_argument("id")
    _common(tentative, write=True)

    ics = cmd(sub, "export-ics", "write the calendar as iCalendar (RFC 5545) with one alarm per reminder")
    ics.add_argument("--output", "-o", type=Path, metavar="FILE", help="write here instead of standard output")
    ics.add_argument("--calendar", type=Path)
    ics.add_argument("--db")
    ics.add_argument("--now", type=instant, metavar="ISO", help="DTSTAMP instant (default: now)")


_OWNERS = {"file": "calendar file", "db": "database", "feed": "calendar feed (read-only; edit it at its source)"}


def _when(event: EventSpec) -> str:
    if event.all_day:
        return f"{event.local_start:%a %d %b %Y} (all day)"
    from alertd.timeexpr import zone

    return event.starts_at.astimezone(zone(event.timezone)).strftime("%a %d %b %Y %H:%M %Z")


def _describe(event: EventSpec) -> list[str]:
    reminders = ", ".join(o.text for o in event.reminders) or "none"
    return [
        f"id:        {event.id}",
        f"title:     {event.title}",
        f"start:     {_when(event)} ({event.timezone}); {event.starts_at:%Y-%m-%d %H:%M}Z",
        f"status:    {event.status}",
        f"owner:     {_OWNERS.get(event.owner, event.owner)}",
        f"tags:      {', '.join(event.tags) or '-'}",
        f"reminders: {reminders}",
        f"notify:    {', '.join(event.notify) or '-'}",
        *([f"source:    {event.source}"] if event.source else []),
        *([f"notes:     {event.notes}"] if event.notes else []),
        *(["acked:     yes (see GET /api/v1/events/ID/ack; alertd unack to withdraw)"] if event.acknowledged else []),
    ]


def _calendar(args: argparse.Namespace, settings: Settings, *, secrets: bool) -> Calendar:
    from alertd.calendar import load_calendar
    from alertd.settings import calendar_environ

    path = args.calendar or settings.calendar
    calendar, warnings = load_calendar(path, environ=calendar_environ(), settings=settings, secrets=secrets)
    for issue in warnings:
        print(issue, file=sys.stderr)
    return calendar


def _context(args: argparse.Namespace, settings: Settings) -> tuple[Calendar, sa.Engine]:
    from alertd.cli.common import migrated_engine

    calendar = _calendar(args, settings, secrets=True)
    return calendar, migrated_engine(args.db or settings.database_url)


def _read_only(args: argparse.Namespace, settings: Settings) -> tuple[Calendar, sa.Engine | None]:
    """The calendar without its secrets and the database if there is one: reading creates nothing."""
    from alertd.cli.common import read_engine

    calendar = _calendar(args, settings, secrets=False)
    return calendar, read_engine(args.db or settings.database_url)


def _current(engine: sa.Engine | None, calendar: Calendar) -> list[EventSpec]:
    from alertd.storage import current_events

    if engine is None:
        return sorted(calendar.events, key=lambda e: (e.starts_at, e.id))
    return current_events(engine, calendar)


def _print(event: EventSpec, args: argparse.Namespace, verb: str | None = None) -> None:
    from alertd.storage import event_as_json

    if args.format == "json":
        print(json.dumps(event_as_json(event), indent=2, ensure_ascii=False))
    elif verb is None:
        print("\n".join(_describe(event)))
    else:
        print(f"{verb} {event.id}: {event.title} — {_when(event)}, {event.status}")


def events(args: argparse.Namespace, settings: Settings) -> int:
    from alertd.clock import SystemClock
    from alertd.storage import events as eventsdb

    if args.events_command in ("list", "show"):
        return _show(args, settings)
    calendar, engine = _context(args, settings)
    try:
        now = args.now or SystemClock().now()
        if args.events_command == "add":
            event = eventsdb.add_event(engine, calendar, _draft(args), now=now)
        elif args.events_command == "move":
            event = eventsdb.move_event(engine, calendar, args.id, args.start, args.timezone, now=now, force=args.force)
        else:
            event = eventsdb.set_status(engine, calendar, args.id, args.events_command, now=now)
        past = {"add": "added", "move": "moved", "confirm": "confirmed", "cancel": "cancelled"}
        _print(event, args, past.get(args.events_command, "updated"))
        return 0
    except CalendarError as exc:
        # The event is wrong, not the calendar file: one line naming the event and the field.
        raise UsageError(str(exc)) from None
    finally:
        engine.dispose()


def _show(args: argparse.Namespace, settings: Settings) -> int:
    """``events list`` and ``events show``: read-only, so no secrets and no database are needed."""
    from alertd.errors import NotFoundError
    from alertd.storage import event_as_json, get_event

    calendar, engine = _read_only(args, settings)
    try:
        found = _current(engine, calendar)
        if args.events_command == "list":
            if args.format == "json":
                print(json.dumps([event_as_json(e) for e in found], indent=2, ensure_ascii=False))
                return 0
            from alertd.cli.common import table

            rows = [[e.id, _when(e), e.timezone, e.status, e.owner, e.title] for e in found]
            table(["ID", "START", "ZONE", "STATUS", "OWNER", "TITLE"], rows)
            return 0
        matches = [e for e in found if e.id == args.id]
        if matches:
            _print(matches[0], args)
        elif engine is None:
            raise NotFoundError(f"no event {args.id!r} in {calendar.path}, and there is no database yet")
        else:
            _print(get_event(engine, args.id), args)
        return 0
    finally:
        if engine is not None:
            engine.dispose()


def _draft(args: argparse.Namespace) -> EventDraft:
    from alertd.calendar import DRAFT_FIELDS, draft_from_mapping

    # Through the checking constructor: a value over a field's bound is a CalendarError naming the field.
    return draft_from_mapping({name: getattr(args, name, None) for name in DRAFT_FIELDS})


def export_ics(args: argparse.Namespace, settings: Settings) -> int:
    from alertd.clock import SystemClock
    from alertd.planning import render_calendar
    from alertd.storage import current_events, event_revisions

    calendar, engine = _context(args, settings)
    try:
        now = args.now or SystemClock().now()
        text = render_calendar(current_events(engine, calendar), calendar, now, revisions=event_revisions(engine))
    finally:
        engine.dispose()
    data = text.encode("utf-8")
    if args.output is None:
        sys.stdout.flush()
        sys.stdout.buffer.write(data)  # bytes: the CRLF line ends must reach the file unchanged
        sys.stdout.buffer.flush()
        return 0
    try:
        args.output.write_bytes(data)
    except OSError as exc:
        raise UsageError(f"cannot write {args.output}: {exc.strerror or exc}; check the folder exists") from None
    print(f"wrote {text.count('BEGIN:VEVENT')} events to {args.output}", file=sys.stderr)
    return 0

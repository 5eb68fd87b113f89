"""The one-shot CLI commands (all but ``run``): each takes parsed arguments and settings, returns an exit code.

Each command imports what it uses inside its body: ``alertd check`` must not pay for the database, the HTTP client
or the channels it does not use (tests/cli/test_imports.py keeps this true).
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from alertd.cli.common import migrated_engine, print_json, read_engine, table
from alertd.errors import DeliveryError, StorageError, UsageError

if TYPE_CHECKING:
    from alertd.delivery import ChannelHealth
    from alertd.domain import Calendar
    from alertd.environ import Basics
    from alertd.settings import Settings
    from alertd.storage import Outcome

__all__ = ["check", "db_upgrade", "history", "plan", "send_test"]


def check(args: argparse.Namespace, settings: Settings | Basics) -> int:
    from alertd.calendar import load_calendar
    from alertd.environ import calendar_environ

    path = args.path or settings.calendar
    calendar, warnings = load_calendar(path, environ=calendar_environ(), settings=settings)
    for issue in warnings:
        print(issue, file=sys.stderr)
    for problem in _setup_problems(calendar, settings):
        print(f"{path}: warning: {problem}", file=sys.stderr)
    events = len(calendar.events) + len(calendar.series)
    recurring = f" ({len(calendar.series)} recurring)" if calendar.series else ""
    n = len(calendar.sources)
    feeds = f", {n} feed{'s' if n != 1 else ''} (not fetched by check)" if n else ""
    print(f"{path}: OK — {events} events{recurring}, {len(calendar.channels)} channels{feeds}")
    return 0


def _with_database(calendar: Calendar, url: str) -> Calendar:
    """The calendar with the database's own events (added through the API or ``alertd events``), as the daemon
    plans it. Read-only: a missing SQLite file is not created, the calendar alone is planned and a note says so."""
    # A plain SQLite URL is read without SQLAlchemy: with no database file, plan stays as light as check.
    plain = url.startswith("sqlite:///") and "?" not in url and url != "sqlite:///:memory:"
    if plain:
        path: Path | None = Path(url.removeprefix("sqlite:///"))
    else:
        from alertd.storage import sqlite_path

        path = sqlite_path(url)
    if path is not None and not path.is_file():
        print(
            f"alertd: note: no database at {path}: planning from the calendar alone "
            "(events added through the API or 'alertd events' are in the database; give it with --db)",
            file=sys.stderr,
        )
        return calendar
    from sqlalchemy.exc import DBAPIError

    from alertd.storage import create_engine, describe_db_error, planned_calendar, schema_is_current

    engine = create_engine(url, read_only=True)
    try:
        if not schema_is_current(engine):
            print(
                f"alertd: note: the database {engine.url.render_as_string(hide_password=True)} is not at this "
                "version's schema (run 'alertd db upgrade'): planning from the calendar alone",
                file=sys.stderr,
            )
            return calendar
        return planned_calendar(engine, calendar)
    except DBAPIError as exc:
        raise StorageError(describe_db_error(url, exc)) from None
    finally:
        engine.dispose()


def _setup_problems(calendar: Calendar, settings: Settings | Basics) -> list[str]:
    """Channels that validate but cannot send with this process's settings (an email channel without SMTP), and
    settings whose quotes became part of the value (Docker's env files keep them; the value itself is secret)."""
    from alertd.channels import channel_type
    from alertd.environ import Basics

    found = [
        f"{name} is quoted: the quotes are part of its value (Docker's --env-file keeps them); remove them"
        for name, value in sorted(os.environ.items())
        if name.startswith("ALERTD_") and len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'"
    ]
    for cid, spec in calendar.channels.items():
        kind = channel_type(spec.type)
        if kind is None or kind.setup_problem is None:
            continue
        if isinstance(settings, Basics):
            # Only a channel that needs process settings (email: SMTP) pays for reading all of them.
            from alertd.settings import load_settings

            settings = load_settings()
        problem = kind.setup_problem(spec, settings)
        if problem:
            found.append(f"channels.{cid}: this {spec.type} channel cannot send yet: {problem}")
    return found


def plan(args: argparse.Namespace, settings: Settings | Basics) -> int:
    from alertd.calendar import load_calendar
    from alertd.clock import SystemClock
    from alertd.environ import calendar_environ
    from alertd.planning import preview, with_occurrences

    # Sends nothing, so it needs none of the channels' secrets.
    calendar, warnings = load_calendar(
        args.calendar or settings.calendar, environ=calendar_environ(), settings=settings, secrets=False
    )
    for issue in warnings:
        print(issue, file=sys.stderr)
    now = args.now or SystemClock().now()
    start = max(args.start or now, now)
    until = args.until or start + timedelta(days=30)
    if until < start:
        raise UsageError("--until is before the start of the window")
    # The occurrences of recurring events whose notifications fall in the window, as the daemon will plan them.
    calendar = with_occurrences(calendar, start=start, end=until, by_due=True)
    calendar = _with_database(calendar, args.db or settings.database_url)
    items = preview(calendar, start=start, end=until)
    if args.format == "json":
        print_json([i.as_json() for i in items])
        return 0
    rows = [
        [
            i.planned.due_at.strftime("%Y-%m-%d %H:%MZ"),
            i.local_due_at.strftime("%a %d %b %H:%M %Z"),
            i.planned.kind,
            i.planned.channel,
            i.planned.event_id or "-",
            i.planned.offset or "-",
            i.message.title,
        ]
        for i in items
    ]
    table(["DUE (UTC)", "LOCAL", "KIND", "CHANNEL", "EVENT", "OFFSET", "MESSAGE"], rows)
    print(f"\n{len(items)} notifications from {start:%Y-%m-%d %H:%M}Z to {until:%Y-%m-%d %H:%M}Z")
    return 0


def _health_json(failing: dict[str, ChannelHealth], held: dict[str, int]) -> list[dict[str, Any]]:
    return [
        {
            "channel": h.channel,
            "since": h.since.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "reason": h.reason,
            "held": held.get(h.channel, 0),
        }
        for h in sorted(failing.values(), key=lambda h: h.channel)
    ]


def _print_health(failing: dict[str, ChannelHealth], held: dict[str, int]) -> None:
    """The channel health section: failing channels first, so nobody reads a history of held rows puzzled."""
    if not failing:
        print("all channels healthy")
        return
    print("FAILING CHANNELS (notifications held; 'alertd send-test CHANNEL' clears once it succeeds)")
    table(
        ["CHANNEL", "FAILING SINCE (UTC)", "HELD", "REASON"],
        [[h["channel"], h["since"], str(h["held"]), h["reason"]] for h in _health_json(failing, held)],
    )


# Every state a notification row can be in, for ``--state``.
STATES = ("pending", "sending", "retrying", "sent", "dead", "cancelled", "missed")
_NO_EVENT_TITLES = {"countdown": "(countdown digest)", "test": "(test message)", "admin": "(admin notice)"}


def _stamp(value: Any) -> str | None:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value else None


def history(args: argparse.Namespace, settings: Settings) -> int:
    import sqlalchemy as sa
    from sqlalchemy.exc import DBAPIError

    from alertd.clock import SystemClock
    from alertd.delivery import failing_channels, waiting
    from alertd.storage import ATTEMPT, EVENT, NOTIFICATION, describe_db_error

    if args.state and args.state not in STATES:
        raise UsageError(f"unknown state {args.state!r} for --state: use one of {', '.join(STATES)}")
    url = args.db or settings.database_url
    engine = read_engine(url)
    if engine is None:
        raise UsageError(
            f"no database at {url}: nothing has been planned or sent there yet; start 'alertd run', or give the "
            "daemon's database with --db or ALERTD_DATABASE_URL"
        )
    only_channels = getattr(args, "channels", False)
    n, a, e = NOTIFICATION.c, ATTEMPT.c, EVENT.c
    tries = sa.select(sa.func.count()).where(a.notification_id == n.id).scalar_subquery()
    title = sa.select(e.title).where(e.id == n.event_id).scalar_subquery()
    query = sa.select(
        n.id,
        n.kind,
        n.event_id,
        n.channel,
        n.due_at,
        n.state,
        n.attempts,
        n.sent_at,
        n.late,
        n.last_error,
        n.held_until,
        tries,
        title.label("title"),
    )
    # Pending rows are the plan, not history, except held ones (a hold is something alertd did to them) and those
    # of the one event asked about, whose plan is what the reader wants to see.
    shown = sa.or_(n.state != "pending", n.held_until.is_not(None))
    if args.state:
        query = query.where(n.state == args.state)
    elif not args.event:
        query = query.where(shown)
    if args.event:
        # A recurring event's id stands for all its occurrences (month-end → month-end@20260327, …).
        every = n.event_id.startswith(args.event + "@", autoescape=True)
        query = query.where(sa.or_(n.event_id == args.event, every))
    if args.since:
        query = query.where(n.due_at >= args.since)
    try:
        with engine.connect() as conn:
            failing = failing_channels(conn)
            held = waiting(conn, list(failing), now=SystemClock().now())
            newest = query.order_by(n.due_at.desc(), n.id.desc()).limit(args.limit)
            rows = [] if only_channels else conn.execute(newest).all()
    except DBAPIError as exc:
        raise StorageError(describe_db_error(str(engine.url), exc)) from None
    finally:
        engine.dispose()
    if only_channels:
        if args.format == "json":
            print_json(_health_json(failing, held))
        else:
            _print_health(failing, held)
        return 0
    if args.format == "json":
        print_json(
            [
                {
                    "id": r.id,
                    "kind": r.kind,
                    "event_id": r.event_id,
                    "title": r.title,
                    "channel": r.channel,
                    "due_at": _stamp(r.due_at),
                    "state": r.state,
                    "attempts": r.attempts,
                    "sent_at": _stamp(r.sent_at),
                    "late": r.late,
                    "last_error": r.last_error,
                    "partial": r.state == "sent" and r.last_error is not None,
                    "held_until": _stamp(r.held_until),
                }
                for r in rows
            ]
        )
        return 0
    lines = [
        [
            r.due_at.strftime("%Y-%m-%d %H:%MZ"),
            r.sent_at.strftime("%Y-%m-%d %H:%M:%SZ") if r.sent_at else "-",
            _state_label(
                r.state, late=r.late, held=r.held_until is not None, partial=r.state == "sent" and bool(r.last_error)
            ),
            str(r.attempts),
            r.channel,
            _title(r.title, r.kind, r.event_id),
            r.id,
            (r.last_error or "")[:100],
        ]
        for r in rows
    ]
    if failing:
        _print_health(failing, held)
        print()
    table(["DUE (UTC)", "SENT (UTC)", "STATE", "TRIES", "CHANNEL", "TITLE", "ID", "LAST ERROR"], lines)
    return 0


def _title(title: str | None, kind: str, event_id: str | None) -> str:
    text = title or _NO_EVENT_TITLES.get(kind) or event_id or "-"
    return text if len(text) <= 40 else text[:39] + "…"


def _state_label(state: str, *, late: bool, held: bool, partial: bool = False) -> str:
    # partial: sent, but refused for some recipients (the LAST ERROR column says who and why).
    marks = [m for m, on in (("partial", partial), ("late", late), ("held", held)) if on]
    return state + (f" ({', '.join(marks)})" if marks else "")


def send_test(args: argparse.Namespace, settings: Settings) -> int:
    import asyncio

    from alertd.calendar import load_calendar, suggest
    from alertd.channels import ChannelContext, PartialAnswer, make_client
    from alertd.clock import SystemClock
    from alertd.daemon import build_channels
    from alertd.environ import calendar_environ
    from alertd.messages import render
    from alertd.storage import Outcome

    calendar, _ = load_calendar(args.calendar or settings.calendar, environ=calendar_environ(), settings=settings)
    spec = calendar.channels.get(args.channel)
    if spec is None:
        # A near miss is usually a typo: name the closest id, or list them all when nothing is close.
        hint = suggest(args.channel, calendar.channels) or "(it declares no channels)"
        raise UsageError(f"no channel {args.channel!r} in the calendar {hint}")
    now = SystemClock().now()
    message = render(id=f"test:{spec.id}:{now:%Y%m%dT%H%M%S%fZ}", kind="test", channel=spec, due_at=now, now=now)

    async def send() -> str:
        async with make_client(settings.http_timeout, allow_private=settings.allow_private_targets) as http:
            channels, _ = build_channels({spec.id: spec}, ChannelContext(http=http, out=sys.stdout, settings=settings))
            return await channels[spec.id].send(message)

    try:
        answer = asyncio.run(send())
    except DeliveryError as exc:
        failed = Outcome(id=message.id, state="dead", at=now, detail=str(exc))
        _remember(args.db or settings.database_url, spec.id, now, failed)
        kind = "permanent" if exc.permanent else "temporary"
        raise UsageError(f"send-test {spec.id}: failed ({kind}): {exc}") from None
    refused = f"refused: {answer.refused}" if isinstance(answer, PartialAnswer) else None
    sent = Outcome(id=message.id, state="sent", at=now, detail=answer, note=refused)
    cleared = _remember(args.db or settings.database_url, spec.id, now, sent, admin=calendar.admin)
    print(f"send-test {spec.id}: delivered — {answer}")
    if cleared is not None:
        mark, released = cleared
        print(
            f"send-test {spec.id}: channel was failing since {mark.since:%Y-%m-%d %H:%M}Z ({mark.reason}); "
            f"cleared, {released} held notification{'s' if released != 1 else ''} due now"
        )
    return 0


def _remember(
    url: str, channel: str, now: Any, outcome: Outcome, *, admin: str | None = None
) -> tuple[ChannelHealth, int] | None:
    """Keep the test in history; a successful test also clears the channel's failing mark (returned with the
    number of held notifications it released). A test that cannot be recorded still counts as sent."""
    from sqlalchemy.exc import DBAPIError

    from alertd.delivery import record_test

    cleared: tuple[ChannelHealth, int] | None = None
    try:
        engine = migrated_engine(url)
        with engine.begin() as conn:
            cleared = record_test(conn, outcome, channel, now=now, worker="cli", admin=admin)
        engine.dispose()
    except (StorageError, DBAPIError) as exc:
        print(f"alertd: warning: test not recorded in history: {exc}", file=sys.stderr)
    return cleared


def db_upgrade(args: argparse.Namespace, settings: Settings) -> int:
    url = args.db or settings.database_url
    engine = migrated_engine(url)
    engine.dispose()
    print(f"database {engine.url.render_as_string(hide_password=True)}: schema is up to date")
    return 0

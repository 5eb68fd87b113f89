"""``alertd`` command line: exit 0 on success, 1 on a user error (one line, no traceback), 2 on usage errors."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from alertd import __version__
from alertd.cli.args import count, instant, positive
from alertd.cli.signals import EarlySignals, reader_gone
from alertd.clock import Clock, ReplayClock, SystemClock
from alertd.errors import AlertdError, CalendarError
from alertd.logs import say

if TYPE_CHECKING:
    # Imported when used: pydantic takes a large part of a second, and ``alertd run`` takes its signals first.
    import tempfile

    from alertd.environ import Basics
    from alertd.settings import Settings

# Commands that only read the calendar: they take the few settings they need from alertd.environ, as building the
# full Settings costs more than the rest of such a command.
_CALENDAR_ONLY = ("check", "plan")

__all__ = ["main"]


class _Version(argparse.Action):
    """``--version``: alertd's version and the zone database the settings choose (ALERTD_TZDATA)."""

    def __call__(self, parser: argparse.ArgumentParser, *args: Any, **kwargs: Any) -> None:
        from alertd.settings import load_settings
        from alertd.timeexpr import tzdata

        try:
            load_settings()  # puts the chosen database in use
            zones = str(tzdata())
        except AlertdError as exc:
            zones = f"time zones unknown: {exc}"
        print(f"alertd {__version__}; {zones}")
        parser.exit()


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="alertd", description="Deadline and event alerting daemon.")
    p.add_argument("--version", action=_Version, nargs=0, help="show the version and the time-zone database, and exit")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def cmd(name: str, help: str) -> argparse.ArgumentParser:
        return sub.add_parser(name, help=help, description=help)

    run = cmd("run", "run the daemon")
    run.add_argument("--calendar", type=Path, help="calendar file (default: ALERTD_CALENDAR or config/calendar.yaml)")
    run.add_argument("--db", help="database URL (default: ALERTD_DATABASE_URL or sqlite:///alertd.db)")
    run.add_argument("--replay-from", type=instant, metavar="ISO", help="run on a virtual clock starting at ISO")
    run.add_argument("--speed", type=positive, default=1.0, help="virtual seconds per real second (with --replay-from)")

    check = cmd("check", "validate a calendar file")
    check.add_argument("path", nargs="?", type=Path)

    plan = cmd("plan", "list the notifications the daemon would send (calendar and database events), without sending")
    plan.add_argument("--calendar", type=Path)
    plan.add_argument(
        "--db", help="database to read events from (default: ALERTD_DATABASE_URL or sqlite:///alertd.db); never created"
    )
    plan.add_argument("--now", type=instant, metavar="ISO", help="pretend it is this instant (default: now)")
    plan.add_argument("--from", dest="start", type=instant, metavar="ISO", help="window start (default: --now)")
    plan.add_argument("--until", type=instant, metavar="ISO", help="window end (default: 30 days after the start)")
    plan.add_argument("--format", choices=("table", "json"), default="table")

    hist = cmd("history", "show what was sent, retried, failed, missed or cancelled, newest first")
    hist.add_argument("--db")
    hist.add_argument(
        "--event", help="only this event id (its pending notifications too); a recurring event's: all its occurrences"
    )
    hist.add_argument("--state", help="only this state: pending, sending, retrying, sent, dead, cancelled or missed")
    hist.add_argument("--since", type=instant, metavar="ISO", help="only notifications due at or after ISO")
    hist.add_argument("--limit", type=count, default=200, help="at most this many, newest first (default 200)")
    hist.add_argument("--format", choices=("table", "json"), default="table")
    hist.add_argument(
        "--channels", action="store_true", help="only channel health: which channels are failing, since when, why"
    )

    test = cmd("send-test", "send a test notification to one channel now and show the service's answer")
    test.add_argument("channel")
    test.add_argument("--calendar", type=Path)
    test.add_argument("--db")

    db = cmd("db", "database maintenance")
    db_sub = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    up = db_sub.add_parser("upgrade", help="create or upgrade the schema to the newest version")
    up.add_argument("--db")

    from alertd.cli import acks as commands_acks
    from alertd.cli import events as commands_events

    commands_events.add_parsers(sub)
    commands_acks.add_parsers(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    try:
        try:
            code = _main(argv)
        finally:
            # Flushed here (also after --help or --version), so that a reader gone before the last lines is noticed
            # while it can still be handled, not by Python's own flush at exit.
            sys.stdout.flush()
    except BrokenPipeError:
        return reader_gone()
    return code


def _main(argv: Sequence[str] | None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    for arg in argv:
        if not _is_text(arg):
            # Bytes that are not UTF-8 reach Python as lone surrogates, which no database or message can hold.
            shown = arg.encode("utf-8", "backslashreplace").decode()
            say(f"argument {shown!r} is not valid UTF-8 text", level=logging.ERROR)
            return 1
    args = _parser().parse_args(argv)
    early = EarlySignals()
    if args.command == "run":
        early.install()
    try:
        return _dispatch(args, early)
    except CalendarError as exc:
        _json_errors(args, early)
        for issue in exc.issues:
            say(str(issue), level=logging.ERROR if issue.severity == "error" else logging.WARNING, prefix="")
        errors = sum(1 for i in exc.issues if i.severity == "error")
        say(f"the calendar has {errors} error{'s' if errors != 1 else ''}; nothing was changed", level=logging.ERROR)
        return 1
    except AlertdError as exc:
        _json_errors(args, early)
        say(str(exc), level=logging.ERROR)
        return 1
    except KeyboardInterrupt:
        return 130


def _is_text(arg: str) -> bool:
    try:
        arg.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _json_errors(args: argparse.Namespace, early: EarlySignals) -> None:
    """A daemon that fails before its logging is set up (bad settings) still writes its error as JSON if asked."""
    if args.command != "run" or logging.getLogger().handlers:
        return
    from alertd.logs import setup_logging

    if os.environ.get("ALERTD_LOG_FORMAT", "").strip().lower() == "json":
        early.json = True
        setup_logging(SystemClock(), fmt="json")


def _dispatch(args: argparse.Namespace, early: EarlySignals) -> int:
    if args.command == "run":
        from alertd.settings import load_settings

        return _run(args, load_settings(), early)
    # Each command imports what it needs when it runs: the parser above and this table cost next to nothing.
    from alertd.cli import acks as commands_acks
    from alertd.cli import commands
    from alertd.cli import events as commands_events

    settings = _settings(args.command)

    handlers: dict[str, Any] = {
        "check": commands.check,
        "plan": commands.plan,
        "history": commands.history,
        "send-test": commands.send_test,
        "db": commands.db_upgrade,
        "events": commands_events.events,
        "export-ics": commands_events.export_ics,
        "ack": commands_acks.ack,
        "unack": commands_acks.unack,
    }
    result: int = handlers[args.command](args, settings)
    return result


def _settings(command: str) -> Settings | Basics:
    if command in _CALENDAR_ONLY:
        from alertd.environ import basics

        light = basics()
        if light is not None:
            return light
    from alertd.settings import load_settings

    return load_settings()


def _run(args: argparse.Namespace, settings: Settings, early: EarlySignals) -> int:
    from alertd.logs import log_uncaught, setup_logging

    # Set up now for what the imports below may log (a library's warning), and again once the clock is made.
    setup_logging(SystemClock(), fmt=settings.log_format, level=settings.log_level)
    log_uncaught()
    early.json = settings.log_format == "json"
    if _stopped_early(early):
        return 0
    # Seconds of imports; before the clock is made, so that a replay does not start with its first minutes gone.
    import asyncio

    from alertd.daemon import Daemon, preload

    clock: Clock = SystemClock()
    db_url = args.db or settings.database_url
    calendar_path = args.calendar or settings.calendar
    scratch: tempfile.TemporaryDirectory[str] | None = None
    if args.replay_from is not None:
        import tempfile

        # Start-up imports lazily; the virtual clock starts only once that is done.
        preload(calendar_path)
        clock = ReplayClock(args.replay_from, args.speed)
        if args.db is None:
            # A rehearsal must not mark real notifications as sent: unless asked, it gets a throw-away database.
            scratch = tempfile.TemporaryDirectory(prefix="alertd-replay-")
            db_url = f"sqlite:///{scratch.name}/replay.db"
        print(
            f"alertd {clock.label}: REPLAY on a virtual clock from {args.replay_from:%Y-%m-%d %H:%M}Z at "
            f"{args.speed:g}× real time; database {'(temporary)' if scratch else db_url}",
            flush=True,
        )
        setup_logging(clock, fmt=settings.log_format, level=settings.log_level)
    daemon = Daemon(settings, clock=clock, calendar_path=calendar_path, db_url=db_url, out=sys.stdout)
    try:
        asyncio.run(_serve(daemon, early))
    finally:
        # The event loop put the default actions back when it closed: a late signal must not kill the clean-up.
        early.install()
        if scratch is not None:
            scratch.cleanup()
    return 0


def _stopped_early(early: EarlySignals) -> bool:
    if early.stop:
        say("stopping before the start; nothing was sent")
    return early.stop


async def _serve(daemon: Any, early: EarlySignals) -> None:
    import asyncio

    if _stopped_early(early):
        return
    # Until the daemon has started, the early handlers keep the signals: the loop cannot run its own handlers
    # while the start-up works without awaiting (opening storage, syncing the calendar).
    try:
        await daemon.start()
    except BaseException:
        await daemon.shutdown()
        raise
    loop = asyncio.get_running_loop()
    signals = {"count": 0}

    def stop() -> None:
        signals["count"] += 1
        if signals["count"] > 1:
            # Second signal: leave now; rows in flight are resent (same id) on the next start.
            say("second signal, exiting immediately", level=logging.WARNING)
            os._exit(130)
        daemon.request_stop()
        say("stopping (signal again to exit immediately)")

    def reload() -> None:
        daemon.request_reload()
        say("reloading the calendar (SIGHUP)")

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop)
    loop.add_signal_handler(signal.SIGHUP, reload)
    if early.stop:
        stop()
    elif early.reload:
        reload()
    await daemon.run()


if __name__ == "__main__":
    sys.exit(main())

"""``alertd`` command line: exit 0 on success, 1 on a user error (one line, no traceback), 2 on usage errors."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from alertd import __version__
from alertd.cli.args import count, instant, positive
from alertd.clock import Clock, ReplayClock, SystemClock
from alertd.errors import AlertdError, CalendarError
from alertd.settings import Settings, load_settings

__all__ = ["main"]


class _Version(argparse.Action):
    """``--version``: alertd's version and the zone database the settings choose (ALERTD_TZDATA)."""

    def __call__(self, parser: argparse.ArgumentParser, *args: Any, **kwargs: Any) -> None:
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

    plan = cmd("plan", "list the notifications a calendar would send, without sending")
    plan.add_argument("--calendar", type=Path)
    plan.add_argument("--now", type=instant, metavar="ISO", help="pretend it is this instant (default: now)")
    plan.add_argument("--from", dest="start", type=instant, metavar="ISO", help="window start (default: --now)")
    plan.add_argument("--until", type=instant, metavar="ISO", help="window end (default: 30 days after the start)")
    plan.add_argument("--format", choices=("table", "json"), default="table")

    hist = cmd("history", "show what was sent, retried, failed, missed or cancelled")
    hist.add_argument("--db")
    hist.add_argument("--event", help="only this event id")
    hist.add_argument("--state", help="only this state (pending, retrying, sent, dead, missed, cancelled, …)")
    hist.add_argument("--limit", type=count, default=200)
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

    from alertd.cli import events as commands_events

    commands_events.add_parsers(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    for arg in argv:
        if not _is_text(arg):
            # Bytes that are not UTF-8 reach Python as lone surrogates, which no database or message can hold.
            shown = arg.encode("utf-8", "backslashreplace").decode()
            print(f"alertd: argument {shown!r} is not valid UTF-8 text", file=sys.stderr)
            return 1
    args = _parser().parse_args(argv)
    try:
        return _dispatch(args)
    except CalendarError as exc:
        for issue in exc.issues:
            print(issue, file=sys.stderr)
        errors = sum(1 for i in exc.issues if i.severity == "error")
        print(
            f"alertd: the calendar has {errors} error{'s' if errors != 1 else ''}; nothing was changed",
            file=sys.stderr,
        )
        return 1
    except AlertdError as exc:
        print(f"alertd: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def _is_text(arg: str) -> bool:
    try:
        arg.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _dispatch(args: argparse.Namespace) -> int:
    from alertd.cli import commands
    from alertd.cli import events as commands_events

    settings = load_settings()
    handlers: dict[str, Any] = {
        "check": commands.check,
        "plan": commands.plan,
        "history": commands.history,
        "send-test": commands.send_test,
        "db": commands.db_upgrade,
        "events": commands_events.events,
        "export-ics": commands_events.export_ics,
    }
    if args.command == "run":
        return _run(args, settings)
    result: int = handlers[args.command](args, settings)
    return result


def _run(args: argparse.Namespace, settings: Settings) -> int:
    from alertd.daemon import Daemon
    from alertd.logs import setup_logging

    clock: Clock = SystemClock()
    db_url = args.db or settings.database_url
    scratch: tempfile.TemporaryDirectory[str] | None = None
    if args.replay_from is not None:
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
    daemon = Daemon(
        settings, clock=clock, calendar_path=args.calendar or settings.calendar, db_url=db_url, out=sys.stdout
    )
    try:
        asyncio.run(_serve(daemon))
    finally:
        if scratch is not None:
            scratch.cleanup()
    return 0


async def _serve(daemon: Any) -> None:
    loop = asyncio.get_running_loop()
    signals = {"count": 0}

    def stop() -> None:
        signals["count"] += 1
        if signals["count"] > 1:
            # Second signal: leave now; rows in flight are resent (same id) on the next start.
            print("alertd: second signal, exiting immediately", file=sys.stderr, flush=True)
            import os

            os._exit(130)
        print("alertd: stopping (signal again to exit immediately)", file=sys.stderr, flush=True)
        daemon.request_stop()

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop)
    loop.add_signal_handler(signal.SIGHUP, daemon.request_reload)
    try:
        await daemon.start()
    except BaseException:
        await daemon.shutdown()
        raise
    await daemon.run()


if __name__ == "__main__":
    sys.exit(main())

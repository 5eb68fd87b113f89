"""Logging: readable text by default, JSON lines with ``ALERTD_LOG_FORMAT=json``; stamped with alertd's clock.

The handler sits on the root logger, so every library's records (uvicorn's, APScheduler's, ``warnings``) come
out in the same format: with JSON, every line on stderr is one object a log collector can parse.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import sys
import threading
from types import TracebackType
from typing import TextIO

from alertd.clock import Clock

__all__ = ["ACK_PATH", "FEED_PATH", "RedactFeedTokens", "log_uncaught", "say", "setup_logging"]

# The secret calendar feed's path: its token is a credential and must never reach a log line.
FEED_PATH = re.compile(r"/calendar/[^/?#\s\"]+\.ics")
_FEED_REDACTED = "/calendar/<feed-token>.ics"
# A signed acknowledgement link works once, but until then it is a credential too.
ACK_PATH = re.compile(r"/ack/[^/?#\s\"]+")
_ACK_REDACTED = "/ack/<link-token>"


class RedactFeedTokens(logging.Filter):
    """Replaces the token in every feed path of a record's message (uvicorn's access lines, alertd's own)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = ACK_PATH.sub(_ACK_REDACTED, FEED_PATH.sub(_FEED_REDACTED, message))
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


# Libraries log at this level or above only: httpx, for one, logs every request's URL at INFO, and a webhook's URL
# is a credential.
_LIBRARY_LEVEL = logging.WARNING


class _ClockStamp(logging.Filter):
    """Stamps records with the daemon's clock, so replayed runs log virtual time and say so."""

    def __init__(self, clock: Clock) -> None:
        super().__init__()
        self.clock = clock

    def filter(self, record: logging.LogRecord) -> bool:
        record.at = self.clock.now().strftime("%Y-%m-%dT%H:%M:%SZ")
        record.clock = self.clock.label
        return True


class _Text(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        clock = getattr(record, "clock", "")
        label = f" {clock}" if clock else ""
        # Continuation lines are indented, so text from outside (an event title, a service's answer) can never
        # pass for a log line of its own.
        message = record.getMessage().replace("\r", "").replace("\n", "\n    ")
        text = f"{getattr(record, 'at', '')}{label} {record.levelname:<7} {message}"
        if record.exc_info:
            text += "\n" + self.formatException(record.exc_info)
        return text


class _Json(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data = {
            "time": getattr(record, "at", None),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if getattr(record, "clock", ""):
            data["clock"] = getattr(record, "clock", "")
        if record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        return json.dumps(data, ensure_ascii=False)


def setup_logging(clock: Clock, *, fmt: str = "text", level: str = "INFO", stream: TextIO | None = None) -> None:
    """Send every log record to ``stream`` (stderr by default) in the chosen format: alertd's at ``level``,
    other libraries' from warnings up, Python's ``warnings`` included."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.addFilter(RedactFeedTokens())
    handler.addFilter(_ClockStamp(clock))
    handler.setFormatter(_Json() if fmt == "json" else _Text())
    root = logging.getLogger()
    # Replaced, not added to: a handler a library installed would print each line a second time in its format.
    root.handlers[:] = [handler]
    ours = logging.getLogger("alertd")
    ours.handlers.clear()
    ours.setLevel(level.upper())
    root.setLevel(max(_LIBRARY_LEVEL, ours.level))
    ours.propagate = True
    # uvicorn installs its own handlers (and stops propagation) when a server starts with its default log config:
    # its lines go through ours instead. Its access lines (ALERTD_HTTP_ACCESS_LOG, off by default) are INFO: kept,
    # feed tokens redacted.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        library = logging.getLogger(name)
        library.handlers.clear()
        library.propagate = True
    logging.getLogger("uvicorn.access").setLevel(logging.INFO)
    # APScheduler logs every job run at INFO; only its problems matter here.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    logging.captureWarnings(True)


def log_uncaught() -> None:
    """Report exceptions nobody caught (main thread or another) as one log record, not a bare traceback."""
    log = logging.getLogger("alertd")

    def main_thread(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        if issubclass(kind, KeyboardInterrupt):
            sys.__excepthook__(kind, exc, tb)
            return
        log.critical("alertd crashed: %s", exc, exc_info=(kind, exc, tb))

    def other_thread(args: threading.ExceptHookArgs) -> None:
        if args.exc_value is None:
            return
        name = args.thread.name if args.thread is not None else "?"
        log.error(
            "thread %s crashed: %s", name, args.exc_value, exc_info=(args.exc_type, args.exc_value, args.exc_traceback)
        )

    sys.excepthook = main_thread
    threading.excepthook = other_thread


def say(message: str, *, level: int = logging.INFO, prefix: str = "alertd: ") -> None:
    """A line of the command itself (``alertd: stopping``): plain on stderr, or a log record when the logs are
    JSON lines, so that every line there stays one object."""
    if any(isinstance(h.formatter, _Json) for h in logging.getLogger().handlers):
        cli = logging.getLogger("alertd.cli")
        # Handled whatever the log level, as the plain line would be printed.
        cli.handle(cli.makeRecord(cli.name, level, "(alertd)", 0, "%s", (message,), None))
    else:
        # Nobody may read stderr any more (a closed pipe): the line is lost, what it announces must still happen.
        with contextlib.suppress(OSError):
            print(f"{prefix}{message}", file=sys.stderr, flush=True)

"""Logging: readable text by default, JSON lines with ``ALERTD_LOG_FORMAT=json``; stamped with alertd's clock."""

from __future__ import annotations

import json
import logging
import re
import sys
from typing import TextIO

from alertd.clock import Clock

__all__ = ["FEED_PATH", "RedactFeedTokens", "setup_logging"]

# The secret calendar feed's path: its token is a credential and must never reach a log line.
FEED_PATH = re.compile(r"/calendar/[^/?#\s\"]+\.ics")
_FEED_REDACTED = "/calendar/<feed-token>.ics"


class RedactFeedTokens(logging.Filter):
    """Replaces the token in every feed path of a record's message (uvicorn's access lines, alertd's own)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = FEED_PATH.sub(_FEED_REDACTED, message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


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
    """Send alertd's logs to ``stream`` (stderr by default) in the chosen format."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.addFilter(RedactFeedTokens())
    handler.addFilter(_ClockStamp(clock))
    handler.setFormatter(_Json() if fmt == "json" else _Text())
    root = logging.getLogger("alertd")
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    root.propagate = False
    # uvicorn's access lines (ALERTD_HTTP_ACCESS_LOG) go through the same handler, feed tokens redacted.
    access = logging.getLogger("uvicorn.access")
    access.handlers[:] = [handler]
    access.setLevel(level.upper())
    access.propagate = False
    # APScheduler logs every job run at INFO; only its problems matter here.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)

"""Argument types shared by the command modules: instants and positive numbers, each failing in one line."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime

from alertd.clock import utc

__all__ = ["count", "instant", "positive"]

# Instants the CLI takes stay this far from datetime's limits, so that windows, reminders and catch-up around
# them (days to a year) never overflow: "plan --now 9999-12-31T23:59:59Z" is refused here, not by a traceback.
_EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
_LATEST = datetime(3000, 1, 1, tzinfo=UTC)
_MAX_COUNT = 1_000_000
# Speeds beyond this make virtual time outrun what timers can hold.
_MAX_SPEED = 1e6


def instant(text: str) -> datetime:
    """ISO 8601 date or date-time between 1900 and 2999; without an offset it is UTC."""
    raw = text.strip()
    try:
        value = utc(datetime.fromisoformat(raw.replace("z", "Z")))
    except (ValueError, OverflowError):
        raise argparse.ArgumentTypeError(f"not an ISO 8601 instant: {text!r} (e.g. 2025-10-20T00:00Z)") from None
    if not _EARLIEST <= value < _LATEST:
        raise argparse.ArgumentTypeError(f"out of range: {text!r}; give an instant between 1900 and 2999")
    return value


def positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0
    if not 0 < value <= _MAX_SPEED:  # also refuses nan and inf
        raise argparse.ArgumentTypeError(f"must be a positive number up to {_MAX_SPEED:g}: {text!r}")
    return value


def count(text: str) -> int:
    """A whole number from 1 to a million (a row limit)."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= _MAX_COUNT:
        raise argparse.ArgumentTypeError(f"must be a whole number from 1 to {_MAX_COUNT}: {text!r}")
    return value

"""Argument types shared by the command modules: instants and positive numbers, each failing in one line."""

from __future__ import annotations

import argparse
from datetime import datetime

from alertd.clock import utc

__all__ = ["instant", "positive"]


def instant(text: str) -> datetime:
    """ISO 8601 date or date-time; without an offset it is UTC."""
    raw = text.strip()
    try:
        value = datetime.fromisoformat(raw.replace("z", "Z"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 instant: {text!r} (e.g. 2025-10-20T00:00Z)") from None
    return utc(value)


def positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive number: {text!r}")
    return value

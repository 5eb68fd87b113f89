"""The one-event calendar file the CLI tests run commands against."""

from __future__ import annotations

from pathlib import Path

__all__ = ["CALENDAR", "NOW", "calendar_options"]

CALENDAR = """\
version: 1
timezone: America/New_York
defaults: {reminders: [7d, 1d], notify: [desk]}
channels:
  desk: {type: console}
events:
  - id: truce-expiry
    title: US–China tariff truce expires
    at: 2025-11-10
"""
NOW = "2025-10-20T12:00Z"


def calendar_options(folder: Path, db: str = "alertd.db") -> list[str]:
    """Write the calendar into ``folder``; the ``--calendar`` and ``--db`` options naming it and a SQLite file there."""
    path = folder / "calendar.yaml"
    path.write_text(CALENDAR, encoding="utf-8")
    return ["--calendar", str(path), "--db", f"sqlite:///{folder / db}"]

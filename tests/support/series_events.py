"""Three series the iCalendar export tests share: an RRULE with EXDATE and overrides, a daily run across the March
DST change, and a yearly all-day series (the calendar's ``events:`` entries, as YAML)."""

from __future__ import annotations

__all__ = ["SERIES_EVENTS"]

SERIES_EVENTS = """\
  - id: month-end
    title: Month-end report
    at: 2026-01-30T17:00
    repeat: FREQ=MONTHLY;BYDAY=-1FR
    except: [2026-04-24]
    occurrences:
      2026-03-27: {at: 2026-03-30T10:00, title: Q1 close}
      2026-06-26: {status: cancelled}
  - id: backup
    title: Nightly backup check
    at: 2026-03-01T02:30
    repeat: FREQ=DAILY;UNTIL=20260315
  - id: filing
    title: Annual filing
    at: 2026-03-31
    repeat: FREQ=YEARLY;COUNT=3
"""

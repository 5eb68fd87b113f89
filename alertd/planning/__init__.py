"""Planning: which notifications a calendar wants and when, as pure functions of the calendar and ``now``.

Reminders, countdown digests and change notices with stable ids (``planner``), the fingerprint a sync compares
events by (``fingerprint``), what a window would send, rendered (``previews``), occurrences of recurring events in
a window (``recurrence``), and the calendar as iCalendar with one alarm per reminder (``ics``). No clock, no
database.

May import: alertd's shared modules, :mod:`alertd.messages`, :mod:`alertd.channels` and :mod:`alertd.calendar`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from alertd.planning.escalation import plan_escalations
    from alertd.planning.fingerprint import event_fingerprints
    from alertd.planning.ics import render_calendar
    from alertd.planning.planner import (
        countdown_listed,
        digest_events,
        event_fingerprint,
        plan_changes,
        plan_countdowns,
        plan_reminders,
        reminder_id,
        renames,
    )
    from alertd.planning.previews import PreviewItem, preview
    from alertd.planning.recurrence import (
        DEFAULT_HORIZON_DAYS,
        SERIES_MARK,
        expand,
        occurrence_id,
        series_id,
        series_lag,
        series_lead,
        with_occurrences,
    )
else:
    from alertd._exports import exports

    __getattr__ = exports(
        __name__,
        planner=(
            "countdown_listed",
            "digest_events",
            "event_fingerprint",
            "expand",
            "occurrence_id",
            "plan_changes",
            "plan_countdowns",
            "plan_reminders",
            "reminder_id",
            "renames",
        ),
        fingerprint=("event_fingerprints",),
        previews=("PreviewItem", "preview"),
        escalation=("plan_escalations",),
        ics=("render_calendar",),
        recurrence=(
            "DEFAULT_HORIZON_DAYS",
            "SERIES_MARK",
            "expand",
            "occurrence_id",
            "series_id",
            "series_lag",
            "series_lead",
            "with_occurrences",
        ),
    )

__all__ = [
    "DEFAULT_HORIZON_DAYS",
    "SERIES_MARK",
    "PreviewItem",
    "countdown_listed",
    "digest_events",
    "event_fingerprint",
    "event_fingerprints",
    "expand",
    "occurrence_id",
    "plan_changes",
    "plan_countdowns",
    "plan_escalations",
    "plan_reminders",
    "preview",
    "reminder_id",
    "renames",
    "render_calendar",
    "series_id",
    "series_lag",
    "series_lead",
    "with_occurrences",
]

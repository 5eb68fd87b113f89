"""The calendar file: YAML in, validated :class:`~alertd.domain.Calendar` out, every problem at ``file:line``.

Reads YAML with line numbers (``yamlsrc``), interpolates ``${VAR}`` and ``*_file`` secrets and checks every key
(``schema``), recurring events' ``repeat:`` rules and their exceptions (``repeat``, ``rrules``), the ``channels:``
section with each type's own options (``channels``, ``options``), tag ``routes``, and event drafts from the CLI and
API (``drafts``). Nothing here touches the database or the network.

May import: alertd's shared modules, :mod:`alertd.messages` (locales, template checks) and :mod:`alertd.channels`
(each channel type's option model).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from alertd.calendar.drafts import (
        DRAFT_FIELDS,
        MAX_LIST,
        MAX_STEPS,
        ChannelId,
        EscalationDraft,
        EventDraft,
        EventId,
        EventIssue,
        Notes,
        Offset,
        Short,
        Source,
        Tag,
        Title,
        draft_from_mapping,
        resolve_draft,
    )
    from alertd.calendar.ical import FeedRead, feed_events
    from alertd.calendar.load import load_calendar, parse_calendar
    from alertd.calendar.reuse import EventReuse
    from alertd.calendar.routes import matches, resolve_notify
    from alertd.calendar.rrules import RuleError, build_rule, rule_until
    from alertd.calendar.schema import suggest
    from alertd.calendar.sources import LOOKBACK, source_of
    from alertd.calendar.workdays import count_business_days, move_off_closed
    from alertd.calendar.yamlsrc import load_yaml
else:
    from alertd._exports import exports

    __getattr__ = exports(
        __name__,
        load=("load_calendar", "parse_calendar"),
        reuse=("EventReuse",),
        drafts=(
            "DRAFT_FIELDS",
            "MAX_LIST",
            "MAX_STEPS",
            "ChannelId",
            "EscalationDraft",
            "EventDraft",
            "EventId",
            "EventIssue",
            "Notes",
            "Offset",
            "Short",
            "Source",
            "Tag",
            "Title",
            "draft_from_mapping",
            "resolve_draft",
        ),
        schema=("suggest",),
        yamlsrc=("load_yaml",),
        ical=("FeedRead", "feed_events"),
        sources=("LOOKBACK", "source_of"),
        routes=("matches", "resolve_notify"),
        rrules=("RuleError", "build_rule", "rule_until"),
        workdays=("count_business_days", "move_off_closed"),
    )

__all__ = [
    "DRAFT_FIELDS",
    "LOOKBACK",
    "MAX_LIST",
    "MAX_STEPS",
    "ChannelId",
    "EscalationDraft",
    "EventDraft",
    "EventId",
    "EventIssue",
    "EventReuse",
    "FeedRead",
    "Notes",
    "Offset",
    "RuleError",
    "Short",
    "Source",
    "Tag",
    "Title",
    "build_rule",
    "count_business_days",
    "draft_from_mapping",
    "feed_events",
    "load_calendar",
    "load_yaml",
    "matches",
    "move_off_closed",
    "parse_calendar",
    "resolve_draft",
    "resolve_notify",
    "rule_until",
    "source_of",
    "suggest",
]

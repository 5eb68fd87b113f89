"""The phrases of every shipped locale, one small typed table per language.

Why Python tables rather than gettext catalogs: there are a few dozen phrases, so a typed dataclass per locale
is checked by mypy (a missing phrase is a type error, not a runtime fallback), needs no compile step at build or
install time, and ships as ordinary package modules. Babel supplies what tables should not: CLDR plural rules
(which plural form a number takes) and localized dates and times.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["Phrases", "Plural"]

# CLDR plural category ("zero", "one", "two", "few", "many", "other") → pattern with ``{n}``; "other" is required.
Plural = Mapping[str, str]


@dataclass(frozen=True, slots=True)
class Phrases:
    """Every phrase a message may need, in one language. Placeholders are named ``{…}`` fields."""

    # How far away an event is (countdown wording).
    today: str
    tomorrow: str
    yesterday: str
    now: str
    in_days: Plural
    days_ago: Plural
    in_hours: Plural
    in_minutes: Plural
    started_hours_ago: Plural
    started_minutes_ago: Plural
    # Durations of reminder offsets: "7 days", "1 day 12 hours".
    weeks: Plural
    days: Plural
    business_days: Plural
    hours: Plural
    minutes: Plural
    seconds: Plural
    unit_join: str
    before: str
    after: str
    at_start: str
    # Times and event details.
    all_day: str
    statuses: Mapping[str, str]
    status_line: str
    source_line: str
    # One pattern per message part, so word order is the translator's choice.
    reminder_title: str
    reminder_text: str
    countdown_title: str
    countdown_line: str
    # A reader's date with the event's own date where that differs: "{day}; {own} in {zone}".
    day_elsewhere: str
    change_title: str
    # A change notice's title by what happened (added, moved, confirmed, postponed, cancelled, removed), so a
    # subject line says it; change_title covers the rest (a new title, other details).
    change_titles: Mapping[str, str]
    change_text: str
    moved: str
    status_changed: str
    renamed: str
    # An event that only changed its id in the calendar file (same title and time).
    id_changed: str
    added: str
    removed: str
    details_changed: str
    clause_join: str
    test_title: str
    test_text: str
    # Labels and small phrases channels put around an event's fields (cards, embeds, HTML mail).
    # A label and its value on one line (the colon is typography: French spaces it, Chinese uses "：").
    field_line: str
    label_when: str
    label_your_time: str
    label_countdown: str
    label_status: str
    label_tags: str
    label_source: str
    open_source: str
    label_notes: str
    label_title: str
    label_id: str
    label_what_changed: str
    and_more: Plural
    nothing_coming_up: str
    sent_late: str
    removed_short: str
    # The context line under a Slack bot's countdown card; ``{when}`` is a date token Slack localizes itself.
    card_updated: str
    # Acknowledgements and escalation (alertd.messages.ack): {who} is a person's name, {via} the path it came by.
    ack_title: str
    ack_text: str
    unack_title: str
    unack_text: str
    ack_note: str
    ack_action: str
    escalation_title: str
    escalation_text: str
    # An explicit CLDR date pattern replaces the skeleton (English keeps the day-month-year house style).
    date_pattern: str | None = None
    date_skeleton: str = "yMMMEd"

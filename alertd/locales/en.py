"""English."""

from __future__ import annotations

from alertd.locales import Phrases

__all__ = ["PHRASES"]

PHRASES = Phrases(
    today="today",
    tomorrow="tomorrow",
    yesterday="yesterday",
    now="now",
    in_days={"one": "in {n} day", "other": "in {n} days"},
    days_ago={"one": "{n} day ago", "other": "{n} days ago"},
    in_hours={"one": "in {n} hour", "other": "in {n} hours"},
    in_minutes={"one": "in {n} minute", "other": "in {n} minutes"},
    started_hours_ago={"one": "started {n} hour ago", "other": "started {n} hours ago"},
    started_minutes_ago={"one": "started {n} minute ago", "other": "started {n} minutes ago"},
    weeks={"one": "{n} week", "other": "{n} weeks"},
    days={"one": "{n} day", "other": "{n} days"},
    hours={"one": "{n} hour", "other": "{n} hours"},
    minutes={"one": "{n} minute", "other": "{n} minutes"},
    seconds={"one": "{n} second", "other": "{n} seconds"},
    unit_join=" ",
    before="{duration} before",
    after="{duration} after",
    at_start="at the start",
    all_day="all day",
    statuses={"tentative": "tentative", "confirmed": "confirmed", "postponed": "postponed", "cancelled": "cancelled"},
    status_line="Status: {status}",
    source_line="Source: {source}",
    reminder_title="{title} — {distance}",
    reminder_text="{title} {distance}.",
    countdown_title="Countdown for {day}",
    countdown_line="• {title} — {distance} ({day})",
    change_title="Changed: {title}",
    change_text="{title}: {sentence}.",
    moved="moved from {before} to {after}",
    status_changed="status changed from {before} to {after}",
    renamed="renamed from “{before}”",
    added="added to the calendar for {when}",
    removed="removed from the calendar; its reminders are cancelled",
    details_changed="details changed",
    clause_join="; ",
    test_title="alertd test notification",
    test_text="This is a test from alertd to channel '{channel}'. If you can read it, delivery works.",
    date_pattern="EEE d MMM y",
)

"""Tag routes: an event notifies its own channels plus every route it matches; bad routes name file and line."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from alertd.calendar.drafts import EventDraft, resolve_draft
from alertd.calendar.load import parse_calendar
from alertd.calendar.routes import matches, resolve_notify
from alertd.domain import Calendar, Route
from alertd.errors import CalendarError
from alertd.storage.outbox import NOTIFICATION
from alertd.storage.sync import sync_calendar

NOW = datetime(2025, 10, 1, tzinfo=UTC)

CHANNELS = """
    version: 1
    timezone: UTC
    defaults: {notify: [desk], reminders: [1d]}
    channels:
      desk: {type: console}
      mail: {type: console}
      ops: {type: console}
"""


def calendar(routes: str, events: str = "") -> Calendar:
    text = textwrap.dedent(CHANNELS) + textwrap.dedent(routes) + textwrap.dedent(events or "events: []\n")
    cal, _ = parse_calendar(text, name="cal.yaml", environ={})
    return cal


def errors(routes: str) -> list[str]:
    with pytest.raises(CalendarError) as caught:
        calendar(routes)
    return [str(i) for i in caught.value.issues]


def test_route_matches_any_of_its_tags() -> None:
    route = Route(notify=("mail",), tags=("trade", "tariff"))
    assert matches(route, ("summit", "tariff"), "confirmed")
    assert not matches(route, ("summit",), "confirmed")


def test_route_with_tags_and_status_needs_both() -> None:
    route = Route(notify=("ops",), tags=("trade",), status=("tentative",))
    assert matches(route, ("trade",), "tentative")
    assert not matches(route, ("trade",), "confirmed")


def test_resolve_notify_keeps_own_channels_first_without_duplicates() -> None:
    routes = (Route(notify=("mail", "desk"), tags=("trade",)),)
    assert resolve_notify(("desk",), routes, ("trade",), "confirmed") == ("desk", "mail")


def test_event_without_notify_gets_defaults_and_matching_routes() -> None:
    cal = calendar(
        """
        routes:
          - match: {tags: [trade]}
            notify: [mail]
        """,
        """
        events:
          - {id: truce, title: Truce, at: 2025-11-10, tags: [trade]}
          - {id: other, title: Other, at: 2025-11-10, tags: [sport]}
        """,
    )
    assert {e.id: e.notify for e in cal.events} == {"truce": ("desk", "mail"), "other": ("desk",)}


def test_event_own_notify_is_extended_by_routes() -> None:
    cal = calendar(
        """
        routes:
          - match: {status: [tentative]}
            notify: [ops]
        """,
        """
        events:
          - {id: summit, title: Summit, at: 2025-10-30, status: tentative, notify: [mail]}
        """,
    )
    assert cal.events[0].notify == ("mail", "ops")


def test_unknown_channel_in_a_route_is_an_error_with_its_line() -> None:
    found = errors(
        """
        routes:
          - match: {tags: [trade]}
            notify: [mial]
        """
    )
    assert found == [
        "cal.yaml:12: routes[0].notify[0]: unknown channel 'mial' (did you mean 'mail'?); declare it under 'channels'"
    ]


def test_empty_match_is_an_error() -> None:
    found = errors(
        """
        routes:
          - match: {}
            notify: [mail]
        """
    )
    assert len(found) == 1
    assert found[0].startswith("cal.yaml:11: routes[0].match: empty match")


def test_unknown_keys_in_a_route_and_its_match_are_errors() -> None:
    found = errors(
        """
        routes:
          - match: {tag: [trade]}
            notify: [mail]
            when: always
        """
    )
    assert any("routes[0].match.tag: unknown key 'tag'" in f for f in found)
    assert any("routes[0].when: unknown key 'when'" in f for f in found)


def test_unknown_status_in_a_match_is_an_error() -> None:
    found = errors(
        """
        routes:
          - match: {status: [confirmd]}
            notify: [mail]
        """
    )
    assert any("unknown status 'confirmd' (did you mean 'confirmed'?)" in f for f in found)


def test_database_event_gets_routes_too() -> None:
    cal = calendar(
        """
        routes:
          - match: {tags: [trade]}
            notify: [mail]
        """
    )
    event, _ = resolve_draft(EventDraft(id="db-one", title="T", start="2025-11-10", tags=["trade"]), cal)
    assert event.notify == ("desk", "mail")


def _reminder_channels(engine: Engine) -> dict[str, set[str]]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(NOTIFICATION.c.event_id, NOTIFICATION.c.channel).where(
                NOTIFICATION.c.kind == "reminder", NOTIFICATION.c.state == "pending"
            )
        ).all()
    found: dict[str, set[str]] = {}
    for event_id, channel in rows:
        found.setdefault(event_id, set()).add(channel)
    return found


def test_editing_a_route_replans_only_the_events_it_matches(engine: Engine) -> None:
    events = """
        events:
          - {id: truce, title: Truce, at: 2025-11-10, tags: [trade]}
          - {id: other, title: Other, at: 2025-11-10, tags: [sport]}
    """
    before = calendar("routes: [{match: {tags: [trade]}, notify: [mail]}]\n", events)
    after = calendar("routes: [{match: {tags: [trade]}, notify: [ops]}]\n", events)
    with engine.begin() as conn:
        sync_calendar(conn, before, now=NOW)
    with engine.begin() as conn:
        report = sync_calendar(conn, after, now=NOW)
    assert report.changed == ["truce"]
    assert _reminder_channels(engine) == {"truce": {"desk", "ops"}, "other": {"desk"}}

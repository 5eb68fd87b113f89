"""iCalendar export, checked by parsing it back with the icalendar library."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import icalendar
import pytest
from support.factories import from_file, make_calendar, make_event, offsets

from alertd.calendar.load import load_calendar
from alertd.domain import Calendar, EventSpec
from alertd.planning.ics import render_calendar
from alertd.planning.planner import plan_reminders
from alertd.timeexpr import zone

# The shipped example: the truce timeline, with truce-expiry reminded 14 days out (before the 2 Nov DST change).
EXAMPLE = Path(__file__).resolve().parents[2] / "config" / "calendar.yaml"
NOW = datetime(2025, 10, 20, 12, 0, tzinfo=UTC)


def seed() -> Calendar:
    calendar, _ = load_calendar(EXAMPLE, environ={})
    return calendar


def timed(id: str = "truce-deadline", **changes: Any) -> EventSpec:
    """A timed event across the US return to standard time (2 Nov 2025), with nominal and exact reminders."""
    fields: dict[str, Any] = {
        "local_start": datetime(2025, 11, 10, 0, 1),
        "all_day": False,
        "reminders": offsets("14d", "336h", "1d12h", "0m", "+1d"),
        "notify": ("hooks",),
    }
    return make_event(id, **(fields | changes))


def parse(text: str) -> icalendar.Calendar:
    return icalendar.Calendar.from_ical(text)


def vevents(text: str) -> dict[str, icalendar.Event]:
    found = parse(text).events  # typed as Event, unlike walk("VEVENT")
    return {str(ev["UID"]).removesuffix("@alertd"): ev for ev in found}


_DURATION = re.compile(r"^([+-]?)P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$")


def raw_triggers(text: str, event_id: str) -> list[str]:
    """The TRIGGER values of one event as written: a parsed timedelta no longer tells -PT336H from -P14D."""
    unfolded = text.replace("\r\n ", "").split("\r\n")
    inside = False
    found = []
    for line in unfolded:
        inside = (line == f"UID:{event_id}@alertd") or (inside and line != "END:VEVENT")
        if inside and line.startswith("TRIGGER"):
            found.append(line)
    return found


def trigger_instant(start: datetime, trigger: str) -> datetime:
    """When a TRIGGER line fires, per RFC 5545 §3.3.6: weeks and days are nominal, the time part is exact."""
    params, _, value = trigger.partition(":")
    if params == "TRIGGER;VALUE=DATE-TIME":
        return datetime.strptime(value, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    match = _DURATION.match(value)
    assert match is not None, trigger
    sign = -1 if match.group(1) == "-" else 1
    w, d, h, m, s = (int(g or 0) for g in match.groups()[1:])
    nominal = timedelta(days=sign * (7 * w + d))
    exact = timedelta(seconds=sign * (3600 * h + 60 * m + s))
    return (start + nominal).astimezone(UTC) + exact  # aware + timedelta keeps the wall clock: nominal


def fired(text: str, event_id: str) -> list[datetime]:
    start = vevents(text)[event_id].decoded("DTSTART")
    return sorted(trigger_instant(start, t) for t in raw_triggers(text, event_id))


def planned_instants(event: EventSpec) -> list[datetime]:
    return sorted(p.due_at for p in plan_reminders(event, ["one"]))


def lines(text: str) -> Iterator[str]:
    assert text.endswith("\r\n")
    yield from text[:-2].split("\r\n")


def test_calendar_has_version_and_product_id() -> None:
    cal = parse(render_calendar(seed().events, seed(), NOW))

    assert str(cal["VERSION"]) == "2.0"
    assert "alertd" in str(cal["PRODID"])


def test_every_line_ends_with_crlf_and_fits_75_octets() -> None:
    event = make_event(title="Ünïcödé " * 30, notes="Long notes, with; separators\nand lines " * 10)
    text = render_calendar([event, *seed().events], seed(), NOW)

    assert "\n" not in text.replace("\r\n", "")
    assert all(len(line.encode("utf-8")) <= 75 for line in lines(text))


def test_folding_never_splits_a_character() -> None:
    """A line of three-octet characters is folded within 75 octets per piece, between whole characters."""
    text = render_calendar([make_event(title="€" * 60)], make_calendar(), NOW).encode("utf-8")

    first, *rest = text[text.index(b"SUMMARY:") :].split(b"\r\n")
    pieces = [first, *(p[1:] for p in itertools.takewhile(lambda p: p.startswith(b" "), rest))]
    assert all(p.decode("utf-8") for p in pieces)  # each piece decodes on its own: no character was split
    assert b"".join(pieces).decode("utf-8") == "SUMMARY:" + "€" * 60
    assert all(len(p) + (i > 0) <= 75 for i, p in enumerate(pieces))


def test_text_with_separators_round_trips() -> None:
    event = make_event(title="Truce; tariffs, \\ and\nmore", notes="a,b;c", tags=("trade, talks", "x;y"))

    parsed = vevents(render_calendar([event], make_calendar(), NOW))[event.id]

    assert str(parsed["SUMMARY"]) == event.title
    assert str(parsed["DESCRIPTION"]).startswith(str(event.notes))
    assert list(parsed.categories) == list(event.tags)


def test_timed_start_is_the_planned_instant() -> None:
    calendar = seed()
    parsed = vevents(render_calendar(calendar.events, calendar, NOW))

    for event in calendar.events:
        start = parsed[event.id].decoded("DTSTART")
        if not event.all_day:
            assert start.astimezone(UTC) == event.starts_at
            assert parsed[event.id]["DTSTART"].params["TZID"] == event.timezone


def test_a_second_run_is_exported_at_its_instant_with_alarms_where_alertd_fires(tmp_path: Path) -> None:
    """An event at 01:30-05:00 on the fall-back night reads back (icalendar) at 06:30Z, and each alarm fires
    when alertd's reminder does, the nominal day counted in New York, not in UTC."""
    calendar = from_file(
        tmp_path,
        "version: 1\ntimezone: America/New_York\nevents:\n"
        "  - {id: second, title: Second, at: '2025-11-02T01:30-05:00', reminders: [7d, 1d, 2h, 0m]}\n",
    )
    text = render_calendar(calendar.events, calendar, NOW)
    [event] = calendar.events
    assert vevents(text)["second"].decoded("DTSTART") == datetime(2025, 11, 2, 6, 30, tzinfo=UTC)
    assert fired(text, "second") == planned_instants(event)
    assert datetime(2025, 11, 1, 5, 30, tzinfo=UTC) in fired(text, "second")  # 1d: 01:30 EDT on the 1st


def test_all_day_event_is_a_date_ending_the_next_day() -> None:
    calendar = seed()
    parsed = vevents(render_calendar(calendar.events, calendar, NOW))

    for event in (e for e in calendar.events if e.all_day):
        start, end = parsed[event.id].decoded("DTSTART"), parsed[event.id].decoded("DTEND")
        assert type(start) is date
        assert start == event.local_start.date()
        assert end == start + timedelta(days=1)


def test_truce_expiry_alarms_fire_at_the_planned_instants_across_the_dst_change() -> None:
    calendar = seed()
    truce = next(e for e in calendar.events if e.id == "truce-expiry")

    instants = fired(render_calendar(calendar.events, calendar, NOW), truce.id)

    assert instants == planned_instants(truce)
    offsets_seen = {i.astimezone(zone(truce.timezone)).utcoffset() for i in instants}
    assert len(offsets_seen) == 2  # reminders on both sides of the change


def test_timed_alarms_keep_nominal_days_and_exact_hours_across_the_dst_change() -> None:
    event = timed()

    instants = fired(render_calendar([event], make_calendar(), NOW), event.id)

    assert instants == planned_instants(event)
    assert len(set(instants)) == len(event.reminders)  # 14d and 336h differ by the hour the clocks went back


def test_nominal_and_exact_offsets_become_day_and_time_durations() -> None:
    event = timed()

    triggers = raw_triggers(render_calendar([event], make_calendar(), NOW), event.id)

    assert sorted(triggers) == sorted(f"TRIGGER:{d}" for d in ["-P14D", "-PT336H", "-P1DT12H", "PT0S", "P1D"])


def test_every_alarm_displays() -> None:
    calendar = seed()
    parsed = vevents(render_calendar(calendar.events, calendar, NOW))

    for event in calendar.events:
        alarms = parsed[event.id].walk("VALARM")
        assert len(alarms) == len(planned_instants(event))
        assert all(str(a["ACTION"]) == "DISPLAY" and str(a["DESCRIPTION"]) for a in alarms)


def test_cancelled_event_has_no_alarms_and_cancelled_status() -> None:
    event = timed(status="cancelled")

    parsed = vevents(render_calendar([event], make_calendar(), NOW))[event.id]

    assert str(parsed["STATUS"]) == "CANCELLED"
    assert parsed.walk("VALARM") == []


@pytest.mark.parametrize("status", ["tentative", "confirmed", "postponed"])
def test_status_maps_to_an_rfc_5545_value(status: str) -> None:
    parsed = vevents(render_calendar([timed(status=status)], make_calendar(), NOW))["truce-deadline"]

    assert str(parsed["STATUS"]) in {"TENTATIVE", "CONFIRMED"}
    assert (str(parsed["STATUS"]) == "CONFIRMED") == (status == "confirmed")


def test_vtimezone_present_for_each_tzid_used() -> None:
    calendar = seed()
    events = [*calendar.events, timed(), timed("london", timezone="Europe/London")]
    cal = parse(render_calendar(events, calendar, NOW))

    used = {str(ev["DTSTART"].params["TZID"]) for ev in cal.walk("VEVENT") if "TZID" in ev["DTSTART"].params}
    assert {str(tz["TZID"]) for tz in cal.walk("VTIMEZONE")} == used


@pytest.mark.parametrize("name", ["America/New_York", "Europe/London", "Asia/Seoul", "Australia/Lord_Howe"])
def test_vtimezone_rules_agree_with_zoneinfo(name: str) -> None:
    cal = parse(render_calendar([timed(timezone=name)], make_calendar(), NOW))
    vtimezone = cal.walk("VTIMEZONE")[0]
    assert isinstance(vtimezone, icalendar.Timezone)
    rules = vtimezone.to_tz(lookup_tzid=False)  # built from our VTIMEZONE, not looked up by name

    instant = datetime(2025, 1, 1, tzinfo=UTC)
    while instant < datetime(2026, 1, 1, tzinfo=UTC):
        assert instant.astimezone(rules).utcoffset() == instant.astimezone(zone(name)).utcoffset(), instant
        instant += timedelta(hours=7)


def test_uid_is_stable_and_stamp_is_now() -> None:
    event = timed()
    first = vevents(render_calendar([event], make_calendar(), NOW))[event.id]
    later = vevents(render_calendar([event], make_calendar(), NOW + timedelta(days=1)))[event.id]

    assert first["UID"] == later["UID"]
    assert first.decoded("DTSTAMP") == NOW


def test_sequence_counts_revisions() -> None:
    event = timed()

    parsed = vevents(render_calendar([event], make_calendar(), NOW, revisions={event.id: 3}))[event.id]

    assert parsed.decoded("SEQUENCE") == 2


def test_source_becomes_url_and_description() -> None:
    event = timed(source="https://example.org/truce?a=1&b=2", notes="Extended in August.")

    parsed = vevents(render_calendar([event], make_calendar(), NOW))[event.id]

    assert str(parsed["URL"]) == event.source
    assert str(parsed["DESCRIPTION"]) == f"{event.notes}\n\nSource: {event.source}"


def test_source_that_is_not_a_plain_url_stays_in_the_description_only() -> None:
    event = timed(source="https://example.org/a\nBEGIN:VEVENT")

    text = render_calendar([event], make_calendar(), NOW)

    assert "URL" not in vevents(text)[event.id]
    assert text.replace("\r\n ", "").split("\r\n").count("BEGIN:VEVENT") == 1


def test_business_day_alarms_fire_where_alertd_plans_them(tmp_path: Path) -> None:
    """A client cannot count business days: the export carries the days they came to (``-P6D`` for 3bd before
    Monday 2025-12-01 across Thanksgiving), so its alarms fire at alertd's instants, DST change included."""
    calendar = from_file(
        tmp_path,
        "version: 1\n"
        "timezone: America/New_York\n"
        "workdays: {country: US, subdivision: NY}\n"
        "channels: {hooks: {type: console}}\n"
        "events:\n"
        "  - {id: filing, title: Filing, at: 2025-12-01T17:00, reminders: [3bd, 3bd12h]}\n"
        "  - {id: dst, title: After DST, at: 2025-11-05T09:00, reminders: [3bd, +2bd]}\n",
    )
    text = render_calendar(calendar.events, calendar, NOW)
    assert raw_triggers(text, "filing") == ["TRIGGER:-P6D", "TRIGGER:-P6DT12H"]
    for event in calendar.events:
        assert fired(text, event.id) == planned_instants(event)

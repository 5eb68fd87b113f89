"""Slack Block Kit: every kind as a message, the bot's countdown card and thread replies, within Slack's limits."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from support.factories import make_event, make_line, make_message

from alertd.channels.slack_blocks import card, date_token, escape, payload, reply
from alertd.messages.i18n import format_day, phrases

TIMED = make_event(
    "vote",
    title="Council vote",
    all_day=False,
    local_start=datetime(2025, 11, 10, 9, 0),
    status="tentative",
    tags=("policy", "eu"),
    source="https://example.org/agenda?id=7&x=<y>",
)
NOW = datetime(2025, 11, 9, 14, 0, 2, tzinfo=UTC)
WHEN_BERLIN = (
    "*When*\nMon 10 Nov 2025 09:00 EST (America/New_York)\n"
    "<!date^1762783200^{date_long_pretty} {time}|Mon 10 Nov 2025 15:00 CET (Europe/Berlin)>"
)


def _blocks(body: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [b for b in body["blocks"] if b["type"] == kind]


def _texts(body: dict[str, Any]) -> list[str]:
    return [b["text"]["text"] for b in _blocks(body, "section") if "text" in b]


def test_reminder_payload_exact() -> None:
    """A reminder: header, its sentence, countdown/time/status/tags/source fields, a context line."""
    text = "Council vote tomorrow.\nMon 10 Nov 2025 09:00 EST\nStatus: tentative"
    message = make_message(event=TIMED, title="Council vote — tomorrow", text=text)
    assert payload(message, channel_timezone="Europe/Berlin") == {
        "text": text,
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": "Council vote — tomorrow", "emoji": True}},
            {"type": "section", "text": {"type": "mrkdwn", "text": "Council vote tomorrow."}},
            {
                "type": "section",
                "fields": [
                    {"type": "mrkdwn", "text": "*Countdown*\ntomorrow"},
                    {"type": "mrkdwn", "text": WHEN_BERLIN},
                    {"type": "mrkdwn", "text": "*Status*\n:grey_question: tentative"},
                    {"type": "mrkdwn", "text": "*Tags*\npolicy, eu"},
                    {
                        "type": "mrkdwn",
                        "text": "*Source*\n<https://example.org/agenda?id=7&amp;x=&lt;y&gt;|example.org>",
                    },
                ],
            },
            {"type": "context", "elements": [{"type": "mrkdwn", "text": "alertd reminder · 1d"}]},
        ],
    }


def test_same_offset_shows_no_date_token() -> None:
    """When the channel shares the event's UTC offset only the event-zone time is shown."""
    (fields,) = _blocks(payload(make_message(event=TIMED), channel_timezone="America/Toronto"), "section")[1:]
    assert fields["fields"][1]["text"] == "*When*\nMon 10 Nov 2025 09:00 EST (America/New_York)"


def test_all_day_event_shows_its_date_and_the_channels_stretch() -> None:
    """An all-day date is shown in its own zone, then as the stretch of the channel's time it covers; no token."""
    fields = _blocks(payload(make_message(), channel_timezone="Asia/Tokyo"), "section")[1]["fields"]
    assert fields[1]["text"] == (
        "*When*\nMon 10 Nov 2025 (all day, America/New_York)\n"
        "Mon 10 Nov 2025 14:00 JST – Tue 11 Nov 2025 14:00 JST (Asia/Tokyo)"
    )


def test_date_token_fallback_cannot_break_the_token() -> None:
    """The fallback is escaped and loses any ``|`` so the token always closes where it should."""
    token = date_token(datetime(2025, 11, 10, 14, 0, tzinfo=UTC), "a|b <c>")
    assert token == "<!date^1762783200^{date_long_pretty} {time}|a/b &lt;c&gt;>"


def test_each_status_has_its_emoji() -> None:
    """Tentative, confirmed, postponed and cancelled each show an emoji before the word."""
    shown = {
        status: _blocks(payload(make_message(event=make_event(status=status))), "section")[1]["fields"][2]["text"]
        for status in ("tentative", "confirmed", "postponed", "cancelled")
    }
    assert shown == {
        "tentative": "*Status*\n:grey_question: tentative",
        "confirmed": "*Status*\n:white_check_mark: confirmed",
        "postponed": "*Status*\n:double_vertical_bar: postponed",
        "cancelled": "*Status*\n:x: cancelled",
    }


def test_user_text_is_escaped_for_mrkdwn() -> None:
    """Only & < > are escaped, so user text cannot ping <!channel> or fake links; the header stays plain."""
    body = payload(make_message(title="A & B", text="<!channel> *now* & <https://x|y>"))
    assert _texts(body)[0] == "&lt;!channel&gt; *now* &amp; &lt;https://x|y&gt;"
    assert body["text"] == "&lt;!channel&gt; *now* &amp; &lt;https://x|y&gt;"
    assert _blocks(body, "header")[0]["text"]["text"] == "A & B"
    assert escape("a<b>c&d") == "a&lt;b&gt;c&amp;d"


def test_source_link_keeps_a_pipe_from_ending_the_url() -> None:
    """A ``|`` in the source URL is percent-encoded inside ``<url|label>``; the label is the host only."""
    event = make_event(source="https://example.org/a|b?t=1")
    fields = _blocks(payload(make_message(event=event)), "section")[1]["fields"]
    assert fields[-1]["text"] == "*Source*\n<https://example.org/a%7Cb?t=1|example.org>"


def test_long_title_and_text_are_truncated() -> None:
    """The header stays within 150 chars and the section within 3000, cut with an ellipsis."""
    body = payload(make_message(title="T" * 400, text="&" * 2000))
    header = _blocks(body, "header")[0]["text"]["text"]
    assert (len(header), header[-1]) == (150, "…")
    section = _texts(body)[0]
    assert len(section) <= 3000
    assert section.endswith("&amp;…")


def test_notes_are_shown() -> None:
    """An event's notes follow its fields, escaped."""
    body = payload(make_message(event=make_event(notes="Extended <twice>")))
    assert _texts(body)[-1] == "*Notes*\nExtended &lt;twice&gt;"


def test_countdown_digest_lists_each_event() -> None:
    """A digest shows one line per event with its countdown, date and (if not confirmed) status."""
    lines = (make_line(text="tomorrow"), make_line(TIMED, seconds=3 * 86400, text="in 3 days"))
    body = payload(make_message(kind="countdown", title="Countdown", text="2 events", offset=None, lines=lines))
    assert [b["type"] for b in body["blocks"]] == ["header", "section", "context"]
    assert _texts(body) == [
        "• *Trade truce expires* — tomorrow (Mon 10 Nov 2025)\n"
        "• *Council vote* — in 3 days (Mon 10 Nov 2025) · :grey_question: tentative"
    ]
    assert body["text"] == "Countdown\n2 events"


def test_long_digest_spreads_over_sections() -> None:
    """Rows that do not fit one 3000-character section continue in the next; nothing is left out."""
    lines = tuple(make_line(make_event(f"e{i}", title="x" * 150)) for i in range(40))
    sections = _texts(payload(make_message(kind="countdown", lines=lines)))
    assert len(sections) > 1
    assert all(len(s) <= 3000 for s in sections)
    assert sum(s.count("• ") for s in sections) == 40


def test_huge_digest_stays_within_50_blocks_and_says_how_many_are_left_out() -> None:
    """Past 50 blocks the digest ends with how many events were left out."""
    lines = tuple(make_line(make_event(f"e{i}", title="y" * 190)) for i in range(1000))
    body = payload(make_message(kind="countdown", lines=lines))
    assert len(body["blocks"]) == 50
    sections = _texts(body)
    assert all(len(s) <= 3000 for s in sections)
    shown = sum(s.count("• ") for s in sections)
    assert sections[-1].endswith(f"…and {1000 - shown} more")


def test_change_notice_shows_from_and_to() -> None:
    """A change notice has its sentence, then what changed as ``from → to`` lines, then the fields."""
    text = "Truce: moved from Sat 1 Nov 2025 to Mon 10 Nov 2025; status changed.\nMon 10 Nov 2025 (all day)"
    change = {
        "type": "changed",
        "before": {"local_start": "2025-11-01T00:00:00", "all_day": True, "timezone": "UTC", "status": "confirmed"},
        "after": {"local_start": "2025-11-10T00:00:00", "all_day": True, "timezone": "UTC", "status": "postponed"},
    }
    body = payload(make_message(kind="change", title="Changed: Truce", text=text, offset=None, change=change))
    assert _texts(body)[:2] == [
        "Truce: moved from Sat 1 Nov 2025 to Mon 10 Nov 2025; status changed.",
        "*What changed*\n• When: ~Sat 1 Nov 2025 (all day)~ → *Mon 10 Nov 2025 (all day)*\n"
        "• Status: ~confirmed~ → *postponed* :double_vertical_bar:",
    ]
    assert body["text"] == text


def test_removed_event_shows_removed_instead_of_countdown() -> None:
    """A removal notice says so in the status field and has no countdown field."""
    change = {"type": "removed", "before": {}, "after": {}}
    body = payload(make_message(kind="change", offset=None, change=change))
    fields = [f["text"] for f in _blocks(body, "section")[-1]["fields"]]
    assert fields[1] == "*Status*\n:wastebasket: removed from the calendar"
    assert not any(f.startswith("*Countdown*") for f in fields)


def test_late_notice_says_so() -> None:
    """A late notification is marked and says when it was due, in the channel's zone."""
    body = payload(make_message(late=True), channel_timezone="Europe/Berlin")
    note = _blocks(body, "context")[0]["elements"][0]["text"]
    assert note == "alertd reminder · 1d · :warning: sent late (was due Sun 9 Nov 2025 15:00 CET)"


def test_test_message_has_header_text_and_context() -> None:
    """A test notification has no event: header, its text, context."""
    body = payload(make_message(kind="test", title="alertd test notification", text="It works.", offset=None))
    assert [b["type"] for b in body["blocks"]] == ["header", "section", "context"]


def test_card_exact() -> None:
    """The card: event title, current countdown, fields and when it was last updated."""
    body = card(TIMED, make_line(TIMED, text="in 3 days"), channel_timezone="Europe/Berlin", now=NOW)
    assert body == {
        "text": "Council vote — in 3 days · Mon 10 Nov 2025",
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": "Council vote", "emoji": True}},
            {"type": "section", "text": {"type": "mrkdwn", "text": ":hourglass_flowing_sand: *in 3 days*"}},
            {
                "type": "section",
                "fields": [
                    {"type": "mrkdwn", "text": WHEN_BERLIN},
                    {"type": "mrkdwn", "text": "*Status*\n:grey_question: tentative"},
                    {"type": "mrkdwn", "text": "*Tags*\npolicy, eu"},
                    {
                        "type": "mrkdwn",
                        "text": "*Source*\n<https://example.org/agenda?id=7&amp;x=&lt;y&gt;|example.org>",
                    },
                ],
            },
            {
                "type": "context",
                "elements": [
                    {
                        "type": "mrkdwn",
                        "text": "alertd countdown card · updated <!date^1762696802^{date_long_pretty} {time}"
                        "|Sun 9 Nov 2025 15:00 CET (Europe/Berlin)>",
                    }
                ],
            },
        ],
    }


def test_card_of_removed_event_strikes_it_through() -> None:
    """A removed event's card says so instead of counting down."""
    body = card(TIMED, make_line(TIMED), channel_timezone="UTC", now=NOW, removed=True)
    assert _texts(body)[0] == "~Council vote~ :wastebasket: removed from the calendar"
    assert body["text"].startswith("Council vote — removed from the calendar")


def test_reply_is_the_sentence_and_context_only() -> None:
    """A thread reply does not repeat the card's fields."""
    message = make_message(event=TIMED, text="Council vote tomorrow.\nMon 10 Nov 2025 09:00 EST")
    body = reply(message)
    assert body["blocks"] == [
        {"type": "section", "text": {"type": "mrkdwn", "text": "Council vote tomorrow."}},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "alertd reminder · 1d"}]},
    ]
    assert body["text"] == "Council vote tomorrow.\nMon 10 Nov 2025 09:00 EST"


def test_rename_shows_old_and_new_title_escaped() -> None:
    """A renamed event shows the old title struck through and the new one in bold, both escaped."""
    snap = {"local_start": "2025-11-10T00:00:00", "all_day": True, "timezone": "UTC", "status": "confirmed"}
    change = {"type": "changed", "before": {**snap, "title": "A<B"}, "after": {**snap, "title": "A&B"}}
    body = payload(make_message(kind="change", offset=None, change=change))
    assert _texts(body)[1] == "*What changed*\n• Title: ~A&lt;B~ → *A&amp;B*"


def test_chinese_message_has_chinese_labels_and_dates() -> None:
    """A zh channel's fields, dates, statuses and change lines are worded in Chinese, with no English label left."""
    snap = {"local_start": "2025-11-01T00:00:00", "all_day": True, "timezone": "UTC", "status": "confirmed"}
    change = {"type": "changed", "before": snap, "after": {**snap, "status": "tentative"}}
    message = make_message(kind="change", event=TIMED, change=change, late=True)._replace(locale="zh")
    body = payload(message, channel_timezone="Europe/Berlin")
    p = phrases("zh")
    everything = "\n".join([*_texts(body), *(f["text"] for f in _blocks(body, "section")[-1]["fields"])])
    for label in (p.label_what_changed, p.label_status, p.label_when, p.label_tags, p.label_source):
        assert f"*{label}*" in everything
    assert f"~{p.statuses['confirmed']}~ → *{p.statuses['tentative']}*" in everything
    # Dates come from Babel's Chinese calendar data, not from a hard-coded string.
    assert format_day(date(2025, 11, 10), "zh") in everything
    note = _blocks(body, "context")[0]["elements"][0]["text"]
    assert p.sent_late.split("{", 1)[0] in note
    for english in ("When", "Status", "Tags", "Source", "What changed", "sent late", "tentative"):
        assert english not in everything + note


def test_chinese_card_is_worded_in_chinese() -> None:
    """A zh bot's countdown card: Chinese field labels, removal note and "updated" line, Babel's Chinese date."""
    p = phrases("zh")
    body = card(
        TIMED, make_line(TIMED, text="3天后", locale="zh"), channel_timezone="Europe/Berlin", now=NOW, locale="zh"
    )
    fields = [f["text"] for f in _blocks(body, "section")[1]["fields"]]
    assert [f.split("\n", 1)[0] for f in fields] == [
        f"*{p.label_when}*",
        f"*{p.label_status}*",
        f"*{p.label_tags}*",
        f"*{p.label_source}*",
    ]
    assert body["text"].endswith(format_day(date(2025, 11, 10), "zh"))
    assert _blocks(body, "context")[0]["elements"][0]["text"].startswith(p.card_updated.split("{", 1)[0])
    removed = card(TIMED, make_line(TIMED), channel_timezone="UTC", now=NOW, removed=True, locale="zh")
    assert _texts(removed)[0].endswith(p.removed_short)

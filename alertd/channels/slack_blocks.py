"""Block Kit for Slack: one notification as a message (webhook or bot), an event's countdown card, a thread reply.

User text is mrkdwn-escaped (only ``&``, ``<`` and ``>``, as Slack asks), so a title cannot ping ``<!channel>`` or
fake a link. Every limit Slack enforces (50 blocks, 3000 characters per section, 2000 per field, 150 per header)
is met by cutting with an ellipsis: a cut message is better than ``invalid_blocks``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from alertd.channels import http
from alertd.channels.words import and_more, moment, sent_late, status_word
from alertd.domain import CountdownLine, EventSpec, Message
from alertd.messages import DEFAULT_LOCALE, change_rows, countdown_line, format_when, phrases, when_label
from alertd.timeexpr import zone

__all__ = [
    "ACK_ACTION",
    "BLOCKS_MAX",
    "FIELD_MAX",
    "HEADER_MAX",
    "SECTION_MAX",
    "STATUS_EMOJI",
    "TEXT_MAX",
    "ack_link_actions",
    "card",
    "date_token",
    "escape",
    "payload",
    "reply",
]

# Block Kit limits (docs.slack.dev): blocks per message, section text, one section field, fields per section,
# header text; TEXT_MAX bounds the fallback text (Slack allows 40,000, notifications show far less).
BLOCKS_MAX = 50
SECTION_MAX = 3000
FIELD_MAX = 2000
FIELDS_MAX = 10
HEADER_MAX = 150
TEXT_MAX = 3000

STATUS_EMOJI = {
    "tentative": ":grey_question:",
    "confirmed": ":white_check_mark:",
    "postponed": ":double_vertical_bar:",
    "cancelled": ":x:",
}


def escape(text: str) -> str:
    """Escape the three characters mrkdwn gives meaning to (and nothing else, as Slack asks)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _fit(text: str, limit: int) -> str:
    """``escape(text)`` cut with … to at most ``limit`` characters, never inside an entity."""
    out: list[str] = []
    size = 0
    for char in text:
        piece = escape(char)
        if size + len(piece) > limit - 1:
            return "".join(out) + "…"
        out.append(piece)
        size += len(piece)
    return "".join(out)


def _plain(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _removed_note(locale: str) -> str:
    return f":wastebasket: {phrases(locale).removed_short}"


def date_token(instant: datetime, fallback: str) -> str:
    """A ``<!date>`` token: Slack shows ``instant`` in each reader's own zone, other clients the fallback."""
    unix = int(instant.timestamp())
    return f"<!date^{unix}^{{date_long_pretty}} {{time}}|{escape(fallback).replace('|', '/')}>"


def _time_field(event: EventSpec, channel_timezone: str, locale: str) -> str:
    p = phrases(locale)
    here = event.starts_at.astimezone(zone(event.timezone))
    if event.all_day:
        # The date in its own zone, and the stretch of the channel's time it covers when that is not the same day.
        lines = [f"*{p.label_when}*\n{escape(format_when(event, locale=locale))}"]
        there_text = format_when(event, channel_timezone, locale=locale)
        return "\n".join([*lines, escape(there_text)] if there_text else lines)
    lines = [f"*{p.label_when}*\n{moment(here, locale)} ({event.timezone})"]
    there = event.starts_at.astimezone(zone(channel_timezone))
    if there.utcoffset() != here.utcoffset():
        # The channel's zone as a token: readers there see it as written, readers elsewhere in their own zone;
        # the fallback (notifications, old clients) names the channel's zone.
        lines.append(date_token(event.starts_at, f"{moment(there, locale)} ({channel_timezone})"))
    return "\n".join(lines)


def _status(event: EventSpec, locale: str, *, removed: bool = False) -> str:
    if removed:
        return _removed_note(locale)
    emoji = STATUS_EMOJI.get(event.status)
    word = escape(status_word(event.status, locale))
    return f"{emoji} {word}" if emoji else word


def _source(source: str) -> str:
    if source.startswith(("https://", "http://")):
        label = http.redact(source).split("://", 1)[1].split("/", 1)[0]
        # Inside <url|label> a "|" would end the URL early; percent-encoding it keeps the same address.
        return f"<{escape(source).replace('|', '%7C')}|{escape(label)}>"
    return escape(source)


def _fields(
    event: EventSpec, channel_timezone: str, locale: str, *, countdown: str | None = None, removed: bool = False
) -> dict[str, Any]:
    p = phrases(locale)
    texts: list[str] = []
    if countdown is not None:
        texts.append(f"*{p.label_countdown}*\n{escape(countdown)}")
    texts += [
        _time_field(event, channel_timezone, locale),
        f"*{p.label_status}*\n{_status(event, locale, removed=removed)}",
    ]
    if event.tags:
        texts.append(f"*{p.label_tags}*\n" + escape(", ".join(event.tags)))
    if event.source:
        texts.append(f"*{p.label_source}*\n{_source(event.source)}")
    return {"type": "section", "fields": [{"type": "mrkdwn", "text": _plain(t, FIELD_MAX)} for t in texts]}


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _header(text: str) -> dict[str, Any]:
    # Slack rejects an empty header; plain_text needs no escaping.
    return {
        "type": "header",
        "text": {"type": "plain_text", "text": _plain(text or "alertd", HEADER_MAX), "emoji": True},
    }


def _context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": _plain(text, SECTION_MAX)}]}


def _notes(event: EventSpec, locale: str) -> list[dict[str, Any]]:
    if not event.notes:
        return []
    # The label is bold on its own line, like the fields above it, so no language needs its own colon style.
    return [_section(f"*{phrases(locale).label_notes}*\n" + _fit(event.notes, SECTION_MAX - 100))]


def _capitalized(text: str) -> str:
    # The shared sentences start in lower case (they follow a title in plain text); as a list item they lead.
    return text[:1].upper() + text[1:]


def _change_lines(change: Mapping[str, Any], locale: str) -> list[str]:
    """What changed, one ``from → to`` line per aspect."""
    p = phrases(locale)
    kind = change.get("type")
    if kind == "added":
        return ["• " + _capitalized(p.added.format(when=escape(when_label(change.get("after") or {}, locale))))]
    if kind == "removed":
        return ["• " + _capitalized(p.removed)]
    lines: list[str] = []
    new_status = str((change.get("after") or {}).get("status", "?"))
    for label, old, new in change_rows(change, locale):
        # Each value is cut so that the whole section stays within its limit without cutting an entity.
        line = f"• {label}: ~{_fit(old, 1000)}~ → *{_fit(new, 1000)}*"
        if label == p.label_status:
            line = f"{line} {STATUS_EMOJI.get(new_status, '')}".rstrip()
        lines.append(line)
    return lines


def _change_section(change: Mapping[str, Any] | None, locale: str) -> list[dict[str, Any]]:
    lines = _change_lines(change, locale) if change else []
    heading = f"*{phrases(locale).label_what_changed}*\n"
    return [_section(_plain(heading + "\n".join(lines), SECTION_MAX))] if lines else []


def _note(message: Message, channel_timezone: str) -> str:
    note = f"alertd {message.kind}" + (f" · {escape(message.offset)}" if message.offset else "")
    if message.late:
        due = message.due_at.astimezone(zone(channel_timezone))
        note += f" · :warning: {sent_late(due, message.locale)}"
    return note


def _digest_rows(lines: tuple[CountdownLine, ...], locale: str) -> list[str]:
    rows: list[str] = []
    for line in lines:
        event = line.event
        status = "" if event.status == "confirmed" else f" · {_status(event, locale)}"
        rows.append(f"• *{_fit(event.title, 200)}* — {escape(line.text)} ({escape(line.day_text)}){status}")
    return rows


def _digest_sections(lines: tuple[CountdownLine, ...], room: int, locale: str) -> list[dict[str, Any]]:
    """The digest's rows packed into at most ``room`` sections of at most 3000 characters each."""
    rows = _digest_rows(lines, locale)
    if not rows:
        return [_section(f"_{phrases(locale).nothing_coming_up}_")]
    chunks: list[list[str]] = [[]]
    for row in rows:
        if chunks[-1] and len("\n".join([*chunks[-1], row])) > SECTION_MAX:
            chunks.append([])
        chunks[-1].append(row)
    shown = chunks[:room]
    left = len(rows) - sum(len(c) for c in shown)
    if left:
        more = and_more(left, locale)
        # The last section must also hold the count: drop its rows until it fits.
        while shown[-1] and len("\n".join([*shown[-1], more])) > SECTION_MAX:
            shown[-1].pop()
            left += 1
            more = and_more(left, locale)
        shown[-1].append(more)
    return [_section("\n".join(chunk)) for chunk in shown]


def _first_sentence(message: Message) -> str:
    # The rendered text is plain: a sentence (for a change notice, what changed), then the event's time,
    # status and source. With an event those follow as fields, so only the sentence is kept.
    return message.text.split("\n", 1)[0] if message.event is not None else message.text


def _line(message: Message, event: EventSpec, channel_timezone: str) -> CountdownLine:
    return message.countdown or countdown_line(event, message.sent_at, channel_timezone, locale=message.locale)


def _removed(message: Message) -> bool:
    return message.kind == "change" and (message.change or {}).get("type") == "removed"


def payload(message: Message, *, channel_timezone: str | None = None) -> dict[str, Any]:
    """One notification as a Slack message: plain fallback ``text`` plus Block Kit ``blocks``."""
    tz = channel_timezone or message.channel_timezone
    title = message.title or f"alertd {message.kind}"
    blocks: list[dict[str, Any]] = [_header(title)]
    if message.kind == "countdown":
        blocks += _digest_sections(message.lines, BLOCKS_MAX - 2, message.locale)
    else:
        sentence = _fit(_first_sentence(message), SECTION_MAX)
        if sentence:
            blocks.append(_section(sentence))
        blocks += _change_section(message.change, message.locale)
        event = message.event
        if event is not None:
            countdown = None if _removed(message) else _line(message, event, tz).text
            blocks.append(_fields(event, tz, message.locale, countdown=countdown, removed=_removed(message)))
            blocks += _notes(event, message.locale)
    blocks += ack_link_actions(message)
    blocks.append(_context(_note(message, tz)))
    # The fallback is the whole plain text (notifications, screen readers); Slack still parses it for <…>
    # mentions and links, hence the escaping.
    text = f"{title}\n{message.text}" if message.kind == "countdown" else message.text or title
    return {"text": _fit(text, TEXT_MAX), "blocks": blocks[:BLOCKS_MAX]}


def card(
    event: EventSpec,
    line: CountdownLine,
    *,
    channel_timezone: str,
    now: datetime,
    removed: bool = False,
    locale: str = DEFAULT_LOCALE,
    ack_button: bool = False,
    acked_text: str | None = None,
) -> dict[str, Any]:
    """An event's countdown card (bot mode): posted once, then updated in place with every notification.

    With ``ack_button`` (interactivity set up) an open event's card has an "Acknowledge" button; an acknowledged
    event's card says so (``acked_text``: who, from the acknowledgement notice) instead.
    """
    if removed:
        lead = f"~{_fit(event.title, SECTION_MAX - 100)}~ {_removed_note(locale)}"
    elif event.acknowledged:
        said = acked_text or phrases(locale).ack_title.format(title=event.title)
        lead = f":white_check_mark: *{escape(_fit(said, SECTION_MAX - 100))}*"
    else:
        lead = f":hourglass_flowing_sand: *{escape(line.text)}*"
    local = now.astimezone(zone(channel_timezone))
    updated = date_token(now, f"{moment(local, locale)} ({channel_timezone})")
    blocks = [
        _header(event.title),
        _section(lead),
        _fields(event, channel_timezone, locale, removed=removed),
        *_notes(event, locale),
        *(_ack_button(event, locale) if ack_button and not removed and not event.acknowledged else []),
        _context(phrases(locale).card_updated.format(when=updated)),
    ]
    state = phrases(locale).removed_short if removed else line.text
    text = f"{event.title} — {state} · {line.day_text}"
    return {"text": _fit(text, TEXT_MAX), "blocks": blocks}


def reply(message: Message, *, channel_timezone: str | None = None) -> dict[str, Any]:
    """A milestone (reminder, change notice) as a thread reply under its event's card: no repeated fields."""
    tz = channel_timezone or message.channel_timezone
    blocks: list[dict[str, Any]] = []
    sentence = _fit(_first_sentence(message), SECTION_MAX)
    if sentence:
        blocks.append(_section(sentence))
    blocks += _change_section(message.change, message.locale)
    blocks += ack_link_actions(message)
    blocks.append(_context(_note(message, tz)))
    return {"text": _fit(message.text or message.title, TEXT_MAX), "blocks": blocks}


# The action id of the card's button: /slack/interactions acts on clicks of it (alertd.api.slack).
ACK_ACTION = "alertd_ack"


def _ack_button(event: EventSpec, locale: str) -> list[dict[str, Any]]:
    label = {"type": "plain_text", "text": phrases(locale).ack_action}
    button = {"type": "button", "text": label, "action_id": ACK_ACTION, "value": event.id, "style": "primary"}
    return [{"type": "actions", "block_id": "alertd_ack", "elements": [button]}]


# Slack refuses a button URL longer than this; a signed link is a few hundred characters.
_BUTTON_URL_MAX = 3000


def ack_link_actions(message: Message) -> list[dict[str, Any]]:
    """An "Acknowledge" link button opening the signed link's confirm page (none without a link)."""
    if message.ack_url is None or len(message.ack_url) > _BUTTON_URL_MAX:
        return []
    label = {"type": "plain_text", "text": phrases(message.locale).ack_action}
    button = {"type": "button", "text": label, "url": message.ack_url, "action_id": "alertd_ack_link"}
    return [{"type": "actions", "elements": [button]}]

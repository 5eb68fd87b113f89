"""``telegram``: the Bot API's ``sendMessage`` with ``parse_mode: HTML``.

Every answer is JSON ``{"ok": …}``; errors carry a ``description`` (``"Forbidden: bot was blocked by the user"``)
and sometimes ``parameters`` (``retry_after`` seconds, ``migrate_to_chat_id``). Telegram says its numeric
``error_code`` may change, so errors are judged by description and parameters first, by status after.

Size: ``text`` may hold 4096 characters after entity parsing. alertd cuts a longer message (a digest at a line
boundary with "…and N more") rather than splitting it: one attempt stays one request, so a failure can never
leave half an alert delivered and a retry can never post the first half twice.

One attempt may still make a second request, only when the first was refused without posting anything:

* ``migrate_to_chat_id`` (the group became a supergroup): the alert is sent to the new chat at once, because the
  upgrade is Telegram's doing and the alert should not be lost over it; the answer summary names the new id to
  put in the calendar, and a warning is logged on every such send until it is.
* ``can't parse entities`` (alertd's HTML was rejected): the same text is resent without markup.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
from pydantic import ConfigDict, Field, field_validator

from alertd.channels import budget, http
from alertd.channels.base import Channel, ChannelContext, ChannelType, Options
from alertd.channels.retry_after import parse_retry_after, retry_seconds
from alertd.channels.words import and_more, sent_late, status_word
from alertd.domain import ChannelSpec, CountdownLine, EventSpec, Message
from alertd.errors import DeliveryError
from alertd.messages import format_when, phrases
from alertd.timeexpr import zone

__all__ = [
    "TEXT_MAX",
    "TYPE",
    "Answer",
    "TelegramChannel",
    "TelegramOptions",
    "classify",
    "escape",
    "message_html",
    "payload",
    "visible_length",
]

log = logging.getLogger("alertd.channels.telegram")

# Characters after entity parsing. Counted in UTF-16 code units (what entity offsets use), never fewer than
# code points, so the cut is safe whichever Telegram counts.
TEXT_MAX = 4096
# Every part has its own share, so the title and details can never crowd out the message itself: what is left
# after them (at least TEXT_MAX - 2 * _DETAIL_MAX - _TITLE_MAX - the labels) goes to the sentence or the digest.
_TITLE_MAX = 512
_DETAIL_MAX = 512
# A longer URL is shown as (cut) text rather than as a link whose target would be cut.
_URL_MAX = 2048
_TOKEN = re.compile(r"^\d+:[A-Za-z0-9_-]+$")
_TAG = re.compile(r"<[^>]*>")
_ENTITIES = {"&lt;": "<", "&gt;": ">", "&amp;": "&", "&quot;": '"'}
_ENTITY = re.compile("|".join(_ENTITIES))

_CHAT = "check chat_id, and that the bot was added to the chat (or the user started it)"
# Part of the description → (permanent, what it means and what to do). First match wins.
_DESCRIPTIONS: tuple[tuple[str, bool, str], ...] = (
    ("bot was blocked by the user", True, "the user blocked the bot; they must unblock it"),
    ("user is deactivated", True, "the user's Telegram account is deactivated; use another chat_id"),
    ("bot was kicked", True, "the bot was removed from the chat; add it again"),
    ("bot is not a member", True, "the bot is not a member of the chat; add it"),
    ("group chat was deleted", True, "the chat was deleted; use another chat_id"),
    ("not enough rights", True, "the bot may not post in this chat; give it permission to send messages"),
    ("chat not found", True, _CHAT),
    ("chat_id is empty", True, _CHAT),
    ("message thread not found", True, "the forum topic does not exist; check message_thread_id"),
    ("can't parse entities", True, "Telegram rejected alertd's HTML; this is an alertd bug, please report it"),
    ("message is too long", True, "the message was too long; this is an alertd bug, please report it"),
)


class TelegramOptions(Options):
    # The bot token is the credential: keep it out of reprs and validation errors.
    model_config = ConfigDict(hide_input_in_errors=True)

    bot_token: str = Field(repr=False)
    chat_id: int | str
    api_base: str = "https://api.telegram.org"
    disable_notification: bool = False
    message_thread_id: int | None = None

    @field_validator("bot_token")
    @classmethod
    def _token(cls, value: str) -> str:
        value = value.strip()
        if not _TOKEN.match(value):
            raise ValueError("the Telegram bot token should look like 123456:ABC-def… (from @BotFather)")
        return value

    @field_validator("chat_id")
    @classmethod
    def _chat(cls, value: int | str) -> int | str:
        if isinstance(value, str):
            text = value.strip()
            if re.fullmatch(r"-?\d+", text):
                return int(text)
            if not re.fullmatch(r"@[A-Za-z][A-Za-z0-9_]{3,}", text):
                raise ValueError("chat_id is a number (e.g. -1001234567890) or a public @channelname")
            return text
        return value

    @field_validator("api_base")
    @classmethod
    def _base(cls, value: str) -> str:
        return http.check_url(value, what="Telegram API").rstrip("/")


def escape(text: str) -> str:
    """HTML-escape text for Telegram: the three characters it reserves, and ``"`` for attribute values."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def visible_length(html: str) -> int:
    """How long ``html`` is once Telegram has parsed it, in UTF-16 code units."""
    if "<" not in html and "&" not in html:
        return budget.utf16(html)
    return budget.utf16(_ENTITY.sub(lambda m: _ENTITIES[m.group(0)], _TAG.sub("", html)))


def _fit(text: str, limit: int) -> str:
    """``escape(text)`` whose visible length is at most ``limit``, cut with …."""
    return budget.cut(text, limit, measure=visible_length, escape=escape)


def _row(locale: str, label: str, value_html: str) -> str:
    """One ``label: value`` line with the label in bold and the colon as the locale writes it."""
    return phrases(locale).field_line.format(label=f"<b>{escape(label)}</b>", value=value_html)


def _details(message: Message, event: EventSpec, channel_timezone: str) -> list[str]:
    locale = message.locale
    p = phrases(locale)
    rows = [_row(locale, p.label_when, escape(format_when(event, locale=locale)))]
    there = format_when(event, channel_timezone, locale=locale) if channel_timezone != event.timezone else ""
    if there:
        rows.append(_row(locale, p.label_your_time, escape(there)))
    if message.countdown is not None:
        rows.append(_row(locale, p.label_countdown, escape(message.countdown.text)))
    rows.append(_row(locale, p.label_status, escape(status_word(event.status, locale))))
    if event.tags:
        rows.append(_row(locale, p.label_tags, _fit(", ".join(event.tags), _DETAIL_MAX)))
    if event.source:
        if event.source.startswith(("https://", "http://")) and len(event.source) <= _URL_MAX:
            label = http.redact(event.source).split("://", 1)[1].split("/", 1)[0]
            link = f'<a href="{escape(event.source)}">{escape(label)}</a>'
            rows.append(_row(locale, p.label_source, link))
        else:
            rows.append(_row(locale, p.label_source, _fit(event.source, _DETAIL_MAX)))
    return rows


def _digest(lines: tuple[CountdownLine, ...], room: int, locale: str) -> str:
    rows: list[str] = []
    for line in lines:
        word = status_word(line.event.status, locale)
        status = "" if line.event.status == "confirmed" else f" <i>({escape(word)})</i>"
        rows.append(f"• <b>{_fit(line.event.title, 200)}</b> — {escape(line.text)} ({escape(line.day_text)}){status}")

    def shown(keep: int) -> str:
        more = [escape(and_more(len(rows) - keep, locale))] if keep < len(rows) else []
        return "\n".join([*rows[:keep], *more])

    text = shown(budget.fit_rows(len(rows), lambda keep: visible_length(shown(keep)) <= room))
    return text or f"<i>{escape(phrases(locale).nothing_coming_up)}</i>"


def message_html(message: Message, *, channel_timezone: str | None = None) -> str:
    """The HTML message: bold title, the sentence (or the digest), then the event's details."""
    tz = channel_timezone or message.channel_timezone
    head = f"<b>{_fit(message.title or f'alertd {message.kind}', _TITLE_MAX)}</b>"
    event = message.event if message.kind != "countdown" else None
    tail = _details(message, event, tz) if event is not None else []
    note = f"alertd {message.kind}" + (f" · {message.offset}" if message.offset else "")
    if message.late:
        note += f" · {sent_late(message.due_at.astimezone(zone(tz)), message.locale)}"
    tail.append(f"<i>{escape(note)}</i>")
    fixed = "\n\n".join([head, "\n".join(tail)])
    # The body gets what the title and details leave (two blank lines join the three parts).
    room = max(1, TEXT_MAX - visible_length(fixed) - 4)
    if message.kind == "countdown":
        body = _digest(message.lines, room, message.locale)
    else:
        body = _fit(message.text.split("\n", 1)[0] if event is not None else message.text, room)
    return "\n\n".join([head, body, "\n".join(tail)])


def payload(
    message: Message,
    *,
    chat_id: int | str,
    channel_timezone: str | None = None,
    disable_notification: bool = False,
    message_thread_id: int | None = None,
) -> dict[str, Any]:
    """The ``sendMessage`` body."""
    body: dict[str, Any] = {
        "chat_id": chat_id,
        "text": message_html(message, channel_timezone=channel_timezone),
        "parse_mode": "HTML",
        # A preview card of the source page would bury the alert itself.
        "link_preview_options": {"is_disabled": True},
        "disable_notification": disable_notification,
    }
    if message_thread_id is not None:
        body["message_thread_id"] = message_thread_id
    if message.ack_url is not None:
        # An inline URL button under the message: Telegram opens the signed link's confirm page.
        button = {"text": phrases(message.locale).ack_action, "url": message.ack_url}
        body["reply_markup"] = {"inline_keyboard": [[button]]}
    return body


def _plain(html: str) -> str:
    return _ENTITY.sub(lambda m: _ENTITIES[m.group(0)], _TAG.sub("", html))


@dataclass(frozen=True, slots=True)
class Answer:
    """What one ``sendMessage`` answer says to do next: done (``summary``), or resend somewhere/somehow."""

    summary: str | None = None
    migrate_to: int | None = None
    unparsable: bool = False


def classify(response: httpx.Response, *, now: datetime) -> Answer:
    """Judge one answer: success, a resend the channel may make, or a DeliveryError."""
    status = response.status_code
    data = http.json_object(response)
    if 200 <= status < 300 and data.get("ok") is True:
        result = data.get("result")
        mid = result.get("message_id") if isinstance(result, dict) else None
        if mid is None:
            return Answer(summary=f"HTTP {status} ok")
        # Telegram's own chat id: the numeric one even when the channel names the chat as @username.
        chat = result.get("chat") if isinstance(result, dict) else None
        chat_id = chat.get("id") if isinstance(chat, dict) else None
        return Answer(summary=f"message {mid} in chat {chat_id}" if chat_id is not None else f"message {mid}")
    raw_params = data.get("parameters")
    params: dict[str, Any] = raw_params if isinstance(raw_params, dict) else {}
    raw_description = data.get("description")
    description = http.one_line(raw_description) if isinstance(raw_description, str) else ""
    said = f" ({description})" if description else ""
    migrate = params.get("migrate_to_chat_id")
    if isinstance(migrate, int) and not isinstance(migrate, bool):
        return Answer(migrate_to=migrate)
    retry_after = retry_seconds(params.get("retry_after"))
    if retry_after is not None or status == 429:
        if retry_after is None:
            retry_after = parse_retry_after(response.headers.get("retry-after"), now)
        wait = f"; retry after {retry_after:g}s" if retry_after is not None else ""
        raise DeliveryError(
            f"telegram: HTTP {status} too many requests{wait}", permanent=False, retry_after=retry_after, status=status
        )
    lowered = description.lower()
    if status == 400 and "can't parse entities" in lowered:
        return Answer(unparsable=True)
    for needle, permanent, hint in _DESCRIPTIONS:
        if needle in lowered:
            raise DeliveryError(f"telegram: HTTP {status}{said}: {hint}", permanent=permanent, status=status)
    if status == 401:
        raise DeliveryError(
            f"telegram: HTTP 401{said}: the bot token is invalid or revoked; check bot_token",
            permanent=True,
            status=401,
        )
    if status == 404 and data.get("ok") is False:
        # The Bot API answers 404 for a token it does not know (the method path includes it).
        raise DeliveryError(
            f"telegram: HTTP 404{said}: the bot token is wrong or api_base is not a Bot API server",
            permanent=True,
            status=404,
        )
    if 200 <= status < 300:
        raise DeliveryError(f"telegram: unexpected answer (HTTP {status}): {http.excerpt(response)}", status=status)
    if status == 400 and description:
        raise DeliveryError(
            f"telegram: HTTP 400{said}: Telegram rejected the message; check chat_id and message_thread_id",
            permanent=True,
            status=status,
        )
    raise http.classify_for("telegram", response, now=now)


class TelegramChannel:
    def __init__(self, spec: ChannelSpec, ctx: ChannelContext) -> None:
        self.spec = spec
        self._options = TelegramOptions.model_validate(dict(spec.options))
        self._http = ctx.client()
        # The token is in the path; http.post and http.excerpt never show more than scheme://host.
        self._url = f"{self._options.api_base}/bot{self._options.bot_token}/sendMessage"

    async def send(self, message: Message) -> str:
        o = self._options
        body = payload(
            message,
            chat_id=o.chat_id,
            channel_timezone=self.spec.timezone,
            disable_notification=o.disable_notification,
            message_thread_id=o.message_thread_id,
        )
        notes: list[str] = []
        migrated = plain = False
        while True:
            response, now = await http.post_json(self._http, self._url, body)
            answer = classify(response, now=now)
            if answer.summary is not None:
                return "; ".join([answer.summary, *notes])
            if answer.migrate_to is not None and not migrated:
                migrated = True
                log.warning(
                    "telegram channel %s: chat %s became supergroup %s; set chat_id: %s in the calendar",
                    self.spec.id,
                    body["chat_id"],
                    answer.migrate_to,
                    answer.migrate_to,
                )
                notes.append(f"the group became a supergroup: set chat_id: {answer.migrate_to}")
                body = {**body, "chat_id": answer.migrate_to}
                continue
            if answer.unparsable and not plain:
                plain = True
                notes.append("sent as plain text because Telegram rejected the HTML")
                body = {k: v for k, v in body.items() if k != "parse_mode"} | {"text": _plain(body["text"])}
                continue
            what = (
                f"chat moved again to {answer.migrate_to}; set chat_id: {answer.migrate_to}"
                if answer.migrate_to is not None
                else "Telegram rejected the message even as plain text; this is an alertd bug, please report it"
            )
            raise DeliveryError(
                f"telegram: HTTP {response.status_code}: {what}", permanent=True, status=response.status_code
            )


def _build(spec: ChannelSpec, ctx: ChannelContext) -> Channel:
    return TelegramChannel(spec, ctx)


# About one message per second per chat (short bursts tolerated); one at a time keeps the chat in due order.
TYPE = ChannelType(name="telegram", options=TelegramOptions, build=_build, concurrency=1, rate=1.0, burst=3)

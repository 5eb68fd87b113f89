"""``discord``: execute a Discord webhook with one embed, waiting for Discord to confirm the message was saved.

``?wait=true`` turns the default ``204`` (which Discord sends even when the message is silently dropped) into
``200`` with the created message. ``allowed_mentions: {parse: []}`` means event text can never ping anyone.
Errors are JSON ``{"code", "message"}``; a 429 carries ``retry_after`` in seconds (a float) in the body and
``Retry-After`` in whole seconds as a header.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import httpx
from pydantic import ConfigDict, Field, field_validator

from alertd.channels import budget, http
from alertd.channels.base import Channel, ChannelContext, ChannelType, Options
from alertd.channels.retry_after import parse_retry_after, retry_seconds
from alertd.channels.words import and_more, sent_late, status_word
from alertd.domain import ChannelSpec, CountdownLine, EventSpec, Kind, Message
from alertd.errors import DeliveryError
from alertd.messages import format_when, phrases
from alertd.timeexpr import zone

__all__ = ["COLOURS", "TYPE", "DiscordChannel", "DiscordOptions", "classify", "escape", "payload"]

# Embed limits (Discord "Embed Limits"); a violation is a 400, so every text is cut to fit before sending.
TITLE_MAX = 256
DESCRIPTION_MAX = 4096
FIELD_NAME_MAX = 256
FIELD_VALUE_MAX = 1024
FOOTER_MAX = 2048
USERNAME_MAX = 80
EMBED_TOTAL_MAX = 6000

COLOURS: dict[Kind, int] = {
    "reminder": 0x3498DB,
    "countdown": 0x9B59B6,
    "change": 0xE67E22,
    "test": 0x95A5A6,
    "admin": 0xE74C3C,
    "ack": 0x2ECC71,
    "escalation": 0xE74C3C,
}
# Markdown and mention syntax; a backslash makes Discord show the character as it is.
_SPECIAL = re.compile(r"([\\*_~`|>#\[\]<])")
# Sources that are safe to use as a link target as they are (Discord answers 400 to a malformed embed URL).
_LINK = re.compile(r"^https?://[^\s<>\"{}|\\^`()]+$")

_NEW_WEBHOOK = "create a new webhook and update the channel url"
# Discord JSON error code → (permanent, what it means and what to do)
_CODES: dict[int, tuple[bool, str]] = {
    10015: (True, f"the webhook was deleted (Unknown Webhook); {_NEW_WEBHOOK}"),
    50027: (True, f"the webhook token is invalid; {_NEW_WEBHOOK}"),
    50035: (True, "Discord rejected the message format (Invalid Form Body); this is an alertd bug, please report it"),
    220001: (True, "the webhook points at a forum channel; set thread_id to the thread to post in"),
}
_STATUSES: dict[int, str] = {
    401: f"Discord refused the webhook token; {_NEW_WEBHOOK}",
    403: "Discord forbids this webhook to post here; check the channel's permissions or create a new webhook",
    404: f"the webhook no longer exists; {_NEW_WEBHOOK} (Discord restricts clients that keep using it)",
}


class DiscordOptions(Options):
    # The webhook URL carries the token: keep it out of reprs and validation errors.
    model_config = ConfigDict(hide_input_in_errors=True)

    url: str = Field(repr=False)
    username: str | None = Field(default=None, min_length=1, max_length=USERNAME_MAX)
    avatar_url: str | None = None
    thread_id: str | None = Field(default=None, pattern=r"^\d+$")

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        return http.check_url(value, what="Discord webhook")

    @field_validator("avatar_url")
    @classmethod
    def _avatar(cls, value: str | None) -> str | None:
        return None if value is None else http.check_url(value, what="avatar")


def escape(text: str) -> str:
    """Backslash-escape Markdown, timestamp and mention syntax so user text shows exactly as written."""
    return _SPECIAL.sub(r"\\\1", text)


def _fit(text: str, limit: int) -> str:
    """``escape(text)`` cut with … to at most ``limit`` characters, never between a backslash and its character."""
    return budget.cut(text, limit, escape=escape)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _stamp(event: EventSpec, style: str) -> str:
    # Discord renders <t:unix:style> in each reader's own zone and language.
    return f"<t:{int(event.starts_at.timestamp())}:{style}>"


def _fields(message: Message, event: EventSpec, channel_timezone: str) -> list[dict[str, Any]]:
    locale = message.locale
    p = phrases(locale)
    fields = [{"name": p.label_when, "value": escape(format_when(event, locale=locale)), "inline": False}]
    here = format_when(event, channel_timezone, locale=locale) if channel_timezone != event.timezone else ""
    if not event.all_day:
        local = f"{escape(here)}\n" if here else ""
        fields.append({"name": p.label_your_time, "value": f"{local}{_stamp(event, 'F')}", "inline": False})
    elif here:
        # An all-day date is a stretch of the channel's time; a <t:…> stamp would show one instant of it.
        fields.append({"name": p.label_your_time, "value": escape(here), "inline": False})
    if message.countdown is not None:
        live = "" if event.all_day else f" ({_stamp(event, 'R')})"
        fields.append({"name": p.label_countdown, "value": escape(message.countdown.text) + live, "inline": True})
    fields.append({"name": p.label_status, "value": escape(status_word(event.status, locale)), "inline": True})
    if event.tags:
        fields.append({"name": p.label_tags, "value": _fit(", ".join(event.tags), FIELD_VALUE_MAX), "inline": True})
    if event.source:
        fields.append({"name": p.label_source, "value": _source(event.source), "inline": False})
    return [{**f, "value": _cut(str(f["value"]), FIELD_VALUE_MAX)} for f in fields]


def _source(source: str) -> str:
    # A link whose target would not fit in the field is shown as (cut) text rather than as a broken link.
    if _LINK.match(source) and len(source) <= FIELD_VALUE_MAX // 2:
        label = http.redact(source).split("://", 1)[1].split("/", 1)[0]
        return f"[{escape(label)}]({source})"
    return _fit(source, FIELD_VALUE_MAX)


def _digest(lines: tuple[CountdownLine, ...], limit: int, locale: str) -> str:
    rows: list[str] = []
    for line in lines:
        word = status_word(line.event.status, locale)
        status = "" if line.event.status == "confirmed" else f" *({escape(word)})*"
        rows.append(f"• **{_fit(line.event.title, 200)}** — {escape(line.text)} ({escape(line.day_text)}){status}")
    text = budget.fit_list(rows, lambda shown: len(shown) <= limit, lambda left: escape(and_more(left, locale)))
    return text or f"*{escape(phrases(locale).nothing_coming_up)}*"


def _description(message: Message, limit: int) -> str:
    if message.kind == "countdown":
        return _digest(message.lines, limit, message.locale)
    # With an event, time, status and source are fields, so only the rendered sentence is kept.
    text = message.text.split("\n", 1)[0] if message.event is not None else message.text
    return _fit(text, limit)


def _footer(message: Message, channel_timezone: str) -> str:
    note = f"alertd {message.kind}" + (f" · {message.offset}" if message.offset else "")
    if message.late:
        due = message.due_at.astimezone(zone(channel_timezone))
        note += f" · {sent_late(due, message.locale)}"
    return _cut(note, FOOTER_MAX)


# A field value holds at most 1,024 characters, the label and Markdown included.
_ACK_LINK_MAX = 900


def payload(message: Message, *, channel_timezone: str | None = None, username: str | None = None) -> dict[str, Any]:
    """The webhook body: one embed, no content, mentions disabled."""
    tz = channel_timezone or message.channel_timezone
    title = _fit(message.title or f"alertd {message.kind}", TITLE_MAX)
    embed: dict[str, Any] = {"title": title, "color": COLOURS[message.kind]}
    event = message.event if message.kind != "countdown" else None
    if event is not None and event.source and _LINK.match(event.source):
        embed["url"] = event.source
    fields = _fields(message, event, tz) if event is not None else []
    if message.ack_url is not None and _LINK.match(message.ack_url) and len(message.ack_url) < _ACK_LINK_MAX:
        # A webhook cannot carry link buttons (components need an application): a Markdown link in a field.
        label = phrases(message.locale).ack_action
        fields.append({"name": label, "value": f"[{label}]({message.ack_url})", "inline": False})
    footer = _footer(message, tz)
    # The 6000-character total covers title, description, field names and values and the footer: the
    # description is the only long part, so it gets whatever the others leave.
    used = len(title) + len(footer) + sum(len(f["name"]) + len(f["value"]) for f in fields)
    embed["description"] = _description(message, max(1, min(DESCRIPTION_MAX, EMBED_TOTAL_MAX - used)))
    if fields:
        embed["fields"] = fields
    embed["footer"] = {"text": footer}
    body: dict[str, Any] = {"embeds": [embed], "allowed_mentions": {"parse": []}}
    if username:
        body["username"] = username
    return body


def classify(response: httpx.Response, *, now: datetime) -> str:
    """Return a summary for a 2xx; otherwise raise, judging Discord's JSON error code before the status."""
    status = response.status_code
    data = http.json_object(response)
    if 200 <= status < 300:
        if status == 200 and isinstance(data.get("id"), str):
            return f"HTTP 200 message {data['id']}"
        # 204 means the wait flag was dropped on the way (a proxy?): accepted, but not confirmed as saved.
        return f"HTTP {status} accepted"
    raw = data.get("message")
    said = http.one_line(raw) if isinstance(raw, str) else http.excerpt(response)
    detail = f" ({said})" if said else ""
    if status == 429:
        # The body's float is more precise than the header's whole seconds; Cloudflare's HTML 429 has neither.
        retry_after = retry_seconds(data.get("retry_after"))
        if retry_after is None:
            retry_after = parse_retry_after(response.headers.get("retry-after"), now)
        scope = "global" if data.get("global") is True else "webhook"
        wait = f"; retry after {retry_after:g}s" if retry_after is not None else ""
        raise DeliveryError(
            f"discord: HTTP 429 rate limited ({scope}){wait}", permanent=False, retry_after=retry_after, status=status
        )
    code = data.get("code")
    if isinstance(code, int) and code in _CODES and 400 <= status < 500:
        permanent, hint = _CODES[code]
        raise DeliveryError(f"discord: HTTP {status} code {code}{detail}: {hint}", permanent=permanent, status=status)
    if status in _STATUSES:
        raise DeliveryError(f"discord: HTTP {status}{detail}: {_STATUSES[status]}", permanent=True, status=status)
    if status == 400 and isinstance(code, int):
        raise DeliveryError(
            f"discord: HTTP 400 code {code}{detail}: Discord rejected the message; this is an alertd bug",
            permanent=True,
            status=status,
        )
    raise http.classify_for("discord", response, now=now)


class DiscordChannel:
    def __init__(self, spec: ChannelSpec, ctx: ChannelContext) -> None:
        self.spec = spec
        self._options = DiscordOptions.model_validate(dict(spec.options))
        self._http = ctx.client()
        params = {"wait": "true"}
        if self._options.thread_id:
            params["thread_id"] = self._options.thread_id
        # Merged into whatever query the user's URL already has.
        self._url = str(httpx.URL(self._options.url).copy_merge_params(params))

    async def send(self, message: Message) -> str:
        body = payload(message, channel_timezone=self.spec.timezone, username=self._options.username)
        if self._options.avatar_url:
            body["avatar_url"] = self._options.avatar_url
        response, now = await http.post_json(self._http, self._url, body)
        return classify(response, now=now)


def _build(spec: ChannelSpec, ctx: ChannelContext) -> Channel:
    return DiscordChannel(spec, ctx)


# 5 requests per 2 s per webhook; one at a time keeps messages in the channel in due order.
TYPE = ChannelType(name="discord", options=DiscordOptions, build=_build, concurrency=1, rate=2.5, burst=5)

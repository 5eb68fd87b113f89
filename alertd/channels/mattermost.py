"""``mattermost``: post to a Mattermost incoming webhook (Slack-compatible JSON, standard Markdown).

Success is HTTP 200 with the body ``ok``. Errors are Mattermost app errors, JSON with a ``message`` such as
"Couldn't find the channel." Rate limiting is off by default; when an admin turns it on the server answers 429.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import httpx
from pydantic import ConfigDict, Field, field_validator

from alertd.channels import budget, http
from alertd.channels.base import Channel, ChannelContext, ChannelType, Options
from alertd.channels.retry_after import parse_retry_after
from alertd.channels.words import and_more, sent_late, status_word
from alertd.domain import ChannelSpec, CountdownLine, EventSpec, Kind, Message
from alertd.errors import DeliveryError
from alertd.messages import format_when, phrases
from alertd.timeexpr import zone

__all__ = ["TEXT_MAX", "TYPE", "MattermostChannel", "MattermostOptions", "classify", "escape", "payload"]

# A longer post is split by the server into several (16,383 characters since server 5.0); one alert stays one
# post, so alertd cuts instead.
TEXT_MAX = 16_383
FIELD_MAX = 2000
_COLOURS: dict[Kind, str] = {
    "reminder": "#3498DB",
    "countdown": "#9B59B6",
    "change": "#E67E22",
    "test": "#95A5A6",
    "admin": "#E74C3C",
    "ack": "#2ECC71",
    "escalation": "#E74C3C",
}
_SPECIAL = re.compile(r"([\\*_~`|>#\[\]<])")
# @channel, @here, @all and @username notify people; a zero-width space after @ keeps event text from pinging.
_MENTION = re.compile(r"@(?=\w)")

# Part of Mattermost's error message → (permanent, what to do). First match wins.
_MESSAGES: tuple[tuple[str, bool, str], ...] = (
    ("couldn't find the channel", True, "check the channel option; the webhook's creator must be a member of it"),
    ("couldn't find the user", True, "check the channel option (@username for a direct message)"),
    ("unable to parse incoming data", True, "Mattermost rejected the message format; this is an alertd bug"),
    ("invalid webhook", True, "the webhook was deleted; create a new one and update the channel url"),
    ("incoming webhooks have been disabled", True, "a system admin turned incoming webhooks off; ask them"),
    ("cannot be used to post to", True, "the webhook is locked to its own channel; remove the channel option"),
)


class MattermostOptions(Options):
    # The webhook URL is the credential: keep it out of reprs and validation errors.
    model_config = ConfigDict(hide_input_in_errors=True)

    url: str = Field(repr=False)
    channel: str | None = Field(default=None, min_length=1)
    username: str | None = Field(default=None, min_length=1)
    icon_url: str | None = None

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        return http.check_url(value, what="Mattermost webhook")

    @field_validator("icon_url")
    @classmethod
    def _icon(cls, value: str | None) -> str | None:
        return None if value is None else http.check_url(value, what="icon")


def escape(text: str) -> str:
    """Backslash-escape Markdown and break mentions, so user text shows as written and pings nobody."""
    return _SPECIAL.sub(r"\\\1", _MENTION.sub("@\u200b", text))


def _fit(text: str, limit: int) -> str:
    """``escape(text)`` cut with … to at most ``limit`` characters, never between a backslash and its character."""
    out: list[str] = []
    size = 0
    # Each character costs at least one, so what lies past ``limit`` can never be shown.
    for char in _MENTION.sub("@\u200b", text[:limit]):
        # Markdown joins single newlines into one paragraph; two spaces before one make it a line break.
        piece = "  \n" if char == "\n" else _SPECIAL.sub(r"\\\1", char)
        if size + len(piece) > limit - 1:
            return "".join(out) + "…"
        out.append(piece)
        size += len(piece)
    return "".join(out)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _fields(message: Message, event: EventSpec, channel_timezone: str) -> list[dict[str, Any]]:
    locale = message.locale
    p = phrases(locale)
    fields = [{"short": False, "title": p.label_when, "value": escape(format_when(event, locale=locale))}]
    there = format_when(event, channel_timezone, locale=locale) if channel_timezone != event.timezone else ""
    if there:
        fields.append({"short": False, "title": channel_timezone, "value": escape(there)})
    if message.countdown is not None:
        fields.append({"short": True, "title": p.label_countdown, "value": escape(message.countdown.text)})
    fields.append({"short": True, "title": p.label_status, "value": escape(status_word(event.status, locale))})
    if event.tags:
        fields.append({"short": True, "title": p.label_tags, "value": _fit(", ".join(event.tags), FIELD_MAX)})
    if event.source and not event.source.startswith(("https://", "http://")):
        fields.append({"short": False, "title": p.label_source, "value": _fit(event.source, FIELD_MAX)})
    return [{**f, "value": _cut(str(f["value"]), FIELD_MAX)} for f in fields]


def _digest(lines: tuple[CountdownLine, ...], limit: int, locale: str) -> str:
    rows: list[str] = []
    for line in lines:
        word = status_word(line.event.status, locale)
        status = "" if line.event.status == "confirmed" else f" _({escape(word)})_"
        rows.append(f"- **{_fit(line.event.title, 200)}** — {escape(line.text)} ({escape(line.day_text)}){status}")
    text = budget.fit_list(rows, lambda shown: len(shown) <= limit, lambda left: "\n" + escape(and_more(left, locale)))
    return text or f"_{escape(phrases(locale).nothing_coming_up)}_"


def payload(
    message: Message,
    *,
    channel_timezone: str | None = None,
    channel: str | None = None,
    username: str | None = None,
    icon_url: str | None = None,
) -> dict[str, Any]:
    """The webhook body: Markdown ``text`` (title and sentence, or the digest) and, for an event, an attachment."""
    tz = channel_timezone or message.channel_timezone
    title = f"#### {_fit(message.title or f'alertd {message.kind}', 500)}"
    event = message.event if message.kind != "countdown" else None
    note = f"alertd {message.kind}" + (f" · {message.offset}" if message.offset else "")
    if message.late:
        due = message.due_at.astimezone(zone(tz))
        note += f" · {sent_late(due, message.locale)}"
    # Without an event the note ends the text ("\n\n_…_"), so it is paid for before the body.
    tail = "" if event is not None else f"\n\n_{escape(note)}_"
    budget = TEXT_MAX - len(title) - 1 - len(tail)
    if message.kind == "countdown":
        body = _digest(message.lines, budget, message.locale)
    else:
        # With an event, time, status and source go in the attachment, so only the rendered sentence is kept.
        sentence = message.text.split("\n", 1)[0] if event is not None else message.text
        body = _fit(sentence, budget)
    out: dict[str, Any] = {"text": (f"{title}\n{body}" if body else title) + tail}
    if event is not None:
        attachment: dict[str, Any] = {
            "fallback": _cut(message.text, 500),
            "color": _COLOURS[message.kind],
            "fields": _fields(message, event, tz),
            "footer": note,
        }
        if message.ack_url is not None and message.ack_url.startswith(("https://", "http://")):
            # Interactive buttons need an integration endpoint: a Markdown link opens the confirm page instead.
            label = phrases(message.locale).ack_action
            attachment["fields"].append({"title": label, "value": f"[{label}]({message.ack_url})", "short": False})
        if event.source and event.source.startswith(("https://", "http://")):
            attachment["title"] = phrases(message.locale).label_source
            attachment["title_link"] = event.source
        out["attachments"] = [attachment]
    if channel:
        out["channel"] = channel
    if username:
        out["username"] = username
    if icon_url:
        out["icon_url"] = icon_url
    return out


def _message(response: httpx.Response) -> str:
    said = http.json_object(response).get("message")
    return http.one_line(said) if isinstance(said, str) else http.excerpt(response)


def classify(response: httpx.Response, *, now: datetime) -> str:
    """Return a summary for ``200 ok``; otherwise raise, judging Mattermost's error message before the status."""
    status = response.status_code
    body = http.excerpt(response)
    if status == 200 and body == "ok":
        return "HTTP 200 ok"
    said = _message(response)
    lowered = said.lower()
    for needle, permanent, hint in _MESSAGES:
        if needle in lowered and not 200 <= status < 300:
            raise DeliveryError(f"mattermost: HTTP {status} ({said}): {hint}", permanent=permanent, status=status)
    if 200 <= status < 300:
        raise DeliveryError(f"mattermost: unexpected answer (HTTP {status}): {body or 'an empty body'}", status=status)
    if status == 429:
        retry_after = parse_retry_after(response.headers.get("retry-after"), now)
        wait = f"; retry after {retry_after:g}s" if retry_after is not None else ""
        raise DeliveryError(
            f"mattermost: HTTP 429 the server's rate limit was hit{wait}",
            permanent=False,
            retry_after=retry_after,
            status=status,
        )
    raise http.classify_for("mattermost", response, now=now)


class MattermostChannel:
    def __init__(self, spec: ChannelSpec, ctx: ChannelContext) -> None:
        self.spec = spec
        self._options = MattermostOptions.model_validate(dict(spec.options))
        self._http = ctx.client()

    async def send(self, message: Message) -> str:
        o = self._options
        body = payload(
            message, channel_timezone=self.spec.timezone, channel=o.channel, username=o.username, icon_url=o.icon_url
        )
        response, now = await http.post_json(self._http, o.url, body)
        return classify(response, now=now)


def _build(spec: ChannelSpec, ctx: ChannelContext) -> Channel:
    return MattermostChannel(spec, ctx)


# Mattermost's rate limiter (off by default) allows 10 requests/s with a burst of 100 when enabled; one at a time
# keeps posts in due order.
TYPE = ChannelType(name="mattermost", options=MattermostOptions, build=_build, concurrency=1, rate=10.0, burst=100)

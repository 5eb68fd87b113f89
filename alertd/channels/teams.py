"""``teams``: post an Adaptive Card 1.4 to a Microsoft Teams Workflows (Power Automate) webhook.

Legacy Office 365 connector URLs are retired, so they are refused when the calendar is checked. The flow runs
asynchronously: success is ``202 Accepted`` with an empty body (``200`` is accepted too), which proves the flow
was triggered, not that the card was posted. Teams drops messages above about 28 KB with a 413, so the card is
trimmed to fit before it is sent.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

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

__all__ = ["MAX_BYTES", "TYPE", "TeamsChannel", "TeamsOptions", "card", "classify", "escape", "payload"]

# "approximately 28 KB" per Microsoft, counting the whole request; a margin keeps alertd clear of the edge.
MAX_BYTES = 27_000
_TEXT_MAX = 20_000
# Tags and a non-link source are facts beside the sentence, not the message: each keeps at most this much.
_FACT_MAX = 1_000
# Longer URLs (a pasted search result) are no use as a button and would eat the card's budget.
_URL_MAX = 2_000
_LEGACY_HOSTS = ("webhook.office.com", "outlook.office.com", "outlook.office365.com")
# Adaptive Card TextBlock colours: a cue to the kind of notification, not its only sign.
_COLOURS: dict[Kind, str] = {
    "reminder": "Accent",
    "countdown": "Default",
    "change": "Warning",
    "test": "Good",
    "admin": "Attention",
    "ack": "Good",
    "escalation": "Attention",
}
# A combining grapheme joiner before a Markdown character stops Teams from reading it as markup, invisibly.
# An underscore inside a word (America/New_York) is not markup, so it is left alone.
_MARKUP = re.compile(r"[*\[\]`]|(?<!\w)_|_(?!\w)")
# Sources that are safe to use as a link target as they are.
_LINK = re.compile(r"^https?://[^\s<>\"{}|\\^`]+$")
# Error codes in a 400's JSON body → what to do.
_CODES: dict[str, str] = {
    "MissingApiVersionParameter": "the URL lost its query string; copy the whole Workflows URL, sig included",
    "DirectApiAuthorizationRequired": "the URL lost its sig parameter; copy the whole Workflows URL",
    "TriggerInputSchemaMismatch": "the flow expects another body; use the 'Post to a channel when a webhook "
    "request is received' template",
}


class TeamsOptions(Options):
    # The URL's ``sig`` parameter is the credential: keep it out of reprs and validation errors.
    model_config = ConfigDict(hide_input_in_errors=True)

    url: str = Field(repr=False)

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        http.check_url(value, what="Teams Workflows")
        host = (urlsplit(value).hostname or "").lower()
        if any(host == h or host.endswith("." + h) for h in _LEGACY_HOSTS):
            raise ValueError(
                "Office 365 connector webhooks are retired; create a Workflows webhook ('Post to a channel when a "
                "webhook request is received') and use its URL"
            )
        # Hosts are not checked further: Microsoft has moved Workflows URLs between domains before.
        return value


def escape(text: str) -> str:
    """User text for a TextBlock or Fact: Markdown characters neutralised, lines kept as lines."""
    # A single newline is not a line break in Adaptive Card Markdown; a blank line is.
    return "\n\n".join(_MARKUP.sub(lambda m: "\u034f" + m.group(0), line) for line in text.split("\n"))


def _cut(text: str, limit: int) -> str:
    return budget.cut(text, limit)


def _iso(instant: datetime) -> str:
    return instant.astimezone(zone("UTC")).strftime("%Y-%m-%dT%H:%M:%SZ")


def _facts(message: Message, event: EventSpec, channel_timezone: str) -> list[dict[str, str]]:
    locale = message.locale
    p = phrases(locale)
    facts = [{"title": p.label_when, "value": escape(format_when(event, locale=locale))}]
    here = format_when(event, channel_timezone, locale=locale) if channel_timezone != event.timezone else ""
    if here:
        facts.append({"title": channel_timezone, "value": escape(here)})
    if not event.all_day:
        # Teams renders these functions in each reader's own zone and language.
        stamp = _iso(event.starts_at)
        facts.append({"title": p.label_your_time, "value": f"{{{{DATE({stamp}, SHORT)}}}} {{{{TIME({stamp})}}}}"})
    if message.countdown is not None:
        facts.append({"title": p.label_countdown, "value": escape(message.countdown.text)})
    facts.append({"title": p.label_status, "value": escape(status_word(event.status, locale))})
    if event.tags:
        facts.append({"title": p.label_tags, "value": escape(_cut(", ".join(event.tags), _FACT_MAX))})
    if event.source and not _linkable(event.source):
        facts.append({"title": p.label_source, "value": escape(_cut(event.source, _FACT_MAX))})
    return facts


def _linkable(source: str) -> bool:
    """A source that can be the card's button as it is (a longer URL is shown cut, as text)."""
    return len(source) <= _URL_MAX and _LINK.match(source) is not None


def _digest(lines: tuple[CountdownLine, ...], keep: int, locale: str) -> dict[str, Any]:
    facts = []
    for line in lines[:keep]:
        status = "" if line.event.status == "confirmed" else f" ({status_word(line.event.status, locale)})"
        when = f"{line.text} ({line.day_text}){status}"
        facts.append({"title": escape(_cut(line.event.title, 200)), "value": escape(when)})
    if keep < len(lines):
        # The fact's title already is the ellipsis, so the phrase's own leading one is not repeated.
        more = and_more(len(lines) - keep, locale).lstrip("…")
        facts.append({"title": "…", "value": escape(more)})
    return {"type": "FactSet", "facts": facts}


def card(
    message: Message, *, channel_timezone: str | None = None, text_max: int = _TEXT_MAX, keep: int | None = None
) -> dict[str, Any]:
    """The Adaptive Card; ``text_max`` and ``keep`` (digest lines) are how :func:`payload` makes it fit."""
    tz = channel_timezone or message.channel_timezone
    title = message.title or f"alertd {message.kind}"
    body: list[dict[str, Any]] = [
        {
            "type": "TextBlock",
            "text": escape(_cut(title, 500)),
            "weight": "Bolder",
            "size": "Medium",
            "color": _COLOURS[message.kind],
            "wrap": True,
        }
    ]
    event = message.event if message.kind != "countdown" else None
    if message.kind == "countdown":
        lines = message.lines
        nothing = _text(phrases(message.locale).nothing_coming_up)
        body.append(_digest(lines, len(lines) if keep is None else keep, message.locale) if lines else nothing)
    else:
        # With an event, time, status and source follow as facts, so only the rendered sentence is kept.
        sentence = message.text.split("\n", 1)[0] if event is not None else message.text
        if sentence:
            body.append(_text(_cut(sentence, text_max)))
    if event is not None:
        body.append({"type": "FactSet", "facts": _facts(message, event, tz)})
    note = f"alertd {message.kind}" + (f" · {message.offset}" if message.offset else "")
    if message.late:
        due = message.due_at.astimezone(zone(tz))
        note += f" · {sent_late(due, message.locale)}"
    body.append({"type": "TextBlock", "text": escape(note), "isSubtle": True, "size": "Small", "wrap": True})
    content: dict[str, Any] = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": body,
    }
    actions: list[dict[str, Any]] = []
    if message.ack_url is not None and _linkable(message.ack_url):
        actions.append({"type": "Action.OpenUrl", "title": phrases(message.locale).ack_action, "url": message.ack_url})
    if event is not None and event.source and _linkable(event.source):
        title = phrases(message.locale).open_source
        actions.append({"type": "Action.OpenUrl", "title": title, "url": event.source})
    if actions:
        content["actions"] = actions
    return content


def _text(text: str) -> dict[str, Any]:
    return {"type": "TextBlock", "text": escape(text), "wrap": True}


def _wrap(content: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "message",
        "attachments": [
            {"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None, "content": content}
        ],
    }


def payload(message: Message, *, channel_timezone: str | None = None) -> dict[str, Any]:
    """The Workflows message wrapper around :func:`card`, fitted to :data:`MAX_BYTES` of JSON.

    A digest keeps as many rows as fit (then "…and N more"); another message keeps as much of its text as fits.
    Both are found by measuring the serialized card, so nothing is estimated and nothing overshoots.
    """

    def build(text_max: int, keep: int) -> dict[str, Any]:
        return _wrap(card(message, channel_timezone=channel_timezone, text_max=text_max, keep=keep))

    def fits(body: dict[str, Any]) -> bool:
        return len(http.json_bytes(body)) <= MAX_BYTES

    if message.kind == "countdown":
        keep = budget.fit_rows(len(message.lines), lambda k: fits(build(_TEXT_MAX, k)))
        return build(_TEXT_MAX, keep)
    longest = min(_TEXT_MAX, len(message.text))
    text_max = budget.fit_rows(longest, lambda n: fits(build(n, 0)))
    return build(text_max, 0)


def classify(response: httpx.Response, *, now: datetime) -> str:
    """Return a summary for any 2xx; otherwise raise, with Power Automate's error code when there is one."""
    status = response.status_code
    if 200 <= status < 300:
        if status == 202:
            return "HTTP 202 accepted (the flow posts the card asynchronously)"
        return f"HTTP {status} accepted"
    error = http.json_object(response).get("error")
    raw_code = error.get("code") if isinstance(error, dict) else None
    code = http.one_line(raw_code, 80) if isinstance(raw_code, str) else None
    if code is not None and status == 400:
        hint = _CODES.get(code, "Teams rejected the card; this is an alertd bug, please report it")
        raise DeliveryError(f"teams: HTTP 400 {code}: {hint}", permanent=True, status=status)
    if status == 413:
        raise DeliveryError(
            "teams: HTTP 413: the card is over Teams' ~28 KB limit; this is an alertd bug, please report it",
            permanent=True,
            status=status,
        )
    if status in (401, 403, 404):
        named = f" {code}" if isinstance(code, str) else ""
        raise DeliveryError(
            f"teams: HTTP {status}{named}: the workflow is deleted, turned off or its URL is wrong; check the flow "
            "in Power Automate (its owner may have left) and update the channel url",
            permanent=True,
            status=status,
        )
    if status == 429:
        retry_after = parse_retry_after(response.headers.get("retry-after"), now)
        wait = f"; retry after {retry_after:g}s" if retry_after is not None else ""
        raise DeliveryError(
            f"teams: HTTP 429 Power Automate is throttling the flow{wait}",
            permanent=False,
            retry_after=retry_after,
            status=status,
        )
    raise http.classify_for("teams", response, now=now)


class TeamsChannel:
    def __init__(self, spec: ChannelSpec, ctx: ChannelContext) -> None:
        self.spec = spec
        self._options = TeamsOptions.model_validate(dict(spec.options))
        self._http = ctx.client()

    async def send(self, message: Message) -> str:
        body = payload(message, channel_timezone=self.spec.timezone)
        # The URL is used exactly as given: dropping its query breaks it (MissingApiVersionParameter).
        response, now = await http.post_json(self._http, self._options.url, body)
        return classify(response, now=now)


def _build(spec: ChannelSpec, ctx: ChannelContext) -> Channel:
    return TeamsChannel(spec, ctx)


# No documented limit for Workflows triggers; the retired connectors throttled above 4 requests/s, the only
# published number. Power Automate does not keep order between runs, so parallel sends gain nothing.
TYPE = ChannelType(name="teams", options=TeamsOptions, build=_build, concurrency=1, rate=4.0, burst=4)

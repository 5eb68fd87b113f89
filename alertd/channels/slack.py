"""``slack``: post to a Slack incoming webhook as Block Kit with mrkdwn.

Success is HTTP 200 with the body ``ok``. Errors are bare strings whose status varies between reports, so they
are classified by the body first and by the status (:func:`alertd.channels.http.classify`) only after that.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx
from pydantic import ConfigDict, Field, field_validator

from alertd.channels import http
from alertd.channels.base import Channel, ChannelContext, ChannelType, Options
from alertd.clock import wall_now
from alertd.domain import ChannelSpec, CountdownLine, EventSpec, Message
from alertd.errors import DeliveryError
from alertd.retry import parse_retry_after
from alertd.timeexpr import zone

__all__ = ["TYPE", "SlackChannel", "SlackOptions", "classify", "escape", "payload"]

# Block Kit limits (docs.slack.dev): header text, section text, one section field, fields per section.
HEADER_MAX = 150
SECTION_MAX = 3000
FIELD_MAX = 2000
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

_NEW_WEBHOOK = "create a new one and update the channel url"
_FORMAT = "Slack rejected the message format; this is an alertd bug, please report it"
# body → (permanent, what it means and what to do)
_ERRORS: dict[str, tuple[bool, str]] = {
    "no_service": (True, f"the webhook is disabled or removed; {_NEW_WEBHOOK}"),
    "no_service_id": (True, f"the webhook URL is incomplete or invalid; {_NEW_WEBHOOK}"),
    "no_active_hooks": (True, f"the webhook is disabled; {_NEW_WEBHOOK}"),
    "no_team": (True, f"the Slack workspace no longer exists; {_NEW_WEBHOOK}"),
    "team_disabled": (True, f"the Slack workspace is disabled; {_NEW_WEBHOOK}"),
    "invalid_token": (
        True,
        f"the webhook's token is no longer valid (its creator may be deactivated); {_NEW_WEBHOOK}",
    ),
    "channel_not_found": (True, f"the webhook's Slack channel no longer exists; {_NEW_WEBHOOK}"),
    "channel_is_archived": (
        True,
        "the Slack channel is archived; unarchive it or create a webhook for another channel",
    ),
    "action_prohibited": (
        True,
        "a workspace admin restricts posting to this channel; ask them or use another channel",
    ),
    "posting_to_general_channel_denied": (True, "only admins may post to this channel; use another channel"),
    "user_not_found": (True, f"the user behind the webhook no longer exists; {_NEW_WEBHOOK}"),
    "invalid_payload": (True, _FORMAT),
    "no_text": (True, _FORMAT),
    "invalid_blocks": (True, _FORMAT),
    "invalid_blocks_format": (True, _FORMAT),
    "too_many_attachments": (True, _FORMAT),
    "missing_text_or_fallback_or_attachments": (True, _FORMAT),
    "rollup_error": (False, "Slack had an internal error; will retry"),
}


class SlackOptions(Options):
    # The webhook URL is the credential: keep it out of reprs and validation errors.
    model_config = ConfigDict(hide_input_in_errors=True)

    url: str = Field(repr=False)

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        return http.check_url(value, what="Slack webhook")


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


def _day(local: datetime) -> str:
    return f"{_DAYS[local.weekday()]} {local.day} {_MONTHS[local.month - 1]}"


def _when(local: datetime) -> str:
    return f"{_day(local)} {local.year} at {local:%H:%M} {local.tzname()}"


def _local(event: EventSpec, timezone: str | None = None) -> datetime:
    return event.starts_at.astimezone(zone(timezone or event.timezone))


def _time_field(event: EventSpec, channel_timezone: str) -> str:
    here = _local(event)
    if event.all_day:
        # An all-day date is the same date wherever the reader is, so it is not converted.
        return f"*When*\n{_day(here)} {here.year} (all day, {event.timezone})"
    lines = [f"*When*\n{_when(here)} ({event.timezone})"]
    there = _local(event, channel_timezone)
    if there.utcoffset() != here.utcoffset():
        unix = int(event.starts_at.timestamp())
        # Slack renders the token in each reader's zone; the fallback is the channel's zone.
        lines.append(f"<!date^{unix}^{{date_short_pretty}} at {{time}}|{_when(there)} ({channel_timezone})>")
    return "\n".join(lines)


def _source(source: str) -> str:
    if source.startswith(("https://", "http://")):
        label = http.redact(source).split("://", 1)[1].split("/", 1)[0]
        return f"<{escape(source).replace('|', '%7C')}|{escape(label)}>"
    return escape(source)


def _fields(event: EventSpec, channel_timezone: str) -> list[dict[str, str]]:
    texts = [_time_field(event, channel_timezone), f"*Status*\n{escape(event.status)}"]
    if event.tags:
        texts.append("*Tags*\n" + escape(", ".join(event.tags)))
    if event.source:
        texts.append(f"*Source*\n{_source(event.source)}")
    return [{"type": "mrkdwn", "text": _plain(t, FIELD_MAX)} for t in texts]


def _digest(lines: tuple[CountdownLine, ...]) -> str:
    rows: list[str] = []
    for line in lines:
        status = "" if line.event.status == "confirmed" else f" _({escape(line.event.status)})_"
        rows.append(f"• *{_fit(line.event.title, 200)}* — {escape(line.text)} ({_day(_local(line.event))}){status}")
    text = "\n".join(rows)
    while len(text) > SECTION_MAX and rows:
        rows.pop()
        text = "\n".join(rows) + f"\n…and {len(lines) - len(rows)} more"
    return text or "_nothing coming up_"


def _body_text(message: Message) -> str:
    # The rendered text is plain: a sentence (for a change notice, what changed), then the event's time,
    # status and source. With an event those follow as fields, so only the sentence is kept.
    if message.event is not None:
        return message.text.split("\n", 1)[0]
    return message.text


def payload(message: Message, *, channel_timezone: str | None = None) -> dict[str, Any]:
    """The Slack webhook body: plain fallback ``text`` plus Block Kit ``blocks``."""
    tz = channel_timezone or message.channel_timezone
    digest = message.kind == "countdown"
    title = message.title or f"alertd {message.kind}"  # Slack rejects an empty header
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": _plain(title, HEADER_MAX), "emoji": True}},
    ]
    section = _digest(message.lines) if digest else _fit(_body_text(message), SECTION_MAX)
    if section:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": section}})
    if message.event is not None and not digest:
        blocks.append({"type": "section", "fields": _fields(message.event, tz)})
    note = f"alertd {message.kind}" + (f" · {escape(message.offset)}" if message.offset else "")
    if message.late:
        note += f" · sent late (was due {_when(message.due_at.astimezone(zone(tz)))})"
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": note}]})
    # The fallback is the whole plain text (notifications, screen readers); Slack still parses it for <…>
    # mentions and links, hence the escaping.
    text = f"{title}\n{message.text}" if digest else message.text or title
    return {"text": _fit(text, SECTION_MAX), "blocks": blocks}


def classify(response: httpx.Response, *, now: datetime) -> None:
    """Return for ``200 ok``; otherwise raise, judging Slack's error string before the status."""
    status = response.status_code
    body = http.excerpt(response)
    if status == 200 and body == "ok":
        return
    known = _ERRORS.get(body)
    if known is not None:
        permanent, hint = known
        retry_after = None if permanent else parse_retry_after(response.headers.get("retry-after"), now)
        raise DeliveryError(
            f"slack: {body} (HTTP {status}): {hint}",
            permanent=permanent,
            retry_after=retry_after,
            status=status,
        )
    if 200 <= status < 300:
        said = body or "an empty body"
        raise DeliveryError(f"slack: unexpected answer (HTTP {status}): {said}; will retry", status=status)
    try:
        http.classify(response, now=now)
    except DeliveryError as exc:
        raise DeliveryError(
            f"slack: {exc}", permanent=exc.permanent, retry_after=exc.retry_after, status=exc.status
        ) from None
    raise DeliveryError(f"slack: unexpected answer (HTTP {status})", status=status)  # pragma: no cover


class SlackChannel:
    def __init__(self, spec: ChannelSpec, ctx: ChannelContext) -> None:
        self.spec = spec
        self._options = SlackOptions.model_validate(dict(spec.options))
        self._http = ctx.http

    async def send(self, message: Message) -> str:
        body = http.json_bytes(payload(message, channel_timezone=self.spec.timezone))
        headers = {"content-type": "application/json"}
        # Real time, not the (possibly virtual) ``sent_at``: an HTTP-date Retry-After is measured against it.
        now = wall_now()
        response = await http.post(self._http, self._options.url, content=body, headers=headers, now=now)
        classify(response, now=now)
        return "HTTP 200 ok"


def _build(spec: ChannelSpec, ctx: ChannelContext) -> Channel:
    return SlackChannel(spec, ctx)


TYPE = ChannelType(name="slack", options=SlackOptions, build=_build)

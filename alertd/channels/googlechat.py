"""``googlechat``: post to a Google Chat incoming webhook as a short text plus a cardsV2 card.

Every message about one event carries the same ``thread.threadKey`` and the URL asks for
``messageReplyOption=REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD``, so an event's reminders and change notices
gather in one thread (daily digests share one too). Success is HTTP 200 with the created Message JSON; errors
are Google API JSON ``{"error": {"code", "message", "status"}}``. The URL's ``token`` is the credential.
"""

from __future__ import annotations

import html
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx
from pydantic import ConfigDict, Field, field_validator

from alertd.channels import budget, http
from alertd.channels.base import Channel, ChannelContext, ChannelType, Options
from alertd.channels.words import and_more, sent_late, status_word
from alertd.domain import ChannelSpec, EventSpec, Message
from alertd.errors import DeliveryError
from alertd.messages import format_when, phrases
from alertd.timeexpr import zone

__all__ = ["TYPE", "GoogleChatChannel", "GoogleChatOptions", "classify", "encode", "payload", "post_url", "thread_key"]

# A message, cards included, is at most 32,000 bytes; text pieces are kept well inside it.
MESSAGE_BYTES = 32_000
TEXT_MAX = 4_000
TITLE_MAX = 200
_ROW_TITLE_MAX = 200
# A longer URL is no use as a button; it is shown (cut) as text instead.
_URL_MAX = 2_000
_REPLY = ("messageReplyOption", "REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD")
_NEW_WEBHOOK = "create a new webhook in the space (Apps & integrations) and update the channel url"
# Google's error status → what it means and what to do (the HTTP status decides whether to retry).
_STATUS: dict[str, str] = {
    "INVALID_ARGUMENT": "Google Chat rejected the message; if the URL is complete, this is an alertd bug",
    "UNAUTHENTICATED": f"the webhook's key or token is not valid; {_NEW_WEBHOOK}",
    "PERMISSION_DENIED": f"the webhook was removed or is not allowed in the space; {_NEW_WEBHOOK}",
    "NOT_FOUND": f"the space or webhook no longer exists; {_NEW_WEBHOOK}",
    "RESOURCE_EXHAUSTED": "the space's quota (60 messages a minute, shared by all its apps) is used up",
    "UNAVAILABLE": "Google Chat is unavailable for now",
    "INTERNAL": "Google Chat had an internal error",
}


class GoogleChatOptions(Options):
    # The webhook URL is the credential: keep it out of reprs and validation errors.
    model_config = ConfigDict(hide_input_in_errors=True)

    url: str = Field(repr=False)

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        http.check_url(value, what="Google Chat webhook")
        query = dict(parse_qsl(urlsplit(value).query))
        if not query.get("key") or not query.get("token"):
            raise ValueError("the Google Chat webhook URL lacks its key or token; copy the whole URL from the space")
        return value


def post_url(url: str, threaded: bool) -> str:
    """The webhook URL, with the reply option added when the message has a thread key (the user's own wins)."""
    if not threaded:
        return url
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    if any(name == _REPLY[0] for name, _ in query):
        return url
    return urlunsplit(parts._replace(query=urlencode([*query, _REPLY])))


def thread_key(message: Message) -> str | None:
    """One thread per event, one for the daily digests; a test message stands alone."""
    if message.event is not None:
        return f"alertd-event-{message.event.id}"
    if message.kind == "countdown":
        return "alertd-countdown"
    return None


def _plain(text: str, limit: int) -> str:
    return budget.cut(text, limit)


def _chat_text(text: str) -> str:
    # Chat turns <users/all> into a mention of everyone and <url|label> into a link; a zero-width space after
    # each "<" keeps user text from doing either while looking the same.
    return text.replace("<", "<\u200b")


def _card_text(text: str, limit: int) -> str:
    # Card text is a small HTML subset, so user text is escaped after cutting (never inside an entity).
    return html.escape(_plain(text, limit), quote=False).replace("\n", "<br>")


def _event_widgets(event: EventSpec, channel_timezone: str, locale: str) -> list[dict[str, Any]]:
    p = phrases(locale)
    when = format_when(event, locale=locale)
    there = format_when(event, channel_timezone, locale=locale)
    if there and there != when:
        when = f"{when}\n{there}"
    rows = [(p.label_when, when), (p.label_status, status_word(event.status, locale))]
    if event.tags:
        rows.append((p.label_tags, ", ".join(event.tags)))
    widgets: list[dict[str, Any]] = [
        {"decoratedText": {"topLabel": label, "text": _card_text(value, 1000), "wrapText": True}}
        for label, value in rows
    ]
    if event.source and event.source.startswith(("https://", "http://")) and len(event.source) <= _URL_MAX:
        button = {"text": p.open_source, "onClick": {"openLink": {"url": event.source}}}
        widgets.append({"buttonList": {"buttons": [button]}})
    elif event.source:
        widgets.append({"decoratedText": {"topLabel": p.label_source, "text": _card_text(event.source, 1000)}})
    return widgets


def _rows(message: Message) -> list[str]:
    return [f"• {_plain(line.event.title, _ROW_TITLE_MAX)} — {line.text}" for line in message.lines]


def _body(message: Message) -> str:
    # With an event, its time and status follow as card rows, so only the first sentence is kept.
    if message.kind == "countdown" and message.lines:
        return "\n".join(_rows(message))
    if message.event is not None:
        return message.text.split("\n", 1)[0]
    return message.text


def payload(
    message: Message, *, channel_timezone: str | None = None, body_max: int = TEXT_MAX, body: str | None = None
) -> dict[str, Any]:
    """The webhook body: ``text`` (what notifications show), one card with the details, the thread key.

    ``body`` replaces the card's text (:func:`encode` passes the digest rows that fit).
    """
    tz = channel_timezone or message.channel_timezone
    title = message.title or f"alertd {message.kind}"
    note = f"alertd {message.kind}" + (f" · {message.offset}" if message.offset else "")
    if message.late:
        note += f" · {sent_late(message.due_at.astimezone(zone(tz)), message.locale)}"
    widgets: list[dict[str, Any]] = []
    body = _body(message) if body is None else body
    if body:
        widgets.append({"textParagraph": {"text": _card_text(body, body_max)}})
    if message.event is not None and message.kind != "countdown":
        widgets.extend(_event_widgets(message.event, tz, message.locale))
    if message.ack_url is not None and len(message.ack_url) <= _URL_MAX:
        button = {"text": phrases(message.locale).ack_action, "onClick": {"openLink": {"url": message.ack_url}}}
        widgets.append({"buttonList": {"buttons": [button]}})
    card: dict[str, Any] = {"header": {"title": _plain(title, TITLE_MAX), "subtitle": note}}
    if widgets:
        card["sections"] = [{"widgets": widgets}]
    out: dict[str, Any] = {
        "text": _chat_text(_plain(f"*{title}*", TITLE_MAX + 2)),
        "cardsV2": [{"cardId": "alertd", "card": card}],
    }
    key = thread_key(message)
    if key is not None:
        out["thread"] = {"threadKey": key}
    return out


def encode(message: Message, *, channel_timezone: str | None = None) -> bytes:
    """The exact bytes to send, at most 32,000: a digest keeps the rows that fit (then "…and N more"), another
    message as much of its text as fits."""

    def size(body_max: int = TEXT_MAX, body: str | None = None) -> int:
        return len(http.json_bytes(payload(message, channel_timezone=channel_timezone, body_max=body_max, body=body)))

    if message.kind == "countdown" and message.lines:
        rows = budget.fit_list(
            _rows(message),
            lambda text: len(text) <= TEXT_MAX and size(body=text) <= MESSAGE_BYTES,
            lambda left: and_more(left, message.locale),
        )
        return http.json_bytes(payload(message, channel_timezone=channel_timezone, body=rows))
    longest = min(TEXT_MAX, len(_body(message)))
    body_max = budget.fit_rows(longest, lambda n: size(body_max=n) <= MESSAGE_BYTES)
    return http.json_bytes(payload(message, channel_timezone=channel_timezone, body_max=body_max))


def _google_error(response: httpx.Response) -> tuple[str, str]:
    """Google's error ``status`` and ``message``, if the body is the API's error JSON."""
    error = http.json_object(response).get("error")
    if not isinstance(error, dict):
        return "", ""
    status, text = error.get("status"), error.get("message")
    return (http.one_line(status, 80) if isinstance(status, str) else ""), (
        http.one_line(text) if isinstance(text, str) else ""
    )


def _secrets(url: str) -> list[str]:
    return [v for k, v in parse_qsl(urlsplit(url).query) if k in ("key", "token") and len(v) > 3]


def classify(response: httpx.Response, *, now: datetime, url: str = "") -> str:
    """Return a summary for 2xx; otherwise raise, by Google's error status, then by HTTP status."""
    status = response.status_code
    if 200 <= status < 300:
        name = http.json_object(response).get("name")
        return f"HTTP {status} {name}" if isinstance(name, str) else f"HTTP {status}"
    code, text = _google_error(response)
    try:
        http.classify(response, now=now)
    except DeliveryError as exc:
        # The HTTP status decides (429 and 5xx transient, 400/401/403/404 permanent); Google's status explains.
        hint = _STATUS.get(code)
        if hint is None:
            said = f"googlechat: {exc}"
        else:
            wait = f" (retry after {exc.retry_after:g}s)" if exc.retry_after is not None else ""
            said = f"googlechat: HTTP {status} {code}{wait}" + (f": {text}" if text else "") + f"; {hint}"
        # The body is Google's; should it ever quote the key or token, they go no further.
        for secret in _secrets(url):
            said = said.replace(secret, "…")
        raise DeliveryError(said, permanent=exc.permanent, retry_after=exc.retry_after, status=status) from None
    raise DeliveryError(f"googlechat: unexpected answer (HTTP {status})", status=status)  # pragma: no cover


class GoogleChatChannel:
    def __init__(self, spec: ChannelSpec, ctx: ChannelContext) -> None:
        self.spec = spec
        self._options = GoogleChatOptions.model_validate(dict(spec.options))
        self._http = ctx.client()

    async def send(self, message: Message) -> str:
        body = encode(message, channel_timezone=self.spec.timezone)
        url = post_url(self._options.url, thread_key(message) is not None)
        response, now = await http.post_json(
            self._http, url, body, headers={"content-type": "application/json; charset=UTF-8"}
        )
        return classify(response, now=now, url=url)


def _build(spec: ChannelSpec, ctx: ChannelContext) -> Channel:
    return GoogleChatChannel(spec, ctx)


# 60 message writes a minute per space, shared by every app and webhook in it: 1/s with no burst.
TYPE = ChannelType(name="googlechat", options=GoogleChatOptions, build=_build, concurrency=2, rate=1.0, burst=1)

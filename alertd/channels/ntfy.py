"""``ntfy``: publish to an ntfy topic as JSON (POST to the server root with ``{"topic": …}``).

JSON publishing rather than ``X-Title`` headers: httpx encodes header values as ASCII, so a title such as
"US–China truce" would fail before it was sent. Success is HTTP 200 with the message JSON. Errors are JSON
``{"code": 42901, "http": 429, "error": "…"}`` with no ``Retry-After``, so they are classified by ``code`` first.

The topic is effectively a password (anyone who knows it can read it) and is never shown in messages.
"""

from __future__ import annotations

import base64
import re
from datetime import datetime
from typing import Any, Literal

import httpx
from pydantic import ConfigDict, Field, field_validator, model_validator

from alertd.channels import budget, http
from alertd.channels.base import Channel, ChannelContext, ChannelType, Options
from alertd.channels.words import and_more
from alertd.domain import ChannelSpec, Kind, Message
from alertd.errors import DeliveryError
from alertd.messages import phrases

__all__ = ["DEFAULT_PRIORITY", "TYPE", "NtfyChannel", "NtfyOptions", "classify", "payload"]

# ntfy's default ``message-size-limit``; a longer message is turned into an attachment (or refused), so cut it.
MESSAGE_LIMIT = 4096
# No documented title limit; a notification shade shows far less than this anyway.
TITLE_MAX = 250
# ntfy refuses a JSON body over 32 KB (41303); the message is at most message_limit bytes, and the rest is kept
# small: an event's first tags, each cut, a click URL only when it is an ordinary length, digest rows cut.
_TAGS_MAX = 10
_TAG_MAX = 100
_URL_MAX = 2_000
_ROW_MAX = 300
# ntfy's request bucket per visitor: 60 at once, then one token every 5 s.
REFILL_SECONDS = 5.0
_TOPIC = re.compile(r"^[-_A-Za-z0-9]{1,64}$")
_PRIORITY_NAMES = {"min": 1, "low": 2, "default": 3, "high": 4, "max": 5, "urgent": 5}
# A reminder or change must be noticed; a daily digest should not buzz.
DEFAULT_PRIORITY: dict[Kind, int] = {
    "reminder": 4,
    "countdown": 3,
    "change": 4,
    "test": 3,
    "admin": 4,
    "ack": 3,
    "escalation": 5,
}
# ntfy turns emoji short codes in tags into emojis in front of the title.
_KIND_TAG: dict[Kind, str] = {
    "reminder": "alarm_clock",
    "countdown": "calendar",
    "change": "warning",
    "test": "white_check_mark",
    "admin": "rotating_light",
    "ack": "white_check_mark",
    "escalation": "rotating_light",
}

_BUG = "ntfy rejected the request format; this is an alertd bug, please report it"
_AUTH = "check the channel's token (or username and password) and that it may publish to the topic"
# ntfy error code → (permanent, what it means and what to do); from ntfy's server/errors.go.
_CODES: dict[int, tuple[bool, str]] = {
    40007: (True, "invalid priority; use 1-5 or min, low, default, high, max in the channel's priority"),
    40009: (True, "the topic is invalid; use 1-64 letters, digits, '-' or '_'"),
    40010: (True, "the server does not allow this topic name; pick another topic"),
    40011: (True, _BUG),
    40017: (True, _BUG),
    40024: (True, _BUG),
    40101: (True, f"unauthorized; {_AUTH}"),
    40301: (True, f"forbidden; {_AUTH}"),
    41303: (True, "the message is too large for this server; lower the channel's message_limit"),
    42901: (False, "too many requests from this host"),
    42904: (True, "the server's topic limit is reached; ask its admin"),
    42908: (False, "the daily message quota is reached (a token or a self-hosted server lifts it)"),
    42909: (False, f"too many failed logins from this host; {_AUTH}"),
    50001: (False, "ntfy had an internal error"),
}

Priority = int | Literal["min", "low", "default", "high", "max", "urgent"]


class NtfyOptions(Options):
    # The topic and the credentials are secrets: keep them out of reprs and validation errors.
    model_config = ConfigDict(hide_input_in_errors=True)

    server: str = "https://ntfy.sh"
    topic: str = Field(repr=False)
    token: str | None = Field(default=None, repr=False)
    username: str | None = None
    password: str | None = Field(default=None, repr=False)
    # Per kind, merged over DEFAULT_PRIORITY.
    priority: dict[Kind, Priority] = Field(default_factory=dict)
    tags: list[str] = Field(default_factory=list)
    message_limit: int = Field(default=MESSAGE_LIMIT, ge=256)

    @field_validator("server")
    @classmethod
    def _server(cls, value: str) -> str:
        return http.check_url(value, what="ntfy server")

    @field_validator("topic")
    @classmethod
    def _topic(cls, value: str) -> str:
        if not _TOPIC.match(value):
            raise ValueError("the ntfy topic must be 1-64 letters, digits, '-' or '_'")
        return value

    @field_validator("priority")
    @classmethod
    def _priority(cls, value: dict[Kind, Priority]) -> dict[Kind, Priority]:
        for level in value.values():
            if isinstance(level, int) and not 1 <= level <= 5:
                raise ValueError("an ntfy priority is 1-5 or min, low, default, high, max, urgent")
        return value

    @model_validator(mode="after")
    def _auth(self) -> NtfyOptions:
        if self.token is not None and (self.username is not None or self.password is not None):
            raise ValueError("give either token or username and password, not both")
        if (self.username is None) != (self.password is None):
            raise ValueError("username and password go together")
        return self

    def level(self, kind: Kind) -> int:
        chosen = self.priority.get(kind, DEFAULT_PRIORITY[kind])
        return chosen if isinstance(chosen, int) else _PRIORITY_NAMES[chosen]

    def root(self) -> str:
        # JSON publishing goes to the root (a server behind a path prefix keeps its prefix).
        return self.server.rstrip("/") + "/"


def _cut(text: str, limit: int) -> str:
    return budget.cut(text, limit)


def _message(message: Message, limit: int) -> str:
    """The plain text in at most ``limit`` UTF-8 bytes: a digest keeps whole rows, then "…and N more"."""
    text = message.text or message.title
    if message.kind != "countdown" or not message.lines:
        return budget.cut(text, limit, measure=budget.utf8)
    rows = [_cut(row, _ROW_MAX) for row in text.split("\n")]
    return budget.fit_list(rows, lambda shown: budget.utf8(shown) <= limit, lambda left: and_more(left, message.locale))


def payload(message: Message, options: NtfyOptions) -> dict[str, Any]:
    """The JSON publish body: topic, title, plain message, tags, priority and a click URL to the source."""
    tags = [_KIND_TAG[message.kind], *options.tags]
    if message.event is not None:
        tags.extend(t for t in message.event.tags[:_TAGS_MAX] if t not in tags)
    body: dict[str, Any] = {
        "topic": options.topic,
        "title": _cut(message.title or f"alertd {message.kind}", TITLE_MAX),
        "message": _message(message, options.message_limit),
        "tags": [_cut(tag, _TAG_MAX) for tag in tags],
        "priority": options.level(message.kind),
    }
    source = message.event.source if message.event is not None else None
    if source and source.startswith(("https://", "http://")) and len(source) <= _URL_MAX:
        body["click"] = source
    if message.ack_url is not None:
        # A "view" action button: ntfy opens the signed link's confirm page (alertd.delivery.links).
        label = phrases(message.locale).ack_action
        body["actions"] = [{"action": "view", "label": label, "url": message.ack_url, "clear": True}]
    return body


def _error(response: httpx.Response) -> tuple[int | None, str]:
    """ntfy's error ``code`` and ``error`` text, if the body is ntfy's error JSON."""
    data = http.json_object(response)
    code = data.get("code")
    text = data.get("error")
    return (code if isinstance(code, int) else None), (http.one_line(text) if isinstance(text, str) else "")


def classify(response: httpx.Response, *, now: datetime) -> str:
    """Return the summary of a 200 message JSON; otherwise raise, judging ntfy's error code before the status."""
    status = response.status_code
    if 200 <= status < 300:
        data = http.json_object(response)
        if isinstance(data.get("id"), str):
            return f"HTTP {status} message {data['id']}"
        # A proxy in front of ntfy answered, not ntfy: nothing says the message was published.
        said = http.excerpt(response) or "an empty body"
        raise DeliveryError(f"ntfy: unexpected answer (HTTP {status}): {said}", status=status)
    code, text = _error(response)
    known = _CODES.get(code) if code is not None else None
    if code is not None and known is not None:
        permanent, hint = known
        retry_after = REFILL_SECONDS if code == 42901 else None
        raise DeliveryError(
            f"ntfy: {code} {text} (HTTP {status}): {hint}",
            permanent=permanent,
            retry_after=None if permanent else retry_after,
            status=status,
        )
    raise http.classify_for("ntfy", response, now=now)


class NtfyChannel:
    def __init__(self, spec: ChannelSpec, ctx: ChannelContext) -> None:
        self.spec = spec
        self._options = NtfyOptions.model_validate(dict(spec.options))
        self._http = ctx.client()

    def _headers(self) -> dict[str, str]:
        headers: dict[str, str] = {}
        options = self._options
        if options.token is not None:
            headers["authorization"] = f"Bearer {options.token}"
        elif options.username is not None and options.password is not None:
            pair = f"{options.username}:{options.password}".encode()
            headers["authorization"] = "Basic " + base64.b64encode(pair).decode("ascii")
        return headers

    async def send(self, message: Message) -> str:
        body = payload(message, self._options)
        response, now = await http.post_json(self._http, self._options.root(), body, headers=self._headers())
        return classify(response, now=now)


def _build(spec: ChannelSpec, ctx: ChannelContext) -> Channel:
    return NtfyChannel(spec, ctx)


# One request per 5 s after a burst of 60 (ntfy's default visitor bucket, as on ntfy.sh).
TYPE = ChannelType(name="ntfy", options=NtfyOptions, build=_build, concurrency=4, rate=1 / REFILL_SECONDS, burst=60)

"""``webhook``: POST the generic JSON payload (SPEC §5), signed per Standard Webhooks when a secret is set.

The ``secret`` is normally ``whsec_<base64>`` (the Standard Webhooks form: the key is the decoded bytes). Any
other string is used as the key as it is, encoded in UTF-8, for receivers configured with a plain passphrase.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import orjson
from pydantic import ConfigDict, Field, field_validator

from alertd.channels import budget, http
from alertd.channels.answers import host, with_excerpt
from alertd.channels.base import Channel, ChannelContext, ChannelType, Options
from alertd.clock import utc, utc_text, wall_now
from alertd.domain import ChannelSpec, CountdownLine, EventSpec, Message

__all__ = [
    "MAX_BYTES",
    "TYPE",
    "WebhookChannel",
    "WebhookOptions",
    "body_bytes",
    "instant",
    "payload",
    "sign",
    "signing_key",
]

_PREFIX = "whsec_"
# A receiver is not a service with published limits; Standard Webhooks asks senders to keep payloads small, and a
# bounded body keeps a digest of hundreds of long events from becoming megabytes. A normal digest fits whole.
MAX_BYTES = 256 * 1024
FIELD_MAX = 2_000
TEXT_MAX = 16_000
TAG_MAX = 200
TAGS_MAX = 50
# Headers alertd owns: a user-supplied value would break signing or the body framing.
_RESERVED = frozenset(
    {"webhook-id", "webhook-timestamp", "webhook-signature", "content-type", "content-length", "host"}
)


def signing_key(secret: str) -> bytes:
    """The HMAC key of a secret: ``whsec_`` + base64 is decoded, anything else is taken as UTF-8 text."""
    if secret.startswith(_PREFIX):
        encoded = secret[len(_PREFIX) :]
        try:
            # Missing padding is tolerated, as the reference library does.
            key = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("the webhook secret after whsec_ is not valid base64") from None
    else:
        key = secret.encode("utf-8")
    if not key:
        raise ValueError("the webhook secret is empty")
    return key


def sign(key: bytes, msg_id: str, timestamp: str, body: bytes) -> str:
    """The ``webhook-signature`` value: ``v1,`` + base64 HMAC-SHA256 of ``id.timestamp.body``."""
    digest = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


class WebhookOptions(Options):
    # The URL and the secret are credentials: keep them out of reprs and validation errors.
    model_config = ConfigDict(hide_input_in_errors=True)

    url: str = Field(repr=False)
    secret: str | None = Field(default=None, repr=False)
    headers: dict[str, str] = Field(default_factory=dict, repr=False)

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        return http.check_url(value, what="webhook")

    @field_validator("secret")
    @classmethod
    def _secret(cls, value: str | None) -> str | None:
        if value is not None:
            signing_key(value)
        return value

    @field_validator("headers")
    @classmethod
    def _headers(cls, value: dict[str, str]) -> dict[str, str]:
        for name, text in value.items():
            if name.lower() in _RESERVED:
                raise ValueError(f"header {name!r} is set by alertd and cannot be overridden")
            if not name.isascii() or not name or any(c in name for c in " :\r\n\t"):
                raise ValueError(f"header name {name!r} is not a valid HTTP header name")
            # httpx encodes header values as ASCII; the value itself may be a credential, so it is not quoted.
            if not text.isascii() or any(c in text for c in "\r\n"):
                raise ValueError(f"header {name!r} must be a single line of ASCII text")
        return value


# Instants in the payload (SPEC §5): ISO 8601 UTC with ``Z`` and whole seconds.
instant = utc_text


def _cut(text: str | None) -> str | None:
    return None if text is None else budget.cut(text, FIELD_MAX)


def _event(event: EventSpec, when: Callable[[datetime], Any] = instant) -> dict[str, Any]:
    return {
        "id": event.id,
        "title": _cut(event.title),
        "starts_at": when(event.starts_at),
        "all_day": event.all_day,
        "timezone": event.timezone,
        "status": event.status,
        "tags": [budget.cut(tag, TAG_MAX) for tag in event.tags[:TAGS_MAX]],
        "source": _cut(event.source),
    }


def _countdown(line: CountdownLine | None) -> dict[str, Any] | None:
    return None if line is None else {"seconds": line.seconds, "text": line.text}


def _jsonable(value: Any, when: Callable[[datetime], Any] = instant) -> Any:
    if isinstance(value, datetime):
        return when(value)
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v, when) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(v, when) for v in value]
    if isinstance(value, str):
        return budget.cut(value, FIELD_MAX)
    return value


def payload(message: Message) -> dict[str, Any]:
    """The generic JSON payload (SPEC §5); countdown digests carry ``events`` instead of ``event``.

    At most :data:`MAX_BYTES`: each text is cut on its own, and a digest keeps the first events that fit,
    ``events_omitted`` saying how many did not.
    """
    digest = message.kind == "countdown"
    body = _fields(message, instant)
    if digest:
        events = [{**_event(line.event), "countdown": _countdown(line)} for line in message.lines]
        # Measured with every event omitted (the count at its widest), then each event costs its JSON and a comma.
        body["events"], body["events_omitted"] = [], len(events)
        room = MAX_BYTES - len(http.json_bytes(body))
        keep = budget.fit_items([len(http.json_bytes(e)) + 1 for e in events], room)
        body["events"], body["events_omitted"] = events[:keep], len(events) - keep
    return body


def _fields(message: Message, when: Callable[[datetime], Any]) -> dict[str, Any]:
    """The payload's fields but a digest's events, with each instant as ``when`` gives it."""
    digest = message.kind == "countdown"
    body: dict[str, Any] = {
        "id": message.id,
        "kind": message.kind,
        "due_at": when(message.due_at),
        "sent_at": when(message.sent_at),
        "late": message.late,
        "event": None if digest or message.event is None else _event(message.event, when),
        "offset": message.offset,
        "countdown": None if digest else _countdown(message.countdown),
        "text": budget.cut(message.text, TEXT_MAX),
        "change": None if message.change is None else _jsonable(message.change, when),
    }
    if message.ack_url is not None:
        # Present only when ALERTD_PUBLIC_URL is set: a signed one-click acknowledgement link.
        body["ack_url"] = message.ack_url
    return body


def body_bytes(message: Message) -> bytes:
    """``json_bytes(payload(message))``, the exact bytes sent and signed.

    Outside digests (whose events are fitted by their encoded size) the instants stay datetimes in UTC and the
    encoder writes them, in the very form :func:`instant` gives: one call, where three texts made apart and copied
    in cost a quarter of the payload.
    """
    if message.kind == "countdown":
        return http.json_bytes(payload(message))
    return orjson.dumps(_fields(message, _utc), option=_UTC_TEXT)


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo is UTC else utc(value)


# The options alertd.clock.utc_text writes an instant with.
_UTC_TEXT = orjson.OPT_UTC_Z | orjson.OPT_OMIT_MICROSECONDS


class WebhookChannel:
    def __init__(self, spec: ChannelSpec, ctx: ChannelContext) -> None:
        self.spec = spec
        self._options = WebhookOptions.model_validate(dict(spec.options))
        self._key = None if self._options.secret is None else signing_key(self._options.secret)
        self._http = ctx.client()
        self._answer = f"from {host(self._options.url)}"

    async def send(self, message: Message) -> str:
        body = body_bytes(message)
        # Standard Webhooks: the timestamp is the attempt's, so every retry is signed afresh. It is the real time,
        # not ``sent_at``: receivers check it against their own clock (±5 min), and under ``--replay-from``
        # ``sent_at`` is virtual. The same goes for the HTTP-date form of Retry-After.
        attempted = wall_now()
        timestamp = str(int(attempted.timestamp()))
        headers = {
            **self._options.headers,
            "content-type": "application/json",
            "webhook-id": message.id,
            "webhook-timestamp": timestamp,
        }
        if self._key is not None:
            headers["webhook-signature"] = sign(self._key, message.id, timestamp, body)
        response = await http.post(self._http, self._options.url, content=body, headers=headers, now=attempted)
        http.classify(response, now=attempted)
        return with_excerpt(f"HTTP {response.status_code} {self._answer}", response)


def _build(spec: ChannelSpec, ctx: ChannelContext) -> Channel:
    return WebhookChannel(spec, ctx)


TYPE = ChannelType(name="webhook", options=WebhookOptions, build=_build)

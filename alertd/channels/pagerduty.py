"""``pagerduty``: trigger an alert through the PagerDuty Events API v2 (``POST /v2/enqueue``).

``dedup_key`` is the alertd notification id, so a retried or replayed notification updates the same alert
instead of opening a second incident. Success is **202** (queued: not proof that anyone was paged).
The ``routing_key`` is the credential; it is in the body, never in a URL or a message.
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime
from typing import Any, Literal

import httpx
from pydantic import ConfigDict, Field, field_validator

from alertd.channels import budget, http
from alertd.channels.base import Channel, ChannelContext, ChannelType, Options
from alertd.channels.retry_after import parse_retry_after
from alertd.domain import ChannelSpec, EventSpec, Kind, Message
from alertd.errors import DeliveryError
from alertd.messages import phrases

__all__ = [
    "DEFAULT_SEVERITY",
    "PAYLOAD_MAX",
    "TYPE",
    "PagerDutyChannel",
    "PagerDutyOptions",
    "classify",
    "dedup_key",
    "payload",
]

SUMMARY_MAX = 1024
DEDUP_MAX = 255
# PagerDuty refuses an event over 512 KB; alertd stays well clear of it (bytes of the whole JSON request).
PAYLOAD_MAX = 400_000
# Per text field of an event in custom_details, and of the message text: a digest of hundreds of events with
# long notes must still leave room for the events themselves.
FIELD_MAX = 2_000
TEXT_MAX = 16_000
TAG_MAX = 200
TAGS_MAX = 50
# 429 comes without a documented Retry-After; PagerDuty asks for "a backoff of a few minutes" (other pages of
# its docs say 30 s apart), so a throttled event waits at least this long.
THROTTLE_WAIT = 60.0
_KEY = re.compile(r"^[A-Za-z0-9]{32}$")

Severity = Literal["critical", "error", "warning", "info"]
DEFAULT_SEVERITY: dict[Kind, Severity] = {
    "reminder": "warning",
    "countdown": "info",
    "change": "warning",
    "test": "info",
    "admin": "error",
    "ack": "info",
    "escalation": "error",
}


class PagerDutyOptions(Options):
    # The routing key is the credential: keep it out of reprs and validation errors.
    model_config = ConfigDict(hide_input_in_errors=True)

    routing_key: str = Field(repr=False)
    api_base: str = "https://events.pagerduty.com"
    # Per kind, merged over DEFAULT_SEVERITY.
    severity: dict[Kind, Severity] = Field(default_factory=dict)
    source: str = Field(default="alertd", min_length=1)

    @field_validator("routing_key")
    @classmethod
    def _key(cls, value: str) -> str:
        if not _KEY.match(value):
            raise ValueError("a PagerDuty routing key (integration key) is 32 letters and digits")
        return value

    @field_validator("api_base")
    @classmethod
    def _base(cls, value: str) -> str:
        return http.check_url(value, what="PagerDuty API")

    def url(self) -> str:
        return self.api_base.rstrip("/") + "/v2/enqueue"


def dedup_key(message: Message) -> str:
    """The notification id, hashed only if it were longer than PagerDuty's 255 characters."""
    if len(message.id) <= DEDUP_MAX:
        return message.id
    return "alertd-" + hashlib.sha256(message.id.encode()).hexdigest()


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _field(text: str | None) -> str | None:
    return None if text is None else budget.cut(text, FIELD_MAX)


def _event(event: EventSpec) -> dict[str, Any]:
    return {
        "id": event.id,
        "title": _field(event.title),
        "starts_at": _iso(event.starts_at),
        "all_day": event.all_day,
        "timezone": event.timezone,
        "status": event.status,
        "tags": [budget.cut(tag, TAG_MAX) for tag in event.tags[:TAGS_MAX]],
        "source": _field(event.source),
        "notes": _field(event.notes),
    }


def _details(message: Message) -> dict[str, Any]:
    details: dict[str, Any] = {
        "notification_id": message.id,
        "kind": message.kind,
        "text": budget.cut(message.text, TEXT_MAX),
        "due_at": _iso(message.due_at),
        "late": message.late,
    }
    if message.offset is not None:
        details["offset"] = message.offset
    if message.event is not None:
        details["event"] = _event(message.event)
    if message.countdown is not None:
        details["countdown"] = {"seconds": message.countdown.seconds, "text": message.countdown.text}
    if message.lines:
        details["events"] = [{**_event(line.event), "countdown": line.text} for line in message.lines]
        details["events_omitted"] = 0
    if message.change is not None:
        details["change"] = dict(message.change)
    return details


def _summary(message: Message) -> str:
    text = message.title or message.text.split("\n", 1)[0] or f"alertd {message.kind}"
    text = " ".join(text.split())
    return text if len(text) <= SUMMARY_MAX else text[: SUMMARY_MAX - 1] + "…"


def payload(message: Message, options: PagerDutyOptions) -> dict[str, Any]:
    """The Events API v2 trigger event for ``message``, at most :data:`PAYLOAD_MAX` bytes of JSON.

    Every text field is cut on its own; a digest then keeps as many ``events`` as fit, and ``events_omitted``
    says how many did not (the summary and ``text`` still name them all).
    """
    severity = options.severity.get(message.kind, DEFAULT_SEVERITY[message.kind])
    body: dict[str, Any] = {
        "routing_key": options.routing_key,
        "event_action": "trigger",
        "dedup_key": dedup_key(message),
        "payload": {
            "summary": _summary(message),
            "source": options.source,
            "severity": severity,
            "timestamp": _iso(message.due_at),
            "class": message.kind,
            "custom_details": _details(message),
        },
        "client": "alertd",
    }
    if message.event is not None:
        body["payload"]["component"] = message.event.id
    source = message.event.source if message.event is not None else None
    if source and source.startswith(("https://", "http://")):
        body["links"] = [{"href": source, "text": phrases(message.locale).label_source}]
    details = body["payload"]["custom_details"]
    events = details.get("events")
    if events:
        # Measured with every event omitted (the count at its widest), then each event costs its JSON and a comma.
        details["events"], details["events_omitted"] = [], len(events)
        room = PAYLOAD_MAX - len(http.json_bytes(body))
        keep = budget.fit_items([len(http.json_bytes(e)) + 1 for e in events], room)
        details["events"], details["events_omitted"] = events[:keep], len(events) - keep
    return body


def _answer(response: httpx.Response, routing_key: str) -> tuple[str, str]:
    """PagerDuty's ``message`` and ``errors`` on one line, the routing key removed."""
    data = http.json_object(response)
    said = data.get("message")
    errors = data.get("errors")
    text = said if isinstance(said, str) else ""
    problems = "; ".join(str(e) for e in errors) if isinstance(errors, list) else ""
    if routing_key:
        # PagerDuty does not echo the key today; if it ever did, it must not reach the logs.
        text, problems = text.replace(routing_key, "…"), problems.replace(routing_key, "…")
    return http.one_line(text), http.one_line(problems, 300)


def _dedup_key(response: httpx.Response, routing_key: str) -> str:
    """The ``dedup_key`` PagerDuty filed the event under (alertd's own key; never the routing key)."""
    key = http.json_object(response).get("dedup_key")
    if not isinstance(key, str) or (routing_key and routing_key in key):
        return ""
    return key[:DEDUP_MAX]


def classify(response: httpx.Response, *, now: datetime, routing_key: str = "") -> str:
    """Return a summary for 2xx; otherwise raise: 400 permanent, 429 and 5xx transient, the rest by status."""
    status = response.status_code
    said, errors = _answer(response, routing_key)
    if 200 <= status < 300:
        key = _dedup_key(response, routing_key)
        filed = f" (dedup_key {key})" if key else ""
        # The Events API only queues the event; whether anyone is paged depends on the service's rules.
        return f"HTTP {status} queued{filed}: PagerDuty accepted the event; {status} does not mean anyone was paged yet"
    if status == 400:
        detail = ": ".join(p for p in (said or "invalid event", errors) if p)
        raise DeliveryError(
            f"pagerduty: HTTP 400 {detail}; check the routing key, or report it as an alertd bug",
            permanent=True,
            status=status,
        )
    if status == 429:
        retry_after = parse_retry_after(response.headers.get("retry-after"), now)
        wait = THROTTLE_WAIT if retry_after is None else retry_after
        raise DeliveryError(
            f"pagerduty: HTTP 429 too many events for this integration (retry after {wait:g}s)",
            retry_after=wait,
            status=status,
        )
    raise http.classify_for("pagerduty", response, now=now)


class PagerDutyChannel:
    def __init__(self, spec: ChannelSpec, ctx: ChannelContext) -> None:
        self.spec = spec
        self._options = PagerDutyOptions.model_validate(dict(spec.options))
        self._http = ctx.client()

    async def send(self, message: Message) -> str:
        response, now = await http.post_json(self._http, self._options.url(), payload(message, self._options))
        return classify(response, now=now, routing_key=self._options.routing_key)


def _build(spec: ChannelSpec, ctx: ChannelContext) -> Channel:
    return PagerDutyChannel(spec, ctx)


# About 120 events per minute per integration key (throttles are adjusted dynamically): 2/s, no burst, so a
# minute never exceeds the limit.
TYPE = ChannelType(name="pagerduty", options=PagerDutyOptions, build=_build, concurrency=4, rate=2.0, burst=1)

"""The PagerDuty channel: Events API v2 trigger events keyed by notification id, and PagerDuty's answers."""

from __future__ import annotations

import io
import json
import textwrap
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import ValidationError
from support.factories import make_channel, make_event, make_line, make_message
from support.receiver import Receiver
from support.standins import Standin

from alertd.calendar.load import load_calendar
from alertd.channels import REGISTRY
from alertd.channels.base import ChannelContext
from alertd.channels.http import json_bytes
from alertd.channels.pagerduty import (
    PAYLOAD_MAX,
    SUMMARY_MAX,
    THROTTLE_WAIT,
    TYPE,
    PagerDutyOptions,
    dedup_key,
    payload,
)
from alertd.errors import DeliveryError

KEY = "R0ut1ngKeyR0ut1ngKeyR0ut1ngKey00"
ACCEPTED = json.dumps({"status": "success", "message": "Event processed", "dedup_key": "ntf_01J9Z3ZK7Q"})


def _channel(receiver: Receiver, client: httpx.AsyncClient, **options: Any) -> Any:
    spec = make_channel("pagerduty", options={"routing_key": KEY, "api_base": receiver.base_url, **options})
    return TYPE.build(spec, ChannelContext(http=client, out=io.StringIO(), settings=None))


def test_registered() -> None:
    """The registry maps ``pagerduty`` to this module, paced at PagerDuty's 120 events a minute."""
    assert REGISTRY["pagerduty"] is TYPE
    assert TYPE.rate == 2.0


def test_reminder_payload_exact() -> None:
    """A reminder is a trigger event: dedup_key = notification id, severity by kind, details and a source link."""
    message = make_message()
    assert payload(message, PagerDutyOptions(routing_key=KEY)) == {
        "routing_key": KEY,
        "event_action": "trigger",
        "dedup_key": "ntf_01J9Z3ZK7Q",
        "payload": {
            "summary": "Trade truce expires tomorrow",
            "source": "alertd",
            "severity": "warning",
            "timestamp": "2025-11-09T14:00:00Z",
            "class": "reminder",
            "component": "truce-expiry",
            "custom_details": {
                "notification_id": "ntf_01J9Z3ZK7Q",
                "kind": "reminder",
                "text": "Trade truce expires tomorrow (Mon 10 Nov 2025, all day).",
                "due_at": "2025-11-09T14:00:00Z",
                "late": False,
                "offset": "1d",
                "event": {
                    "id": "truce-expiry",
                    "title": "Trade truce expires",
                    "starts_at": "2025-11-10T05:00:00Z",
                    "all_day": True,
                    "timezone": "America/New_York",
                    "status": "confirmed",
                    "tags": ["trade"],
                    "source": "https://example.org/truce",
                    "notes": None,
                },
                "countdown": {"seconds": 54000, "text": "tomorrow"},
            },
        },
        "client": "alertd",
        "links": [{"href": "https://example.org/truce", "text": "Source"}],
    }


def test_severity_and_source_options() -> None:
    """Severity per kind and the source name come from the options; a digest lists its events."""
    options = PagerDutyOptions(routing_key=KEY, severity={"countdown": "critical"}, source="desk")
    lines = (make_line(), make_line(make_event("vote", title="Vote", source=None), text="in 3 days"))
    body = payload(make_message(kind="countdown", offset=None, lines=lines), options)
    assert (body["payload"]["severity"], body["payload"]["source"]) == ("critical", "desk")
    assert [(e["id"], e["countdown"]) for e in body["payload"]["custom_details"]["events"]] == [
        ("truce-expiry", "tomorrow"),
        ("vote", "in 3 days"),
    ]
    assert "links" not in body


def test_summary_is_cut_to_1024() -> None:
    """PagerDuty's summary limit is 1024 characters."""
    summary = payload(make_message(title="x" * 3000), PagerDutyOptions(routing_key=KEY))["payload"]["summary"]
    assert len(summary) == SUMMARY_MAX
    assert summary.endswith("…")


def test_long_id_is_hashed_to_fit_dedup_key() -> None:
    """A dedup_key is at most 255 characters; the same id always gives the same key."""
    key = dedup_key(make_message(id="n" * 300))
    assert len(key) <= 255
    assert key == dedup_key(make_message(id="n" * 300))
    assert key != dedup_key(make_message(id="n" * 301))


async def test_sends_to_enqueue_and_accepts_202(receiver: Receiver, http_client: httpx.AsyncClient) -> None:
    """The event goes to {api_base}/v2/enqueue as JSON; 202 is success: queued under its dedup_key, not yet paged."""
    receiver.reply(202, ACCEPTED, {"Content-Type": "application/json"})
    message = make_message()
    assert await _channel(receiver, http_client).send(message) == (
        f"HTTP 202 queued (dedup_key {json.loads(ACCEPTED)['dedup_key']}): PagerDuty accepted the event; "
        "202 does not mean anyone was paged yet"
    )
    (request,) = receiver.requests
    assert (request.method, request.path) == ("POST", "/v2/enqueue")
    assert request.headers["content-type"] == "application/json"
    assert request.body == json_bytes(payload(message, PagerDutyOptions(routing_key=KEY)))


async def test_resend_uses_same_dedup_key(receiver: Receiver, http_client: httpx.AsyncClient) -> None:
    """Sending the same notification twice carries the same dedup_key, so PagerDuty keeps one alert."""
    receiver.reply(202, ACCEPTED)
    receiver.reply(202, ACCEPTED)
    channel = _channel(receiver, http_client)
    await channel.send(make_message(id="ntf_same"))
    await channel.send(make_message(id="ntf_same"))
    assert [r.json()["dedup_key"] for r in receiver.requests] == ["ntf_same", "ntf_same"]


INVALID = json.dumps(
    {
        "status": "invalid event",
        "message": "Event object is invalid",
        "errors": ["Length of 'routing_key' is incorrect (should be 32 characters)"],
    }
)
PD_ANSWERS: list[tuple[int, str, dict[str, str], bool, float | None, str]] = [
    (
        400,
        INVALID,
        {},
        True,
        None,
        "pagerduty: HTTP 400 Event object is invalid: Length of 'routing_key' is incorrect",
    ),
    (
        429,
        "",
        {},
        False,
        THROTTLE_WAIT,
        f"pagerduty: HTTP 429 too many events for this integration (retry after {THROTTLE_WAIT:g}s)",
    ),
    (
        429,
        "",
        {"Retry-After": "120"},
        False,
        120,
        "pagerduty: HTTP 429 too many events for this integration (retry after 120s)",
    ),
    (500, "", {}, False, None, "pagerduty: HTTP 500 from 127.0.0.1"),
    (503, "<html>unavailable</html>", {"Content-Type": "text/html"}, False, None, "pagerduty: HTTP 503"),
    (403, "", {}, True, None, "pagerduty: HTTP 403 from 127.0.0.1"),
]


@pytest.mark.parametrize(("status", "body", "headers", "permanent", "retry_after", "start"), PD_ANSWERS)
async def test_pagerduty_answers_over_socket(
    receiver: Receiver,
    http_client: httpx.AsyncClient,
    status: int,
    body: str,
    headers: dict[str, str],
    permanent: bool,
    retry_after: float | None,
    start: str,
) -> None:
    """400 is permanent, 429 waits (Retry-After or a minute), 5xx retries; the routing key never shows."""
    receiver.reply(status, body, headers)
    with pytest.raises(DeliveryError) as info:
        await _channel(receiver, http_client).send(make_message())
    error = info.value
    assert (error.permanent, error.retry_after, error.status) == (permanent, retry_after, status)
    assert str(error).startswith(start)
    assert KEY not in str(error)
    assert "\n" not in str(error)


async def test_echoed_routing_key_is_hidden(receiver: Receiver, http_client: httpx.AsyncClient) -> None:
    """Should PagerDuty ever quote the key in an error, it is removed from the message."""
    receiver.reply(400, json.dumps({"status": "invalid event", "message": f"bad key {KEY}", "errors": [KEY]}))
    with pytest.raises(DeliveryError) as info:
        await _channel(receiver, http_client).send(make_message())
    assert KEY not in str(info.value)


def test_options_reject_unknown_keys_and_bad_key() -> None:
    """Unknown keys are errors; a routing key must be 32 letters and digits and is not repeated."""
    with pytest.raises(ValidationError, match="extra"):
        PagerDutyOptions.model_validate({"routing_key": KEY, "service": "x"})
    with pytest.raises(ValidationError, match="32 letters and digits") as info:
        PagerDutyOptions.model_validate({"routing_key": "short-s3cr3t"})
    assert "s3cr3t" not in str(info.value)
    assert KEY not in repr(PagerDutyOptions(routing_key=KEY))


def test_options_reject_bad_severity_and_api_base() -> None:
    """Severity is one of PagerDuty's four; the API base must be http(s)."""
    with pytest.raises(ValidationError):
        PagerDutyOptions.model_validate({"routing_key": KEY, "severity": {"reminder": "high"}})
    with pytest.raises(ValidationError, match="only http and https"):
        PagerDutyOptions.model_validate({"routing_key": KEY, "api_base": "ftp://events.pagerduty.com"})


def test_calendar_with_pagerduty_channel_loads(tmp_path: Path) -> None:
    """A calendar declaring a PagerDuty channel, its key from the environment, loads through the loader."""
    path = tmp_path / "calendar.yaml"
    path.write_text(
        textwrap.dedent(
            """\
            version: 1
            channels:
              oncall: {type: pagerduty, routing_key: "${PD_KEY}", severity: {reminder: critical}}
            defaults: {notify: [oncall]}
            """
        ),
        encoding="utf-8",
    )
    calendar, warnings = load_calendar(path, environ={"PD_KEY": KEY})
    assert warnings == []
    options = PagerDutyOptions.model_validate(dict(calendar.channels["oncall"].options))
    assert (options.routing_key, options.api_base, options.severity) == (
        KEY,
        "https://events.pagerduty.com",
        {"reminder": "critical"},
    )


async def test_large_digest_stays_under_512_kb(http_client: httpx.AsyncClient) -> None:
    """620 events with long titles, notes and sources: the event stays under alertd's bound (well below
    PagerDuty's 512 KB), says how many events it omitted, and a stand-in enforcing 512 KB accepts it."""
    long = "détails <&> " * 900
    lines = tuple(
        make_line(make_event(f"e{i}", title="x" * 200, notes=long, source=long, tags=(long,) * 5)) for i in range(620)
    )
    message = make_message(kind="countdown", offset=None, lines=lines)
    details = payload(message, PagerDutyOptions(routing_key=KEY))["payload"]["custom_details"]
    assert 0 < len(details["events"]) < 620
    assert details["events_omitted"] == 620 - len(details["events"])
    assert len(json_bytes(payload(message, PagerDutyOptions(routing_key=KEY)))) <= PAYLOAD_MAX
    standin = Standin("pagerduty")
    await standin.start()
    try:
        summary = await _channel(standin, http_client).send(message)
    finally:
        await standin.stop()
    assert summary.startswith("HTTP 202 queued")
    assert standin.refused == []

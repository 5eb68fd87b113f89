"""The Slack incoming-webhook channel: Block Kit formatting and Slack's error strings, over a real socket."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from pydantic import ValidationError
from support.factories import make_channel, make_event, make_line, make_message
from support.receiver import Receiver

from alertd.channels import REGISTRY
from alertd.channels.base import ChannelContext
from alertd.channels.http import json_bytes
from alertd.channels.slack import TYPE, SlackOptions, classify, escape, payload
from alertd.errors import DeliveryError

NOW = datetime(2025, 11, 9, 14, 0, 2, tzinfo=UTC)
TIMED = make_event(
    "vote",
    title="Council vote",
    all_day=False,
    local_start=datetime(2025, 11, 10, 9, 0),
    status="tentative",
    tags=("policy", "eu"),
    source="https://example.org/agenda?id=7&x=<y>",
)


def _channel(receiver: Receiver, client: httpx.AsyncClient, timezone: str = "UTC") -> Any:
    spec = make_channel("slack", id="team", timezone=timezone, options={"url": receiver.url("/services/T/B/t0k3n")})
    return TYPE.build(spec, ChannelContext(http=client, out=io.StringIO(), settings=None))


def _block(body: dict[str, Any], kind: str, index: int = 0) -> dict[str, Any]:
    found: list[dict[str, Any]] = [b for b in body["blocks"] if b["type"] == kind]
    return found[index]


def test_registered() -> None:
    """The registry maps ``slack`` to this module."""
    assert REGISTRY["slack"] is TYPE


def test_reminder_payload_exact() -> None:
    """A reminder is a header, its first sentence, event fields and a context line; fallback is all text."""
    text = "Council vote tomorrow.\nMon 10 Nov 2025 09:00 EST\nStatus: tentative"
    message = make_message(event=TIMED, title="Council vote — tomorrow", text=text)
    assert payload(message, channel_timezone="Europe/Berlin") == {
        "text": text,
        "blocks": [
            {
                "type": "header",
                "text": {"type": "plain_text", "text": "Council vote — tomorrow", "emoji": True},
            },
            {"type": "section", "text": {"type": "mrkdwn", "text": "Council vote tomorrow."}},
            {
                "type": "section",
                "fields": [
                    {
                        "type": "mrkdwn",
                        "text": "*When*\nMon 10 Nov 2025 at 09:00 EST (America/New_York)\n"
                        "<!date^1762783200^{date_short_pretty} at {time}"
                        "|Mon 10 Nov 2025 at 15:00 CET (Europe/Berlin)>",
                    },
                    {"type": "mrkdwn", "text": "*Status*\ntentative"},
                    {"type": "mrkdwn", "text": "*Tags*\npolicy, eu"},
                    {
                        "type": "mrkdwn",
                        "text": "*Source*\n<https://example.org/agenda?id=7&amp;x=&lt;y&gt;|example.org>",
                    },
                ],
            },
            {"type": "context", "elements": [{"type": "mrkdwn", "text": "alertd reminder · 1d"}]},
        ],
    }


def test_same_zone_shows_no_date_token() -> None:
    """When the channel shares the event's UTC offset only the event-zone time is shown."""
    fields = _block(payload(make_message(event=TIMED), channel_timezone="America/Toronto"), "section", 1)["fields"]
    assert fields[0]["text"] == "*When*\nMon 10 Nov 2025 at 09:00 EST (America/New_York)"


def test_all_day_event_is_not_converted() -> None:
    """An all-day date is shown as a date in its own zone, with no time token."""
    fields = _block(payload(make_message(), channel_timezone="Asia/Tokyo"), "section", 1)["fields"]
    assert fields[0]["text"] == "*When*\nMon 10 Nov 2025 (all day, America/New_York)"


def test_user_text_is_escaped_for_mrkdwn() -> None:
    """Only & < > are escaped, so user text cannot ping <!channel> or fake links."""
    body = payload(make_message(title="A & B", text="<!channel> *now* & <https://x|y>"))
    assert _block(body, "section")["text"]["text"] == "&lt;!channel&gt; *now* &amp; &lt;https://x|y&gt;"
    assert body["text"] == "&lt;!channel&gt; *now* &amp; &lt;https://x|y&gt;"
    assert _block(body, "header")["text"]["text"] == "A & B"
    assert escape("a<b>c&d") == "a&lt;b&gt;c&amp;d"


def test_long_title_and_text_are_truncated() -> None:
    """The header stays within 150 chars and the section within 3000, cut with an ellipsis."""
    body = payload(make_message(title="T" * 400, text="&" * 2000))
    header = _block(body, "header")["text"]["text"]
    assert len(header) == 150
    assert header.endswith("…")
    section = _block(body, "section")["text"]["text"]
    assert len(section) <= 3000
    assert section.endswith("&amp;…")


def test_countdown_digest_lists_each_event() -> None:
    """A digest shows one line per event with its countdown and local date, and no event fields."""
    lines = (make_line(text="tomorrow"), make_line(TIMED, seconds=3 * 86400, text="in 3 days"))
    body = payload(make_message(kind="countdown", title="Countdown", text="2 events", offset=None, lines=lines))
    assert [b["type"] for b in body["blocks"]] == ["header", "section", "context"]
    assert _block(body, "section")["text"]["text"] == (
        "• *Trade truce expires* — tomorrow (Mon 10 Nov)\n• *Council vote* — in 3 days (Mon 10 Nov) _(tentative)_"
    )


def test_long_digest_is_cut_with_a_count() -> None:
    """A digest too long for one section ends with how many events were left out."""
    lines = tuple(make_line(make_event(f"e{i}", title="x" * 150)) for i in range(40))
    text = _block(payload(make_message(kind="countdown", lines=lines)), "section")["text"]["text"]
    assert len(text) <= 3000
    assert text.endswith("more")
    shown = text.count("\n• ") + 1
    assert text.endswith(f"…and {40 - shown} more")


def test_change_notice_shows_the_change_text() -> None:
    """A change notice's section is the sentence saying what changed; time and status follow as fields."""
    text = "Truce: moved from Sat 1 Nov 2025 to Mon 10 Nov 2025.\nMon 10 Nov 2025 (all day)"
    change = {"type": "changed", "before": {"status": "confirmed"}, "after": {"status": "confirmed"}}
    body = payload(make_message(kind="change", title="Changed: Truce", text=text, offset=None, change=change))
    assert _block(body, "section")["text"]["text"] == "Truce: moved from Sat 1 Nov 2025 to Mon 10 Nov 2025."
    assert _block(body, "section", 1)["fields"][0]["text"].startswith("*When*\nMon 10 Nov 2025")
    assert body["text"] == text


def test_late_notice_says_so() -> None:
    """A late notification says when it was due, in the channel's zone."""
    body = payload(make_message(late=True), channel_timezone="Europe/Berlin")
    note = _block(body, "context")["elements"][0]["text"]
    assert note == "alertd reminder · 1d · sent late (was due Sun 9 Nov 2025 at 15:00 CET)"


def test_options_reject_other_schemes_without_quoting_url() -> None:
    """Only http(s) webhook URLs are accepted and the error does not echo the URL."""
    with pytest.raises(ValidationError, match="only http and https Slack webhook URLs are allowed") as info:
        SlackOptions.model_validate({"url": "ftp://hooks.slack.com/services/T/B/t0k3n"})
    assert "t0k3n" not in str(info.value)
    assert "t0k3n" not in repr(SlackOptions.model_validate({"url": "https://hooks.slack.com/services/T/B/t0k3n"}))


async def test_sends_exact_payload(receiver: Receiver, http_client: httpx.AsyncClient) -> None:
    """200 ``ok`` is success; the receiver got exactly the Block Kit JSON for the channel's zone."""
    message = make_message(event=TIMED)
    assert await _channel(receiver, http_client, "Europe/Berlin").send(message) == "HTTP 200 ok"
    (request,) = receiver.requests
    assert (request.method, request.path) == ("POST", "/services/T/B/t0k3n")
    assert request.headers["content-type"] == "application/json"
    assert request.body == json_bytes(payload(message, channel_timezone="Europe/Berlin"))


SLACK_ANSWERS: list[tuple[int, str, dict[str, str], bool, float | None, str]] = [
    (
        404,
        "no_service",
        {},
        True,
        None,
        "slack: no_service (HTTP 404): the webhook is disabled or removed; create a new one and update the channel url",
    ),
    (
        400,
        "invalid_blocks",
        {},
        True,
        None,
        "slack: invalid_blocks (HTTP 400): Slack rejected the message format",
    ),
    (429, "", {"Retry-After": "7"}, False, 7, "slack: HTTP 429 from 127.0.0.1"),
    (500, "rollup_error", {}, False, None, "slack: rollup_error (HTTP 500): Slack had an internal error"),
    (
        410,
        "channel_is_archived",
        {},
        True,
        None,
        "slack: channel_is_archived (HTTP 410): the Slack channel is archived",
    ),
    (403, "invalid_token", {}, True, None, "slack: invalid_token (HTTP 403)"),
    (400, "invalid_token", {}, True, None, "slack: invalid_token (HTTP 400)"),
    (200, "not quite", {}, False, None, "slack: unexpected answer (HTTP 200): not quite; will retry"),
    (
        503,
        "<html><b>Service Unavailable</b></html>",
        {"Content-Type": "text/html"},
        False,
        None,
        "slack: HTTP 503",
    ),
    (404, "gone", {}, True, None, "slack: HTTP 404 from 127.0.0.1"),
]


@pytest.mark.parametrize(("status", "body", "headers", "permanent", "retry_after", "start"), SLACK_ANSWERS)
async def test_slack_answers_over_socket(
    receiver: Receiver,
    http_client: httpx.AsyncClient,
    status: int,
    body: str,
    headers: dict[str, str],
    permanent: bool,
    retry_after: float | None,
    start: str,
) -> None:
    """Slack's answers are classified by body string first, then by status, and never show the URL."""
    receiver.reply(status, body, headers)
    with pytest.raises(DeliveryError) as info:
        await _channel(receiver, http_client).send(make_message())
    error = info.value
    assert (error.permanent, error.retry_after, error.status) == (permanent, retry_after, status)
    assert str(error).startswith(start)
    assert "t0k3n" not in str(error)
    assert "\n" not in str(error)


def test_error_string_wins_over_status() -> None:
    """A known error string decides even when its status would say otherwise (e.g. no_service with 500)."""
    response = httpx.Response(500, text="no_service\n", request=httpx.Request("POST", "https://hooks.slack.com/x"))
    with pytest.raises(DeliveryError) as info:
        classify(response, now=NOW)
    assert info.value.permanent is True


def test_rollup_error_honours_retry_after() -> None:
    """A transient Slack error string keeps the service's Retry-After."""
    response = httpx.Response(
        500, text="rollup_error", headers={"Retry-After": "12"}, request=httpx.Request("POST", "https://h/x")
    )
    with pytest.raises(DeliveryError) as info:
        classify(response, now=NOW)
    assert info.value.retry_after == 12

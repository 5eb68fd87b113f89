"""The Discord webhook channel: embeds, mention safety, size limits and Discord's answers, over a real socket."""

from __future__ import annotations

import io
import json
from datetime import date, datetime
from typing import Any

import httpx
import pytest
from pydantic import ValidationError
from support.factories import make_channel, make_event, make_line, make_message
from support.receiver import Receiver

from alertd.calendar.load import parse_calendar
from alertd.channels import REGISTRY
from alertd.channels.base import ChannelContext
from alertd.channels.discord import EMBED_TOTAL_MAX, TYPE, DiscordOptions, escape, payload
from alertd.channels.http import json_bytes
from alertd.errors import DeliveryError
from alertd.messages.i18n import format_day, phrases

TIMED = make_event(
    "vote",
    title="Council vote",
    all_day=False,
    local_start=datetime(2025, 11, 10, 9, 0),
    status="tentative",
    tags=("policy", "eu"),
    source="https://example.org/agenda?id=7",
)
JSON = {"Content-Type": "application/json"}


def _channel(receiver: Receiver, client: httpx.AsyncClient, **options: Any) -> Any:
    spec = make_channel(
        "discord", id="ops", timezone="Europe/Berlin", options={"url": receiver.url("/api/webhooks/1/t0k3n"), **options}
    )
    return TYPE.build(spec, ChannelContext(http=client, out=io.StringIO(), settings=None))


def test_registered_with_documented_rate() -> None:
    """``discord`` is registered, paced at 5 requests per 2 s per webhook and sent one at a time."""
    assert REGISTRY["discord"] is TYPE
    assert (TYPE.rate, TYPE.burst, TYPE.concurrency) == (2.5, 5, 1)


def test_options_reject_unknown_keys() -> None:
    """A misspelt option is an error, not silently ignored."""
    with pytest.raises(ValidationError, match="extra"):
        DiscordOptions.model_validate({"url": "https://discord.com/api/webhooks/1/t", "user_name": "x"})


def test_options_hide_the_url() -> None:
    """The webhook token appears neither in validation errors nor in the options' repr."""
    with pytest.raises(ValidationError) as info:
        DiscordOptions.model_validate({"url": "ftp://discord.com/api/webhooks/1/t0k3n"})
    assert "t0k3n" not in str(info.value)
    assert "t0k3n" not in repr(DiscordOptions.model_validate({"url": "https://discord.com/api/webhooks/1/t0k3n"}))


def test_calendar_with_discord_passes_check() -> None:
    """A calendar declaring a discord channel loads without issues."""
    text = (
        "version: 1\nchannels:\n  ops: {type: discord, url: 'https://discord.com/api/webhooks/1/t', username: alertd}\n"
    )
    calendar, issues = parse_calendar(text, name="calendar.yaml", environ={})
    assert calendar.channels["ops"].type == "discord"
    assert issues == []


def test_reminder_payload_exact() -> None:
    """A reminder is one embed: sentence, time in both zones, countdown, status, tags, source; no pings."""
    message = make_message(event=TIMED, title="Council vote — tomorrow", text="Council vote tomorrow.\nMore")
    assert payload(message, channel_timezone="Europe/Berlin", username="alertd") == {
        "embeds": [
            {
                "title": "Council vote — tomorrow",
                "color": 0x3498DB,
                "url": "https://example.org/agenda?id=7",
                "description": "Council vote tomorrow.",
                "fields": [
                    {"name": "When", "value": "Mon 10 Nov 2025 09:00 EST (America/New\\_York)", "inline": False},
                    {
                        "name": "Your time",
                        "value": "Mon 10 Nov 2025 15:00 CET (Europe/Berlin)\n<t:1762783200:F>",
                        "inline": False,
                    },
                    {"name": "Countdown", "value": "tomorrow (<t:1762783200:R>)", "inline": True},
                    {"name": "Status", "value": "tentative", "inline": True},
                    {"name": "Tags", "value": "policy, eu", "inline": True},
                    {"name": "Source", "value": "[example.org](https://example.org/agenda?id=7)", "inline": False},
                ],
                "footer": {"text": "alertd reminder · 1d"},
            }
        ],
        "allowed_mentions": {"parse": []},
        "username": "alertd",
    }


def test_colour_follows_kind() -> None:
    """A change notice and a reminder have different embed colours."""
    change = payload(make_message(kind="change", offset=None))["embeds"][0]["color"]
    reminder = payload(make_message())["embeds"][0]["color"]
    assert change != reminder


def test_user_text_cannot_format_or_mention() -> None:
    """Markdown, timestamp and mention syntax in event text is shown as written."""
    body = payload(make_message(text="@everyone <@123> **now** <t:1:R>"))
    assert body["embeds"][0]["description"] == "@everyone \\<@123\\> \\*\\*now\\*\\* \\<t:1:R\\>"
    assert body["allowed_mentions"] == {"parse": []}
    assert escape("a_b") == "a\\_b"


def test_all_day_event_shows_the_channels_stretch_without_a_live_timestamp() -> None:
    """An all-day date shows the stretch of the channel's time it covers, and no single-instant <t:…> stamp."""
    fields = payload(make_message(), channel_timezone="Asia/Tokyo")["embeds"][0]["fields"]
    assert [f["name"] for f in fields] == ["When", "Your time", "Countdown", "Status", "Tags", "Source"]
    assert (fields[1]["value"], fields[2]["value"]) == (
        "Mon 10 Nov 2025 14:00 JST – Tue 11 Nov 2025 14:00 JST (Asia/Tokyo)",
        "tomorrow",
    )
    assert not any("<t:" in f["value"] for f in fields)


def test_embed_fits_every_limit() -> None:
    """Long title and text are cut to the per-field limits and the 6000-character embed total."""
    long_event = make_event(tags=tuple("t" * 50 for _ in range(30)))
    embed = payload(make_message(title="T" * 400, text="*" * 9000, event=long_event))["embeds"][0]
    assert len(embed["title"]) == 256
    assert len(embed["description"]) <= 4096
    assert embed["description"].endswith("\\*…")
    assert all(len(f["value"]) <= 1024 for f in embed["fields"])
    total = len(embed["title"]) + len(embed["description"]) + len(embed["footer"]["text"])
    total += sum(len(f["name"]) + len(f["value"]) for f in embed["fields"])
    assert total <= EMBED_TOTAL_MAX


def test_long_digest_is_cut_with_a_count() -> None:
    """A digest too long for the description ends with how many events were left out."""
    lines = tuple(make_line(make_event(f"e{i}", title="x" * 150)) for i in range(60))
    text = payload(make_message(kind="countdown", offset=None, lines=lines))["embeds"][0]["description"]
    shown = text.count("\n• ") + 1
    assert len(text) <= 4096
    assert text.endswith(f"…and {60 - shown} more")


async def test_sends_exact_payload_and_waits(receiver: Receiver, http_client: httpx.AsyncClient) -> None:
    """The embed JSON is posted with ``wait=true``; Discord's created message id is the answer."""
    receiver.reply(200, json.dumps({"id": "1301", "type": 0}), JSON)
    message = make_message(event=TIMED)
    assert await _channel(receiver, http_client).send(message) == "HTTP 200 message 1301"
    (request,) = receiver.requests
    assert (request.method, request.path, request.query) == ("POST", "/api/webhooks/1/t0k3n", "wait=true")
    assert request.headers["content-type"] == "application/json"
    assert request.body == json_bytes(payload(message, channel_timezone="Europe/Berlin"))


async def test_thread_and_identity_options(receiver: Receiver, http_client: httpx.AsyncClient) -> None:
    """``thread_id`` goes in the query; ``username`` and ``avatar_url`` in the body."""
    receiver.reply(200, json.dumps({"id": "9"}), JSON)
    channel = _channel(receiver, http_client, thread_id="777", username="Deadlines", avatar_url="https://x.org/a.png")
    await channel.send(make_message())
    (request,) = receiver.requests
    assert request.query == "wait=true&thread_id=777"
    assert (request.json()["username"], request.json()["avatar_url"]) == ("Deadlines", "https://x.org/a.png")


async def test_204_is_accepted(receiver: Receiver, http_client: httpx.AsyncClient) -> None:
    """A 204 (wait dropped on the way) is a success, reported as unconfirmed."""
    receiver.reply(204, b"")
    assert await _channel(receiver, http_client).send(make_message()) == "HTTP 204 accepted"


def _error(code: int, message: str) -> str:
    return json.dumps({"code": code, "message": message})


RATE_LIMITED = json.dumps({"message": "You are being rate limited.", "retry_after": 64.57, "global": False})
ANSWERS: list[tuple[int, str, dict[str, str], bool, float | None, str]] = [
    (429, RATE_LIMITED, {**JSON, "Retry-After": "65"}, False, 64.57, "discord: HTTP 429 rate limited (webhook)"),
    (429, "<html>1015</html>", {"Content-Type": "text/html", "Retry-After": "30"}, False, 30, "discord: HTTP 429"),
    (404, _error(10015, "Unknown Webhook"), JSON, True, None, "discord: HTTP 404 code 10015 (Unknown Webhook)"),
    (401, _error(50027, "Invalid Webhook Token"), JSON, True, None, "discord: HTTP 401 code 50027"),
    (403, _error(50013, "Missing Permissions"), JSON, True, None, "discord: HTTP 403 (Missing Permissions)"),
    (400, _error(50035, "Invalid Form Body"), JSON, True, None, "discord: HTTP 400 code 50035 (Invalid Form Body)"),
    (400, _error(0, "400: Bad Request"), JSON, True, None, "discord: HTTP 400 code 0"),
    (404, "", {}, True, None, "discord: HTTP 404: the webhook no longer exists"),
    (502, _error(0, "502: Bad Gateway"), JSON, False, None, "discord: HTTP 502 from 127.0.0.1"),
    (500, "oops", {}, False, None, "discord: HTTP 500 from 127.0.0.1"),
]


@pytest.mark.parametrize(("status", "body", "headers", "permanent", "retry_after", "start"), ANSWERS)
async def test_discord_answers_over_socket(
    receiver: Receiver,
    http_client: httpx.AsyncClient,
    status: int,
    body: str,
    headers: dict[str, str],
    permanent: bool,
    retry_after: float | None,
    start: str,
) -> None:
    """Each documented Discord answer is retry-after-N, transient or permanent, on one line without the token."""
    receiver.reply(status, body, headers)
    with pytest.raises(DeliveryError) as info:
        await _channel(receiver, http_client).send(make_message())
    error = info.value
    assert (error.permanent, error.retry_after, error.status) == (permanent, retry_after, status)
    assert str(error).startswith(start)
    assert "t0k3n" not in str(error)
    assert "\n" not in str(error)


async def test_global_rate_limit_is_named(receiver: Receiver, http_client: httpx.AsyncClient) -> None:
    """A global 429 says so and keeps the body's fractional retry_after."""
    receiver.reply(429, json.dumps({"message": "x", "retry_after": 1.5, "global": True}), JSON)
    with pytest.raises(DeliveryError) as info:
        await _channel(receiver, http_client).send(make_message())
    assert info.value.retry_after == 1.5
    assert "(global)" in str(info.value)


def test_german_message_has_german_field_names_and_dates() -> None:
    """A de channel's embed names its fields, dates, status and late note in German; no English label is left."""
    message = make_message(event=TIMED, countdown=make_line(TIMED, text="morgen"), late=True)._replace(locale="de")
    embed = payload(message, channel_timezone="Europe/Berlin")["embeds"][0]
    p = phrases("de")
    names = [field["name"] for field in embed["fields"]]
    assert names == [p.label_when, p.label_your_time, p.label_countdown, p.label_status, p.label_tags, p.label_source]
    values = {field["name"]: field["value"] for field in embed["fields"]}
    assert values[p.label_status] == p.statuses["tentative"]
    # The date is Babel's German rendering, computed here rather than written out.
    assert values[p.label_when].startswith(format_day(date(2025, 11, 10), "de"))
    assert p.sent_late.split("{", 1)[0] in embed["footer"]["text"]
    # German shares "Countdown" and "Status" with English, so the names list above is the check for labels.
    assert "sent late" not in embed["footer"]["text"]


async def test_a_huge_multiline_message_is_one_bounded_line(receiver: Receiver, http_client: httpx.AsyncClient) -> None:
    """Discord's ``message`` is the service's text: whatever its size and shape, the error is one short line
    without control characters."""
    receiver.reply(400, _error(50035, "Invalid Form Body\n" + "\x07\x08 field error\n" * 40_000), JSON)
    with pytest.raises(DeliveryError) as info:
        await _channel(receiver, http_client).send(make_message())
    text = str(info.value)
    assert "\n" not in text
    assert "\x07" not in text
    assert len(text) < 400


def test_an_ack_link_is_a_markdown_link_field() -> None:
    link = "https://alertd.example.org/ack/abc.def.ghi"
    fields = payload(make_message()._replace(ack_url=link))["embeds"][0]["fields"]
    assert {"name": "Acknowledge", "value": f"[Acknowledge]({link})", "inline": False} in fields

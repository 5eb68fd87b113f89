"""The Mattermost incoming-webhook channel: Markdown text, an attachment with the event, and the server's answers."""

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
from alertd.channels.http import json_bytes
from alertd.channels.mattermost import TEXT_MAX, TYPE, MattermostOptions, escape, payload
from alertd.errors import DeliveryError
from alertd.messages.i18n import format_day, phrases

TIMED = make_event(
    "vote",
    title="Council vote",
    all_day=False,
    local_start=datetime(2025, 11, 10, 9, 0),
    status="tentative",
    tags=("policy",),
    source="https://example.org/agenda?id=7",
)
JSON = {"Content-Type": "application/json"}


def _channel(receiver: Receiver, client: httpx.AsyncClient, **options: Any) -> Any:
    spec = make_channel(
        "mattermost", id="mm", timezone="Europe/Berlin", options={"url": receiver.url("/hooks/k3y"), **options}
    )
    return TYPE.build(spec, ChannelContext(http=client, out=io.StringIO(), settings=None))


def _app_error(message: str, status: int) -> str:
    return json.dumps({"id": "web.incoming_webhook.error", "message": message, "status_code": status})


def test_registered_with_documented_rate() -> None:
    """``mattermost`` is registered with the server's default rate limit (10/s, burst 100), one at a time."""
    assert REGISTRY["mattermost"] is TYPE
    assert (TYPE.rate, TYPE.burst, TYPE.concurrency) == (10.0, 100, 1)


def test_options_reject_unknown_keys() -> None:
    """A misspelt option is an error."""
    with pytest.raises(ValidationError, match="extra"):
        MattermostOptions.model_validate({"url": "https://chat.example.org/hooks/k", "icon_emoji": ":bell:"})


def test_options_hide_the_url() -> None:
    """The webhook key appears neither in validation errors nor in the options' repr."""
    with pytest.raises(ValidationError) as info:
        MattermostOptions.model_validate({"url": "ftp://chat.example.org/hooks/k3y"})
    assert "k3y" not in str(info.value)
    assert "k3y" not in repr(MattermostOptions.model_validate({"url": "https://chat.example.org/hooks/k3y"}))


def test_calendar_with_mattermost_passes_check() -> None:
    """A calendar declaring a mattermost channel loads without issues."""
    text = "version: 1\nchannels:\n  mm: {type: mattermost, url: 'https://chat.example.org/hooks/k', channel: town}\n"
    calendar, issues = parse_calendar(text, name="calendar.yaml", environ={})
    assert calendar.channels["mm"].options["channel"] == "town"
    assert issues == []


def test_reminder_payload_exact() -> None:
    """Markdown title and sentence as text; the event's time, countdown and status in one attachment."""
    message = make_message(event=TIMED, title="Council vote — tomorrow", text="Council vote tomorrow.\nMore")
    body = payload(message, channel_timezone="Europe/Berlin", channel="town", username="alertd", icon_url="https://i/x")
    assert body == {
        "text": "#### Council vote — tomorrow\nCouncil vote tomorrow.",
        "attachments": [
            {
                "fallback": "Council vote tomorrow.\nMore",
                "color": "#3498DB",
                "fields": [
                    {"short": False, "title": "When", "value": "Mon 10 Nov 2025 09:00 EST (America/New\\_York)"},
                    {"short": False, "title": "Europe/Berlin", "value": "Mon 10 Nov 2025 15:00 CET (Europe/Berlin)"},
                    {"short": True, "title": "Countdown", "value": "tomorrow"},
                    {"short": True, "title": "Status", "value": "tentative"},
                    {"short": True, "title": "Tags", "value": "policy"},
                ],
                "footer": "alertd reminder · 1d",
                "title": "Source",
                "title_link": "https://example.org/agenda?id=7",
            }
        ],
        "channel": "town",
        "username": "alertd",
        "icon_url": "https://i/x",
    }


def test_user_text_cannot_format_or_mention() -> None:
    """Markdown is escaped and @channel/@user mentions are broken so event text pings nobody."""
    assert escape("@channel **now** <!here>") == "@\u200bchannel \\*\\*now\\*\\* \\<!here\\>"


def test_digest_is_a_markdown_list() -> None:
    """A countdown digest is a list in the text, with the footer note and no attachment."""
    lines = (make_line(text="tomorrow"), make_line(TIMED, seconds=3 * 86400, text="in 3 days"))
    body = payload(make_message(kind="countdown", title="Countdown", offset=None, lines=lines))
    assert body == {
        "text": "#### Countdown\n- **Trade truce expires** — tomorrow (Mon 10 Nov 2025)\n"
        "- **Council vote** — in 3 days (Mon 10 Nov 2025) _(tentative)_\n\n_alertd countdown_"
    }


def test_long_text_stays_one_post() -> None:
    """Text over the post limit is cut (not split by the server into several posts)."""
    body = payload(make_message(kind="test", event=None, offset=None, text="x" * 40_000))
    assert len(body["text"]) <= TEXT_MAX
    assert "x…" in body["text"]


async def test_sends_exact_payload(receiver: Receiver, http_client: httpx.AsyncClient) -> None:
    """200 ``ok`` is success; the receiver got exactly the JSON payload."""
    message = make_message(event=TIMED)
    assert await _channel(receiver, http_client, channel="town").send(message) == "HTTP 200 ok"
    (request,) = receiver.requests
    assert (request.method, request.path) == ("POST", "/hooks/k3y")
    assert request.headers["content-type"] == "application/json"
    assert request.body == json_bytes(payload(message, channel_timezone="Europe/Berlin", channel="town"))


ANSWERS: list[tuple[int, str, dict[str, str], bool, float | None, str]] = [
    (
        400,
        _app_error("Couldn't find the channel.", 400),
        JSON,
        True,
        None,
        "mattermost: HTTP 400 (Couldn't find the channel.): check the channel option",
    ),
    (400, _app_error("Couldn't find the user.", 400), JSON, True, None, "mattermost: HTTP 400 (Couldn't find the user"),
    (400, _app_error("Unable to parse incoming data", 400), JSON, True, None, "mattermost: HTTP 400 (Unable to parse"),
    (400, _app_error("Invalid webhook.", 400), JSON, True, None, "mattermost: HTTP 400 (Invalid webhook.)"),
    (429, "", {"Retry-After": "3"}, False, 3, "mattermost: HTTP 429 the server's rate limit was hit; retry after 3s"),
    (404, "", {}, True, None, "mattermost: HTTP 404 from 127.0.0.1"),
    (200, "not ok", {}, False, None, "mattermost: unexpected answer (HTTP 200): not ok"),
    (503, "", {}, False, None, "mattermost: HTTP 503 from 127.0.0.1"),
]


@pytest.mark.parametrize(("status", "body", "headers", "permanent", "retry_after", "start"), ANSWERS)
async def test_mattermost_answers_over_socket(
    receiver: Receiver,
    http_client: httpx.AsyncClient,
    status: int,
    body: str,
    headers: dict[str, str],
    permanent: bool,
    retry_after: float | None,
    start: str,
) -> None:
    """Each documented Mattermost answer is retry-after-N, transient or permanent, on one line without the key."""
    receiver.reply(status, body, headers)
    with pytest.raises(DeliveryError) as info:
        await _channel(receiver, http_client).send(make_message())
    error = info.value
    assert (error.permanent, error.retry_after, error.status) == (permanent, retry_after, status)
    assert str(error).startswith(start)
    assert "k3y" not in str(error)
    assert "\n" not in str(error)


def test_german_message_has_german_field_titles_and_dates() -> None:
    """A de channel's attachment titles its fields and source link in German and dates them the German way."""
    message = make_message(event=TIMED, countdown=make_line(TIMED, text="morgen"), late=True)._replace(locale="de")
    (attachment,) = payload(message, channel_timezone="Europe/Berlin")["attachments"]
    p = phrases("de")
    titles = [f["title"] for f in attachment["fields"]]
    assert titles == [p.label_when, "Europe/Berlin", p.label_countdown, p.label_status, p.label_tags]
    assert attachment["title"] == p.label_source
    values = {f["title"]: f["value"] for f in attachment["fields"]}
    assert values[p.label_status] == escape(p.statuses["tentative"])
    # Babel's German date, computed here rather than written out.
    assert values[p.label_when].startswith(escape(format_day(date(2025, 11, 10), "de")))
    assert p.sent_late.split("{", 1)[0] in attachment["footer"]
    # German shares "Countdown" and "Status" with English, so the titles list above is the check for labels.
    assert "sent late" not in attachment["footer"]


def test_an_ack_link_is_a_markdown_link_field() -> None:
    link = "https://alertd.example.org/ack/abc.def.ghi"
    fields = payload(make_message()._replace(ack_url=link))["attachments"][0]["fields"]
    assert {"title": "Acknowledge", "value": f"[Acknowledge]({link})", "short": False} in fields

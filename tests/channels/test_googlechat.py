"""The Google Chat webhook channel: text + cardsV2, one thread per event, size limit and Google's errors."""

from __future__ import annotations

import io
import json
import textwrap
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest
from pydantic import ValidationError
from support.factories import make_channel, make_event, make_line, make_message
from support.receiver import Receiver

from alertd.calendar.load import load_calendar
from alertd.channels import REGISTRY
from alertd.channels.base import ChannelContext
from alertd.channels.googlechat import MESSAGE_BYTES, TYPE, GoogleChatOptions, encode, payload, post_url
from alertd.errors import DeliveryError
from alertd.messages.i18n import format_day, phrases

PATH = "/v1/spaces/AAAA1234/messages"
QUERY = "key=AIzaK3y&token=t0k3n-s3cr3t"
TIMED = make_event(
    "vote",
    title="Council vote",
    all_day=False,
    local_start=datetime(2025, 11, 10, 9, 0),
    status="tentative",
    tags=("policy", "eu"),
    source="https://example.org/agenda?id=7&x=<y>",
)
CREATED = json.dumps({"name": "spaces/AAAA1234/messages/B.B", "thread": {"name": "spaces/AAAA1234/threads/C"}})


def _channel(receiver: Receiver, client: httpx.AsyncClient, timezone: str = "UTC") -> Any:
    spec = make_channel("googlechat", timezone=timezone, options={"url": receiver.url(f"{PATH}?{QUERY}")})
    return TYPE.build(spec, ChannelContext(http=client, out=io.StringIO(), settings=None))


def _google(code: int, status: str, text: str) -> str:
    return json.dumps({"error": {"code": code, "message": text, "status": status}})


def test_registered() -> None:
    """The registry maps ``googlechat`` to this module, paced at the space's 60 writes a minute."""
    assert REGISTRY["googlechat"] is TYPE
    assert (TYPE.rate, TYPE.burst) == (1.0, 1)


def test_reminder_payload_exact() -> None:
    """A reminder is a bold title as text, a card with the sentence, event rows and a link, and its thread key."""
    message = make_message(event=TIMED, title="Council vote — tomorrow", text="Vote <b>tomorrow</b> & more.\nMon")
    assert payload(message, channel_timezone="Europe/Berlin") == {
        "text": "*Council vote — tomorrow*",
        "cardsV2": [
            {
                "cardId": "alertd",
                "card": {
                    "header": {"title": "Council vote — tomorrow", "subtitle": "alertd reminder · 1d"},
                    "sections": [
                        {
                            "widgets": [
                                {"textParagraph": {"text": "Vote &lt;b&gt;tomorrow&lt;/b&gt; &amp; more."}},
                                {
                                    "decoratedText": {
                                        "topLabel": "When",
                                        "text": "Mon 10 Nov 2025 09:00 EST (America/New_York)<br>"
                                        "Mon 10 Nov 2025 15:00 CET (Europe/Berlin)",
                                        "wrapText": True,
                                    }
                                },
                                {"decoratedText": {"topLabel": "Status", "text": "tentative", "wrapText": True}},
                                {"decoratedText": {"topLabel": "Tags", "text": "policy, eu", "wrapText": True}},
                                {
                                    "buttonList": {
                                        "buttons": [
                                            {
                                                "text": "Open source",
                                                "onClick": {
                                                    "openLink": {"url": "https://example.org/agenda?id=7&x=<y>"}
                                                },
                                            }
                                        ]
                                    }
                                },
                            ]
                        }
                    ],
                },
            }
        ],
        "thread": {"threadKey": "alertd-event-vote"},
    }


def test_mentions_in_text_are_neutralised() -> None:
    """A title cannot ping <users/all> or fake a link: a zero-width space follows each '<'."""
    text = payload(make_message(title="<users/all> see <https://x|y>"))["text"]
    assert "<users/all>" not in text
    assert text.replace("\u200b", "") == "*<users/all> see <https://x|y>*"


def test_digest_lists_events_in_one_thread() -> None:
    """A countdown digest lists each event with its countdown and shares the digest thread."""
    lines = (make_line(text="tomorrow"), make_line(TIMED, text="in 3 days"))
    body = payload(make_message(kind="countdown", title="Countdown", text="2 events", offset=None, lines=lines))
    widgets = body["cardsV2"][0]["card"]["sections"][0]["widgets"]
    assert widgets == [{"textParagraph": {"text": "• Trade truce expires — tomorrow<br>• Council vote — in 3 days"}}]
    assert body["thread"] == {"threadKey": "alertd-countdown"}


def test_late_notice_and_all_day_event() -> None:
    """A late message says when it was due (channel zone) in the card subtitle; an all-day date is shown in its own
    zone and as the stretch of the channel's time it covers."""
    card = payload(make_message(late=True), channel_timezone="Asia/Tokyo")["cardsV2"][0]["card"]
    assert card["header"]["subtitle"] == "alertd reminder · 1d · sent late (was due Sun 9 Nov 2025 23:00 JST)"
    when = card["sections"][0]["widgets"][1]["decoratedText"]
    assert (when["topLabel"], when["text"]) == (
        "When",
        "Mon 10 Nov 2025 (all day, America/New_York)<br>"
        "Mon 10 Nov 2025 14:00 JST – Tue 11 Nov 2025 14:00 JST (Asia/Tokyo)",
    )


def test_test_message_has_no_thread() -> None:
    """A send-test message is not about an event, so it starts no thread."""
    assert "thread" not in payload(make_message(kind="test", title="Test", text="hello", offset=None))


def test_huge_text_fits_32000_bytes() -> None:
    """A message whose text would pass 32,000 bytes is shortened until it fits."""
    data = encode(make_message(text="<&>" * 20_000))
    assert len(data) <= MESSAGE_BYTES
    widgets = json.loads(data)["cardsV2"][0]["card"]["sections"][0]["widgets"]
    assert widgets[0]["textParagraph"]["text"].endswith("…")


def test_reply_option_is_added_once() -> None:
    """The reply option joins the key and token; a URL that already names one keeps it."""
    url = f"https://chat.googleapis.com{PATH}?{QUERY}"
    assert parse_qsl(post_url(url, True).split("?", 1)[1]) == [
        ("key", "AIzaK3y"),
        ("token", "t0k3n-s3cr3t"),
        ("messageReplyOption", "REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD"),
    ]
    own = url + "&messageReplyOption=REPLY_MESSAGE_OR_FAIL"
    assert post_url(own, True) == own
    assert post_url(url, False) == url


async def test_sends_exact_payload(receiver: Receiver, http_client: httpx.AsyncClient) -> None:
    """200 with the created message is success; the bytes, path, key/token and reply option are as expected."""
    receiver.reply(200, CREATED, {"Content-Type": "application/json"})
    message = make_message(event=TIMED)
    summary = await _channel(receiver, http_client, "Europe/Berlin").send(message)
    assert summary == "HTTP 200 spaces/AAAA1234/messages/B.B"
    (request,) = receiver.requests
    assert (request.method, request.path) == ("POST", PATH)
    assert dict(parse_qsl(request.query)) == {
        "key": "AIzaK3y",
        "token": "t0k3n-s3cr3t",
        "messageReplyOption": "REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD",
    }
    assert request.headers["content-type"] == "application/json; charset=UTF-8"
    assert request.body == encode(message, channel_timezone="Europe/Berlin")


async def test_success_without_message_json(receiver: Receiver, http_client: httpx.AsyncClient) -> None:
    """Any 2xx is sent; without the Message JSON the summary is just the status."""
    receiver.reply(200, "")
    assert await _channel(receiver, http_client).send(make_message()) == "HTTP 200"


GOOGLE_ANSWERS: list[tuple[int, str, dict[str, str], bool, float | None, str]] = [
    (
        429,
        _google(429, "RESOURCE_EXHAUSTED", "Resource has been exhausted (e.g. check quota)."),
        {},
        False,
        None,
        "googlechat: HTTP 429 RESOURCE_EXHAUSTED: Resource has been exhausted",
    ),
    (
        429,
        _google(429, "RESOURCE_EXHAUSTED", "Too many requests"),
        {"Retry-After": "30"},
        False,
        30,
        "googlechat: HTTP 429 RESOURCE_EXHAUSTED (retry after 30s): Too many requests",
    ),
    (400, _google(400, "INVALID_ARGUMENT", "Invalid JSON payload"), {}, True, None, "googlechat: HTTP 400 INVALID"),
    (
        401,
        _google(401, "UNAUTHENTICATED", "Request had invalid authentication credentials."),
        {},
        True,
        None,
        "googlechat: HTTP 401 UNAUTHENTICATED",
    ),
    (
        403,
        _google(403, "PERMISSION_DENIED", "The caller does not have permission"),
        {},
        True,
        None,
        "googlechat: HTTP 403 PERMISSION_DENIED: The caller does not have permission; the webhook was removed",
    ),
    (404, _google(404, "NOT_FOUND", "Requested entity was not found."), {}, True, None, "googlechat: HTTP 404 NOT"),
    (
        503,
        _google(503, "UNAVAILABLE", "The service is currently unavailable."),
        {},
        False,
        None,
        "googlechat: HTTP 503",
    ),
    (502, "<html><b>Bad Gateway</b></html>", {"Content-Type": "text/html"}, False, None, "googlechat: HTTP 502 from"),
]


@pytest.mark.parametrize(("status", "body", "headers", "permanent", "retry_after", "start"), GOOGLE_ANSWERS)
async def test_google_answers_over_socket(
    receiver: Receiver,
    http_client: httpx.AsyncClient,
    status: int,
    body: str,
    headers: dict[str, str],
    permanent: bool,
    retry_after: float | None,
    start: str,
) -> None:
    """429 is transient, 400/401/403/404 permanent, 5xx transient; the token never shows."""
    receiver.reply(status, body, {"Content-Type": "application/json", **headers})
    with pytest.raises(DeliveryError) as info:
        await _channel(receiver, http_client).send(make_message())
    error = info.value
    assert (error.permanent, error.retry_after, error.status) == (permanent, retry_after, status)
    assert str(error).startswith(start)
    assert "t0k3n" not in str(error)
    assert "\n" not in str(error)


@pytest.mark.parametrize(
    "body", [_google(403, "PERMISSION_DENIED", "token t0k3n-s3cr3t revoked"), "bad key AIzaK3y token t0k3n-s3cr3t"]
)
async def test_echoed_token_is_hidden(receiver: Receiver, http_client: httpx.AsyncClient, body: str) -> None:
    """Should Google (or a proxy) quote the key or token in an error, it is removed."""
    receiver.reply(403, body)
    with pytest.raises(DeliveryError) as info:
        await _channel(receiver, http_client).send(make_message())
    assert "t0k3n" not in str(info.value)
    assert "AIzaK3y" not in str(info.value)


def test_options_need_key_and_token() -> None:
    """A URL without its key or token is refused, unknown keys too, and errors never repeat the URL."""
    with pytest.raises(ValidationError, match="lacks its key or token") as info:
        GoogleChatOptions.model_validate({"url": f"https://chat.googleapis.com{PATH}?token=t0k3n"})
    assert "t0k3n" not in str(info.value)
    with pytest.raises(ValidationError, match="extra"):
        GoogleChatOptions.model_validate({"url": f"https://chat.googleapis.com{PATH}?{QUERY}", "space": "x"})
    assert "t0k3n" not in repr(GoogleChatOptions(url=f"https://chat.googleapis.com{PATH}?{QUERY}"))


def test_calendar_with_googlechat_channel_loads(tmp_path: Path) -> None:
    """A calendar declaring a Google Chat channel, URL from the environment, loads through the loader."""
    url = f"https://chat.googleapis.com{PATH}?{QUERY}"
    path = tmp_path / "calendar.yaml"
    path.write_text(
        textwrap.dedent(
            """\
            version: 1
            channels:
              desk-chat: {type: googlechat, url: "${CHAT_URL}", timezone: Europe/Berlin}
            defaults: {notify: [desk-chat]}
            """
        ),
        encoding="utf-8",
    )
    calendar, warnings = load_calendar(path, environ={"CHAT_URL": url})
    assert warnings == []
    channel = calendar.channels["desk-chat"]
    assert (channel.type, channel.timezone, channel.options["url"]) == ("googlechat", "Europe/Berlin", url)


def test_chinese_message_has_chinese_labels_and_dates() -> None:
    """A zh channel's card labels its rows, button and late note in Chinese, with Babel's Chinese dates."""
    message = make_message(event=TIMED, late=True)._replace(locale="zh")
    card = payload(message, channel_timezone="Europe/Berlin")["cardsV2"][0]["card"]
    p = phrases("zh")
    widgets = card["sections"][0]["widgets"]
    rows = {w["decoratedText"]["topLabel"]: w["decoratedText"]["text"] for w in widgets if "decoratedText" in w}
    assert list(rows) == [p.label_when, p.label_status, p.label_tags]
    assert rows[p.label_status] == p.statuses["tentative"]
    # Both zones' dates are Babel's Chinese rendering, computed here rather than written out.
    assert rows[p.label_when].count(format_day(date(2025, 11, 10), "zh")) == 2
    assert widgets[-1]["buttonList"]["buttons"][0]["text"] == p.open_source
    assert p.sent_late.split("{", 1)[0] in card["header"]["subtitle"]
    shown = json.dumps(card, ensure_ascii=False)
    for english in ("When", "Status", "Tags", "Open source", "sent late", "tentative"):
        assert english not in shown


def test_long_digest_keeps_rows_and_says_how_many_are_left() -> None:
    """A digest over 32,000 bytes keeps whole rows and ends with "…and N more" instead of a cut row."""
    lines = tuple(make_line(make_event(f"e{i}", title=f"T{i:03d}" + "x" * 300)) for i in range(400))
    data = encode(make_message(kind="countdown", offset=None, lines=lines))
    assert len(data) <= MESSAGE_BYTES
    text = json.loads(data)["cardsV2"][0]["card"]["sections"][0]["widgets"][0]["textParagraph"]["text"]
    shown = text.count("• T")
    assert 0 < shown < 400
    assert text.endswith(f"…and {400 - shown} more")


def test_an_ack_link_is_a_button() -> None:
    link = "https://alertd.example.org/ack/abc.def.ghi"
    widgets = payload(make_message()._replace(ack_url=link))["cardsV2"][0]["card"]["sections"][0]["widgets"]
    button = {"text": "Acknowledge", "onClick": {"openLink": {"url": link}}}
    assert {"buttonList": {"buttons": [button]}} in widgets

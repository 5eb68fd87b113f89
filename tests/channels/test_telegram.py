"""The Telegram Bot API channel: HTML formatting, the 4096-character cut and Telegram's answers, over a socket."""

from __future__ import annotations

import io
import json
import socket
from datetime import date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import ValidationError
from support.factories import make_channel, make_event, make_line, make_message
from support.receiver import Receiver
from support.standins import Standin, telegram_visible

from alertd.calendar.load import load_calendar
from alertd.channels import REGISTRY
from alertd.channels.base import ChannelContext
from alertd.channels.http import json_bytes
from alertd.channels.telegram import TEXT_MAX, TYPE, TelegramOptions, escape, message_html, payload, visible_length
from alertd.errors import DeliveryError
from alertd.messages.i18n import format_day, phrases

TOKEN = "123456:AAF-t0k3n_xyz"
TIMED = make_event(
    "vote",
    title="Council <vote> & co",
    all_day=False,
    local_start=datetime(2025, 11, 10, 9, 0),
    status="tentative",
    tags=("policy",),
    source="https://example.org/agenda?id=7&x=1",
)
JSON = {"Content-Type": "application/json"}


def _options(receiver: Receiver, **extra: Any) -> dict[str, Any]:
    return {"bot_token": TOKEN, "chat_id": -100123, "api_base": receiver.base_url, **extra}


def _channel(receiver: Receiver, client: httpx.AsyncClient, **extra: Any) -> Any:
    spec = make_channel("telegram", id="tg", timezone="Europe/Berlin", options=_options(receiver, **extra))
    return TYPE.build(spec, ChannelContext(http=client, out=io.StringIO(), settings=None))


def _ok(message_id: int = 42, chat_id: int = -100123) -> str:
    return json.dumps({"ok": True, "result": {"message_id": message_id, "chat": {"id": chat_id}}})


def _error(code: int, description: str, **parameters: Any) -> str:
    body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
    if parameters:
        body["parameters"] = parameters
    return json.dumps(body)


def test_registered_with_documented_rate() -> None:
    """``telegram`` is registered, paced at about one message a second per chat, one at a time."""
    assert REGISTRY["telegram"] is TYPE
    assert (TYPE.rate, TYPE.concurrency) == (1.0, 1)


def test_options_reject_unknown_keys() -> None:
    """A misspelt option is an error."""
    with pytest.raises(ValidationError, match="extra"):
        TelegramOptions.model_validate({"bot_token": TOKEN, "chat_id": 1, "chatid": 2})


def test_options_hide_the_token() -> None:
    """The bot token appears neither in validation errors nor in the options' repr."""
    with pytest.raises(ValidationError) as info:
        TelegramOptions.model_validate({"bot_token": "t0k3n not valid", "chat_id": 1})
    assert "t0k3n" not in str(info.value)
    assert "t0k3n" not in repr(TelegramOptions.model_validate({"bot_token": TOKEN, "chat_id": 1}))


def test_chat_id_forms() -> None:
    """A numeric string becomes a number; @channelname stays text; anything else is refused."""
    assert TelegramOptions.model_validate({"bot_token": TOKEN, "chat_id": "-100123"}).chat_id == -100123
    assert TelegramOptions.model_validate({"bot_token": TOKEN, "chat_id": "@deadlines"}).chat_id == "@deadlines"
    with pytest.raises(ValidationError, match="chat_id"):
        TelegramOptions.model_validate({"bot_token": TOKEN, "chat_id": "deadlines"})


def test_calendar_reads_bot_token_file(tmp_path: Path) -> None:
    """A calendar with ``bot_token_file`` passes the check and the channel gets the file's token."""
    (tmp_path / "tg.token").write_text(TOKEN + "\n", encoding="utf-8")
    path = tmp_path / "calendar.yaml"
    path.write_text(
        "version: 1\nchannels:\n  tg: {type: telegram, bot_token_file: tg.token, chat_id: -100123}\n", encoding="utf-8"
    )
    calendar, issues = load_calendar(path, environ={})
    assert issues == []
    assert calendar.channels["tg"].options["bot_token"] == TOKEN


def test_escape_html() -> None:
    """The characters Telegram's HTML reserves are escaped."""
    assert escape('a<b>&"c"') == "a&lt;b&gt;&amp;&quot;c&quot;"


def test_reminder_payload_exact() -> None:
    """Bold title, the sentence, then the event's details; link previews off."""
    message = make_message(event=TIMED, title="Council <vote> — tomorrow", text="Council <vote> & co tomorrow.\nX")
    assert payload(message, chat_id=-100123, channel_timezone="Europe/Berlin", disable_notification=True) == {
        "chat_id": -100123,
        "text": "<b>Council &lt;vote&gt; — tomorrow</b>\n\n"
        "Council &lt;vote&gt; &amp; co tomorrow.\n\n"
        "<b>When</b>: Mon 10 Nov 2025 09:00 EST (America/New_York)\n"
        "<b>Your time</b>: Mon 10 Nov 2025 15:00 CET (Europe/Berlin)\n"
        "<b>Countdown</b>: tomorrow\n"
        "<b>Status</b>: tentative\n"
        "<b>Tags</b>: policy\n"
        '<b>Source</b>: <a href="https://example.org/agenda?id=7&amp;x=1">example.org</a>\n'
        "<i>alertd reminder · 1d</i>",
        "parse_mode": "HTML",
        "link_preview_options": {"is_disabled": True},
        "disable_notification": True,
    }


def test_long_text_is_cut_to_the_limit() -> None:
    """A message longer than 4096 visible characters is cut (entities count as one character)."""
    html = message_html(make_message(kind="test", event=None, offset=None, text="&" * 9000))
    assert visible_length(html) <= TEXT_MAX
    assert "&amp;…" in html


def test_long_digest_is_cut_with_a_count() -> None:
    """A digest is cut at a line, ending with how many events were left out."""
    lines = tuple(make_line(make_event(f"e{i}", title="x" * 150)) for i in range(60))
    html = message_html(make_message(kind="countdown", offset=None, lines=lines))
    shown = html.count("\n• ")
    assert visible_length(html) <= TEXT_MAX
    assert f"…and {60 - shown} more" in html


async def test_sends_exact_payload(receiver: Receiver, http_client: httpx.AsyncClient) -> None:
    """sendMessage gets the JSON body at /bot<token>/; ``ok:true`` answers with the message id and its chat."""
    receiver.reply(200, _ok(42), JSON)
    message = make_message(event=TIMED)
    assert await _channel(receiver, http_client).send(message) == "message 42 in chat -100123"
    (request,) = receiver.requests
    assert (request.method, request.path) == ("POST", f"/bot{TOKEN}/sendMessage")
    assert request.body == json_bytes(payload(message, chat_id=-100123, channel_timezone="Europe/Berlin"))


async def test_migrated_group_is_resent_to_the_new_chat(receiver: Receiver, http_client: httpx.AsyncClient) -> None:
    """``migrate_to_chat_id``: the same text goes to the supergroup and the answer names the id to configure."""
    receiver.reply(400, _error(400, "Bad Request: group chat was upgraded", migrate_to_chat_id=-100999), JSON)
    receiver.reply(200, _ok(7, chat_id=-100999), JSON)
    summary = await _channel(receiver, http_client).send(make_message())
    first, second = receiver.requests
    assert (first.json()["chat_id"], second.json()["chat_id"]) == (-100123, -100999)
    assert second.json()["text"] == first.json()["text"]
    assert summary == "message 7 in chat -100999; the group became a supergroup: set chat_id: -100999"


async def test_bad_entities_are_resent_as_plain_text(receiver: Receiver, http_client: httpx.AsyncClient) -> None:
    """``can't parse entities``: the text is resent once without markup rather than dropped."""
    receiver.reply(400, _error(400, "Bad Request: can't parse entities: unclosed tag"), JSON)
    receiver.reply(200, _ok(8), JSON)
    await _channel(receiver, http_client).send(make_message(title="A & B"))
    plain = receiver.requests[1].json()
    assert "parse_mode" not in plain
    assert plain["text"].startswith("A & B\n\n")


async def test_bad_entities_twice_is_permanent(receiver: Receiver, http_client: httpx.AsyncClient) -> None:
    """Plain text refused as well is a permanent failure after exactly two requests."""
    for _ in range(2):
        receiver.reply(400, _error(400, "Bad Request: can't parse entities: x"), JSON)
    with pytest.raises(DeliveryError) as info:
        await _channel(receiver, http_client).send(make_message())
    assert info.value.permanent is True
    assert len(receiver.requests) == 2


ANSWERS: list[tuple[int, str, dict[str, str], bool, float | None, str]] = [
    (
        429,
        _error(429, "Too Many Requests: retry after 34", retry_after=34),
        JSON,
        False,
        34,
        "telegram: HTTP 429 too many requests; retry after 34s",
    ),
    (400, _error(400, "Bad Request: chat not found"), JSON, True, None, "telegram: HTTP 400 (Bad Request: chat not"),
    (
        403,
        _error(403, "Forbidden: bot was blocked by the user"),
        JSON,
        True,
        None,
        "telegram: HTTP 403 (Forbidden: bot was blocked by the user): the user blocked the bot",
    ),
    (403, _error(403, "Forbidden: bot was kicked from the supergroup chat"), JSON, True, None, "telegram: HTTP 403"),
    (403, _error(403, "Forbidden: user is deactivated"), JSON, True, None, "telegram: HTTP 403"),
    (403, _error(403, "Forbidden: the group chat was deleted"), JSON, True, None, "telegram: HTTP 403"),
    (401, _error(401, "Unauthorized"), JSON, True, None, "telegram: HTTP 401 (Unauthorized): the bot token"),
    (404, _error(404, "Not Found"), JSON, True, None, "telegram: HTTP 404 (Not Found): the bot token is wrong"),
    (400, _error(400, "Bad Request: message text is empty"), JSON, True, None, "telegram: HTTP 400"),
    (502, "<html>Bad Gateway</html>", {"Content-Type": "text/html"}, False, None, "telegram: HTTP 502 from"),
    (500, _error(500, "Internal Server Error"), JSON, False, None, "telegram: HTTP 500 from"),
    (200, json.dumps({"ok": False}), JSON, False, None, "telegram: unexpected answer (HTTP 200)"),
]


@pytest.mark.parametrize(("status", "body", "headers", "permanent", "retry_after", "start"), ANSWERS)
async def test_telegram_answers_over_socket(
    receiver: Receiver,
    http_client: httpx.AsyncClient,
    status: int,
    body: str,
    headers: dict[str, str],
    permanent: bool,
    retry_after: float | None,
    start: str,
) -> None:
    """Each documented Telegram answer is retry-after-N, transient or permanent, on one line without the token."""
    receiver.reply(status, body, headers)
    with pytest.raises(DeliveryError) as info:
        await _channel(receiver, http_client).send(make_message())
    error = info.value
    assert (error.permanent, error.retry_after, error.status) == (permanent, retry_after, status)
    assert str(error).startswith(start)
    assert "t0k3n" not in str(error)
    assert "\n" not in str(error)
    assert len(receiver.requests) == 1


async def test_network_error_hides_the_token(http_client: httpx.AsyncClient) -> None:
    """A refused connection is transient and its message names the host, never the token in the path."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    options = {"bot_token": TOKEN, "chat_id": 1, "api_base": f"http://127.0.0.1:{port}"}
    spec = make_channel("telegram", id="tg", options=options)
    channel = TYPE.build(spec, ChannelContext(http=http_client, out=io.StringIO(), settings=None))
    with pytest.raises(DeliveryError) as info:
        await channel.send(make_message())
    assert info.value.permanent is False
    assert "t0k3n" not in str(info.value)


def test_chinese_message_has_chinese_labels_and_dates() -> None:
    """A zh channel's details use Chinese labels, full-width colons, Chinese dates and statuses; no English label."""
    message = make_message(event=TIMED, countdown=make_line(TIMED, text="明天"), late=True)._replace(locale="zh")
    html = message_html(message, channel_timezone="Europe/Berlin")
    p = phrases("zh")
    for label in (p.label_when, p.label_your_time, p.label_countdown, p.label_status, p.label_tags, p.label_source):
        assert f"<b>{label}</b>：" in html
    assert f"<b>{p.label_status}</b>：{p.statuses['tentative']}" in html
    # Babel's Chinese date for the event, computed rather than written out.
    assert format_day(date(2025, 11, 10), "zh") in html
    assert p.sent_late.split("{", 1)[0] in html
    for english in ("When", "Your time", "Countdown", "Status", "Tags", "Source", "sent late", "tentative"):
        assert english not in html


async def test_long_source_and_many_tags_are_cut_to_fit(http_client: httpx.AsyncClient) -> None:
    """A reminder with a 10,000-character plain-text source, 400 tags and a long title is cut to 4,096 characters
    after entity parsing (checked by an independent HTML parser) and accepted, the sentence still shown."""
    event = make_event(title="<b>&" * 900, tags=tuple(f"t&g{i}" for i in range(400)), source="plain & <source> " * 600)
    message = make_message(event=event, title="<Long> & title " * 300, text="The truce expires tomorrow.")
    standin = Standin("telegram")
    await standin.start()
    try:
        summary = await _channel(standin, http_client).send(message)
    finally:
        await standin.stop()
    assert summary.startswith("message 1")
    assert standin.refused == []
    shown = telegram_visible(standin.requests[0].json()["text"])
    assert len(shown.encode("utf-16-le")) // 2 <= TEXT_MAX
    assert "The truce expires tomorrow." in shown


def test_astral_characters_count_twice() -> None:
    """Emoji count two UTF-16 units each, as Telegram's entity offsets do, so a digest of them still fits."""
    lines = tuple(make_line(make_event(f"e{i}", title="😀" * 300)) for i in range(100))
    html = message_html(make_message(kind="countdown", offset=None, lines=lines))
    assert len(telegram_visible(html).encode("utf-16-le")) // 2 <= TEXT_MAX


async def test_a_huge_multiline_description_is_one_bounded_line(
    receiver: Receiver, http_client: httpx.AsyncClient
) -> None:
    """Telegram's ``description`` is the service's text: whatever its size and shape, the error is one short line
    without control characters."""
    receiver.reply(400, _error(400, "Bad Request:\n" + "\x1b[2J spam line\n" * 40_000), JSON)
    with pytest.raises(DeliveryError) as info:
        await _channel(receiver, http_client).send(make_message())
    text = str(info.value)
    assert "\n" not in text
    assert "\x1b" not in text
    assert len(text) < 400


def test_an_ack_link_is_an_inline_url_button() -> None:
    link = "https://alertd.example.org/ack/abc.def.ghi"
    body = payload(make_message()._replace(ack_url=link), chat_id=1)
    assert body["reply_markup"] == {"inline_keyboard": [[{"text": "Acknowledge", "url": link}]]}
    assert "reply_markup" not in payload(make_message(), chat_id=1)

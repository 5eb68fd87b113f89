"""The ntfy channel: JSON publishing to the server root, auth, size limit and ntfy's error codes, over a socket."""

from __future__ import annotations

import base64
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

from alertd.calendar.load import load_calendar
from alertd.channels import REGISTRY
from alertd.channels.base import ChannelContext
from alertd.channels.ntfy import DEFAULT_PRIORITY, MESSAGE_LIMIT, TYPE, NtfyOptions, payload
from alertd.errors import DeliveryError

TOPIC = "alertd-s3cr3t-topic"


def _channel(receiver: Receiver, client: httpx.AsyncClient, **options: Any) -> Any:
    spec = make_channel("ntfy", options={"server": receiver.url("/ntfy"), "topic": TOPIC, **options})
    return TYPE.build(spec, ChannelContext(http=client, out=io.StringIO(), settings=None))


def _error(code: int, status: int, text: str) -> str:
    return json.dumps({"code": code, "http": status, "error": text, "link": "https://ntfy.sh/docs/publish/"})


def test_registered() -> None:
    """The registry maps ``ntfy`` to this module, paced like ntfy's visitor bucket (60, then 1 per 5 s)."""
    assert REGISTRY["ntfy"] is TYPE
    assert (TYPE.rate, TYPE.burst) == (0.2, 60)


def test_reminder_payload_exact() -> None:
    """A reminder is the JSON publish body: topic, title, plain text, kind and event tags, priority, click."""
    message = make_message(title="US–China truce expires tomorrow", text="Truce ends.\nMon 10 Nov 2025")
    assert payload(message, NtfyOptions(topic=TOPIC)) == {
        "topic": TOPIC,
        "title": "US–China truce expires tomorrow",
        "message": "Truce ends.\nMon 10 Nov 2025",
        "tags": ["alarm_clock", "trade"],
        "priority": DEFAULT_PRIORITY["reminder"],
        "click": "https://example.org/truce",
    }


def test_priority_by_kind_and_extra_tags() -> None:
    """Per-kind priorities (numbers or ntfy's names) override the defaults; option tags come before event tags."""
    options = NtfyOptions(topic=TOPIC, priority={"change": "max", "countdown": 1}, tags=["desk"])
    change = payload(make_message(kind="change", offset=None), options)
    assert (change["priority"], change["tags"]) == (5, ["warning", "desk", "trade"])
    digest = payload(make_message(kind="countdown", offset=None), options)
    assert (digest["priority"], digest["tags"]) == (1, ["calendar", "desk"])
    assert "click" not in digest


def test_source_that_is_not_a_url_gets_no_click() -> None:
    """Only an http(s) source becomes the click action."""
    message = make_message(event=make_event(source="Council minutes p. 4"))
    assert "click" not in payload(message, NtfyOptions(topic=TOPIC))


def test_long_message_fits_the_byte_limit() -> None:
    """A message over 4096 UTF-8 bytes is cut with … at a character boundary, so it stays a message."""
    text = "é" * 5000
    body = payload(make_message(text=text), NtfyOptions(topic=TOPIC))["message"]
    assert len(body.encode("utf-8")) <= MESSAGE_LIMIT
    assert body.endswith("…")
    assert body[:-1] == text[: len(body) - 1]


def test_message_limit_option() -> None:
    """A self-hosted server with a larger limit can say so."""
    body = payload(make_message(text="x" * 6000), NtfyOptions(topic=TOPIC, message_limit=8192))["message"]
    assert body == "x" * 6000


async def test_publishes_json_to_server_root(receiver: Receiver, http_client: httpx.AsyncClient) -> None:
    """The request goes to the server root (with its path prefix) as UTF-8 JSON; 200 + message JSON is sent."""
    receiver.reply(200, json.dumps({"id": "sPs71M8A2T", "time": 1762783200, "event": "message", "topic": TOPIC}))
    message = make_message(title="US–China truce expires tomorrow")
    summary = await _channel(receiver, http_client).send(message)
    assert summary == "HTTP 200 message sPs71M8A2T"
    (request,) = receiver.requests
    assert (request.method, request.path) == ("POST", "/ntfy/")
    assert request.headers["content-type"] == "application/json"
    assert "authorization" not in request.headers
    assert request.json() == payload(message, NtfyOptions(topic=TOPIC))


async def test_token_is_sent_as_bearer(receiver: Receiver, http_client: httpx.AsyncClient) -> None:
    """An access token goes in ``Authorization: Bearer``."""
    receiver.reply(200, json.dumps({"id": "a"}))
    await _channel(receiver, http_client, token="tk_abc123").send(make_message())
    assert receiver.requests[0].headers["authorization"] == "Bearer tk_abc123"


async def test_username_password_are_basic_auth(receiver: Receiver, http_client: httpx.AsyncClient) -> None:
    """A username and password go as HTTP Basic, UTF-8."""
    receiver.reply(200, json.dumps({"id": "a"}))
    await _channel(receiver, http_client, username="desk", password="pässword").send(make_message())
    expected = "Basic " + base64.b64encode("desk:pässword".encode()).decode()
    assert receiver.requests[0].headers["authorization"] == expected


NTFY_ANSWERS: list[tuple[int, str, bool, float | None, str]] = [
    (429, _error(42901, 429, "limit reached: too many requests"), False, 5, "ntfy: 42901 limit reached"),
    (429, _error(42908, 429, "limit reached: daily message quota reached"), False, None, "ntfy: 42908"),
    (429, _error(42909, 429, "limit reached: too many auth failures"), False, None, "ntfy: 42909"),
    (401, _error(40101, 401, "unauthorized"), True, None, "ntfy: 40101 unauthorized (HTTP 401): unauthorized; check"),
    (403, _error(40301, 403, "forbidden"), True, None, "ntfy: 40301 forbidden (HTTP 403): forbidden; check"),
    (400, _error(40009, 400, "invalid request: topic invalid"), True, None, "ntfy: 40009"),
    (400, _error(40007, 400, "invalid priority parameter"), True, None, "ntfy: 40007"),
    (400, _error(40011, 400, "invalid message: message must be UTF-8 encoded"), True, None, "ntfy: 40011"),
    (400, _error(40017, 400, "invalid request: request body must be message JSON"), True, None, "ntfy: 40017"),
    (400, _error(40024, 400, "invalid request: request body must be valid JSON"), True, None, "ntfy: 40024"),
    (413, _error(41303, 413, "JSON body too large"), True, None, "ntfy: 41303"),
    (500, _error(50001, 500, "internal server error"), False, None, "ntfy: 50001"),
    (404, _error(40401, 404, "page not found"), True, None, "ntfy: HTTP 404 from 127.0.0.1"),
    (502, "<html>Bad Gateway</html>", False, None, "ntfy: HTTP 502 from 127.0.0.1"),
    (200, "ok", False, None, "ntfy: unexpected answer (HTTP 200): ok"),
]


@pytest.mark.parametrize(("status", "body", "permanent", "retry_after", "start"), NTFY_ANSWERS)
async def test_ntfy_answers_over_socket(
    receiver: Receiver,
    http_client: httpx.AsyncClient,
    status: int,
    body: str,
    permanent: bool,
    retry_after: float | None,
    start: str,
) -> None:
    """ntfy's answers are classified by error code first, then by status, and never show the topic or token."""
    receiver.reply(status, body, {"Content-Type": "application/json"})
    with pytest.raises(DeliveryError) as info:
        await _channel(receiver, http_client, token="tk_s3cr3t").send(make_message())
    error = info.value
    assert (error.permanent, error.retry_after, error.status) == (permanent, retry_after, status)
    assert str(error).startswith(start)
    assert TOPIC not in str(error)
    assert "tk_s3cr3t" not in str(error)
    assert "\n" not in str(error)


def test_options_reject_unknown_keys() -> None:
    """Unknown keys are errors, like every channel's."""
    with pytest.raises(ValidationError, match="extra"):
        NtfyOptions.model_validate({"topic": TOPIC, "url": "https://ntfy.sh"})


def test_options_reject_token_with_password() -> None:
    """A token and a username/password pair are alternatives, and a username needs its password."""
    with pytest.raises(ValidationError, match="either token or username and password"):
        NtfyOptions.model_validate({"topic": TOPIC, "token": "tk_x", "username": "a", "password": "b"})
    with pytest.raises(ValidationError, match="username and password go together"):
        NtfyOptions.model_validate({"topic": TOPIC, "username": "a"})


def test_options_reject_bad_topic_without_quoting_it() -> None:
    """The topic must be a valid ntfy topic name, and the error does not repeat it."""
    with pytest.raises(ValidationError, match="1-64 letters") as info:
        NtfyOptions.model_validate({"topic": "my topic/s3cr3t"})
    assert "s3cr3t" not in str(info.value)
    assert TOPIC not in repr(NtfyOptions(topic=TOPIC, token="tk_s3cr3t"))
    assert "tk_s3cr3t" not in repr(NtfyOptions(topic=TOPIC, token="tk_s3cr3t"))


def test_options_reject_bad_priority() -> None:
    """A priority is 1-5 or one of ntfy's names."""
    with pytest.raises(ValidationError, match="1-5"):
        NtfyOptions.model_validate({"topic": TOPIC, "priority": {"reminder": 7}})
    with pytest.raises(ValidationError):
        NtfyOptions.model_validate({"topic": TOPIC, "priority": {"reminder": "loud"}})


def test_calendar_with_ntfy_channel_loads(tmp_path: Path) -> None:
    """A calendar declaring an ntfy channel, its token from a file, loads through the calendar loader."""
    (tmp_path / "ntfy-token").write_text("tk_fromfile\n", encoding="utf-8")
    path = tmp_path / "calendar.yaml"
    path.write_text(
        textwrap.dedent(
            f"""\
            version: 1
            channels:
              phone: {{type: ntfy, topic: {TOPIC}, token_file: ntfy-token, priority: {{countdown: low}}}}
            defaults: {{notify: [phone]}}
            """
        ),
        encoding="utf-8",
    )
    calendar, warnings = load_calendar(path, environ={})
    assert warnings == []
    channel = calendar.channels["phone"]
    assert channel.type == "ntfy"
    options = NtfyOptions.model_validate(dict(channel.options))
    assert (options.server, options.token, options.level("countdown")) == ("https://ntfy.sh", "tk_fromfile", 2)


def test_long_digest_keeps_whole_rows_with_a_count() -> None:
    """A digest over the byte limit keeps whole rows (each cut at 300 characters) and says how many are left."""
    lines = tuple(make_line(make_event(f"e{i}", title="ü" * 5000)) for i in range(50))
    text = "\n".join(f"• {'ü' * 5000} — tomorrow" for _ in lines)
    body = payload(make_message(kind="countdown", offset=None, lines=lines, text=text), NtfyOptions(topic=TOPIC))
    shown = body["message"].count("• ")
    assert len(body["message"].encode()) <= MESSAGE_LIMIT
    assert 0 < shown < 50
    assert body["message"].endswith(f"…and {50 - shown} more")


def test_many_long_tags_and_a_huge_url_are_bounded() -> None:
    """An event's tags are its first 10, each cut; a 10,000-character URL is not used as the click action."""
    event = make_event(tags=tuple("t" * 500 + str(i) for i in range(40)), source="https://example.org/" + "a" * 10_000)
    body = payload(make_message(event=event), NtfyOptions(topic=TOPIC))
    assert len(body["tags"]) == 11
    assert all(len(tag) <= 100 for tag in body["tags"])
    assert "click" not in body


def test_an_ack_link_is_a_view_action() -> None:
    link = "https://alertd.example.org/ack/abc.def.ghi"
    body = payload(make_message()._replace(ack_url=link), NtfyOptions(topic=TOPIC))
    assert body["actions"] == [{"action": "view", "label": "Acknowledge", "url": link, "clear": True}]
    assert "actions" not in payload(make_message(), NtfyOptions(topic=TOPIC))

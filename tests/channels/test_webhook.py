"""The generic webhook channel: payload shape, Standard Webhooks signing, options, outcomes over a socket."""

from __future__ import annotations

import base64
import io
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from pydantic import ValidationError
from standardwebhooks.webhooks import Webhook
from support.factories import make_channel, make_event, make_line, make_message
from support.receiver import Receiver
from support.standins import Standin

from alertd.channels import REGISTRY
from alertd.channels.answers import EXCERPT_MAX
from alertd.channels.base import ChannelContext
from alertd.channels.http import json_bytes
from alertd.channels.webhook import (
    MAX_BYTES,
    TYPE,
    WebhookOptions,
    body_bytes,
    instant,
    payload,
    sign,
    signing_key,
)
from alertd.domain import Message
from alertd.errors import DeliveryError

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

EVENT_JSON: dict[str, Any] = {
    "id": "truce-expiry",
    "title": "Trade truce expires",
    "starts_at": "2025-11-10T05:00:00Z",
    "all_day": True,
    "timezone": "America/New_York",
    "status": "confirmed",
    "tags": ["trade"],
    "source": "https://example.org/truce",
}


def _channel(receiver: Receiver, client: httpx.AsyncClient, **options: Any) -> Any:
    spec = make_channel("webhook", options={"url": receiver.url("/hook/t0k3n"), **options})
    return TYPE.build(spec, ChannelContext(http=client, out=io.StringIO(), settings=None))


def _host(receiver: Receiver) -> str:
    # What a reader may see of the URL: the receiver's host and port, never its path.
    return receiver.base_url.removeprefix("http://")


def _now_message(**kwargs: Any) -> Message:
    # The reference verifier checks the timestamp against the real clock (±5 min).
    now = datetime.now(UTC).replace(microsecond=0)
    return make_message(due_at=now - timedelta(seconds=1), sent_at=now, **kwargs)


def test_registered() -> None:
    """The registry maps ``webhook`` to this module."""
    assert REGISTRY["webhook"] is TYPE


def test_reminder_payload() -> None:
    """A reminder has every SPEC §5 field, instants in UTC with Z."""
    assert payload(make_message()) == {
        "id": "ntf_01J9Z3ZK7Q",
        "kind": "reminder",
        "due_at": "2025-11-09T14:00:00Z",
        "sent_at": "2025-11-09T14:00:02Z",
        "late": False,
        "event": EVENT_JSON,
        "offset": "1d",
        "countdown": {"seconds": 54000, "text": "tomorrow"},
        "text": "Trade truce expires tomorrow (Mon 10 Nov 2025, all day).",
        "change": None,
    }


def test_countdown_digest_payload() -> None:
    """A digest has no ``event`` or ``countdown`` but lists ``events``, each with its own countdown."""
    other = make_event(
        "summit",
        title="Summit",
        tags=(),
        source=None,
        all_day=False,
        local_start=datetime(2025, 11, 12, 9, 30),
    )
    message = make_message(
        kind="countdown",
        title="Coming up",
        text="…",
        offset=None,
        lines=(make_line(seconds=54000, text="tomorrow"), make_line(other, seconds=243000, text="in 2 days")),
    )
    body = payload(message)
    assert (body["event"], body["countdown"], body["offset"]) == (None, None, None)
    assert body["events"] == [
        {**EVENT_JSON, "countdown": {"seconds": 54000, "text": "tomorrow"}},
        {
            "id": "summit",
            "title": "Summit",
            "starts_at": "2025-11-12T14:30:00Z",
            "all_day": False,
            "timezone": "America/New_York",
            "status": "confirmed",
            "tags": [],
            "source": None,
            "countdown": {"seconds": 243000, "text": "in 2 days"},
        },
    ]


def test_change_payload_makes_values_json() -> None:
    """A change notice carries its change mapping, datetimes as UTC instants and tuples as lists."""
    change = {"what": "moved", "from": datetime(2025, 11, 1, 5, tzinfo=UTC), "fields": ("starts_at",)}
    body = payload(make_message(kind="change", offset=None, change=change))
    assert body["change"] == {"what": "moved", "from": "2025-11-01T05:00:00Z", "fields": ["starts_at"]}
    assert body["countdown"] is None
    assert "events" not in body


@pytest.mark.parametrize(
    "message",
    [
        make_message(),
        # Instants with microseconds, in another zone and naive (taken as UTC), as payload() reads them.
        make_message(
            due_at=datetime(2025, 11, 9, 23, 0, 2, 999999, tzinfo=ZoneInfo("Asia/Tokyo")),
            sent_at=datetime(2025, 11, 9, 14, 0, 3, 123456),
            late=True,
        ),
        make_message(kind="change", offset=None, change={"from": datetime(2025, 11, 1, 5, 0, 0, 5, tzinfo=UTC)}),
        make_message(title="x" * 5000, text="y" * 20_000)._replace(ack_url="https://alertd.example/ack/abc"),
        make_message(kind="countdown", offset=None, lines=(make_line(make_event()),)),
    ],
)
def test_sent_body_is_the_payload_json(message: Message) -> None:
    """The bytes sent (and signed) are exactly the JSON of :func:`payload`, however the instants are written."""
    assert body_bytes(message) == json_bytes(payload(message))


def test_instant_drops_microseconds_and_converts_to_utc() -> None:
    """Instants are whole seconds in UTC whatever zone they come in."""
    value = datetime(2025, 11, 9, 23, 0, 2, 999999, tzinfo=ZoneInfo("Asia/Tokyo"))
    assert instant(value) == "2025-11-09T14:00:02Z"


def test_signature_matches_reference_vector() -> None:
    """Signing reproduces the Standard Webhooks library's published test vector."""
    key = signing_key(SECRET)
    signature = sign(key, "msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330", b'{"test": 2432232314}')
    assert signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_raw_secret_is_utf8_key() -> None:
    """A secret without ``whsec_`` is used as UTF-8 key bytes."""
    assert signing_key("pässwörd") == "pässwörd".encode()


@pytest.mark.parametrize(
    ("options", "reason"),
    [
        ({"url": "ftp://example.com/x"}, "only http and https webhook URLs are allowed"),
        ({"url": "https://x.example/h", "secret": "whsec_!!!notbase64"}, "not valid base64"),
        ({"url": "https://x.example/h", "secret": ""}, "secret is empty"),
        ({"url": "https://x.example/h", "headers": {"Webhook-Id": "x"}}, "set by alertd"),
        ({"url": "https://x.example/h", "headers": {"X-Token": "é"}}, "single line of ASCII"),
        ({"url": "https://x.example/h", "headers": {"Bad Name": "x"}}, "not a valid HTTP header name"),
        ({"url": "https://x.example/h", "colour": "red"}, "Extra inputs are not permitted"),
    ],
)
def test_invalid_options(options: dict[str, Any], reason: str) -> None:
    """Bad options are refused with a reason."""
    with pytest.raises(ValidationError, match=reason):
        WebhookOptions.model_validate(options)


def test_options_never_show_url_or_secret() -> None:
    """Neither validation errors nor the repr reveal the URL or the secret."""
    with pytest.raises(ValidationError) as info:
        WebhookOptions.model_validate({"url": "gopher://x.example/t0k3n", "secret": SECRET})
    assert "t0k3n" not in str(info.value)
    options = WebhookOptions.model_validate({"url": "https://x.example/t0k3n", "secret": SECRET})
    assert "t0k3n" not in repr(options)
    assert SECRET not in repr(options)


async def test_sends_exact_payload_signed(receiver: Receiver, http_client: httpx.AsyncClient) -> None:
    """The exact payload bytes arrive with Standard Webhooks headers the reference library verifies."""
    message = _now_message(title="Trêve ✓", text="Trêve commerciale — demain")
    answer = await _channel(receiver, http_client, secret=SECRET).send(message)
    assert answer == f"HTTP 200 from {_host(receiver)}: ok"
    (request,) = receiver.requests
    assert (request.method, request.path) == ("POST", "/hook/t0k3n")
    assert request.body == json_bytes(payload(message))
    assert "Trêve commerciale — demain".encode() in request.body
    assert request.headers["content-type"] == "application/json"
    assert request.headers["webhook-id"] == message.id
    # The attempt's real time: a second boundary may pass between building the message and sending it.
    assert abs(int(request.headers["webhook-timestamp"]) - message.sent_at.timestamp()) <= 2
    assert Webhook(SECRET).verify(request.body, request.headers) == payload(message)


async def test_raw_secret_signature_verifies(receiver: Receiver, http_client: httpx.AsyncClient) -> None:
    """With a plain-text secret the reference library verifies using the same UTF-8 bytes as key."""
    await _channel(receiver, http_client, secret="correct horse battery staple").send(_now_message())
    (request,) = receiver.requests
    Webhook(b"correct horse battery staple").verify(request.body, request.headers)
    with pytest.raises(Exception, match="No matching signature"):
        Webhook(base64.b64encode(b"wrong key").decode()).verify(request.body, request.headers)


async def test_unsigned_without_secret_and_custom_headers_sent(
    receiver: Receiver, http_client: httpx.AsyncClient
) -> None:
    """Without a secret there is no signature header; configured headers are sent as given."""
    await _channel(receiver, http_client, headers={"Authorization": "Bearer abc"}).send(make_message())
    (request,) = receiver.requests
    assert "webhook-signature" not in request.headers
    assert request.headers["webhook-id"] == "ntf_01J9Z3ZK7Q"
    # The real time of the attempt, not the message's sent_at (virtual under --replay-from).
    assert abs(int(request.headers["webhook-timestamp"]) - datetime.now(UTC).timestamp()) < 60
    assert request.headers["authorization"] == "Bearer abc"
    assert request.json() == payload(make_message())


async def test_same_id_on_retry(
    receiver: Receiver, http_client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two attempts of one notification carry the same id and their own timestamps."""
    attempts = iter([datetime(2025, 11, 9, 14, 0, 2, tzinfo=UTC), datetime(2025, 11, 9, 14, 5, 2, tzinfo=UTC)])
    monkeypatch.setattr("alertd.channels.webhook.wall_now", lambda: next(attempts))
    channel = _channel(receiver, http_client, secret=SECRET)
    first = make_message()
    await channel.send(first)
    await channel.send(make_message(sent_at=first.sent_at + timedelta(minutes=5)))
    ids = [r.headers["webhook-id"] for r in receiver.requests]
    stamps = [int(r.headers["webhook-timestamp"]) for r in receiver.requests]
    assert ids == [first.id, first.id]
    assert stamps[1] - stamps[0] == 300


@pytest.mark.parametrize(
    ("status", "headers", "permanent", "retry_after"),
    [
        (500, {}, False, None),
        (503, {"Retry-After": "30"}, False, 30),
        (429, {"Retry-After": "7"}, False, 7),
        (410, {}, True, None),
        (400, {}, True, None),
        (301, {"Location": "https://elsewhere.example/new"}, True, None),
    ],
)
async def test_failures_over_socket(
    receiver: Receiver,
    http_client: httpx.AsyncClient,
    status: int,
    headers: dict[str, str],
    permanent: bool,
    retry_after: float | None,
) -> None:
    """Real HTTP failures become DeliveryErrors classified by status, without the URL."""
    receiver.reply(status, "nope", headers)
    with pytest.raises(DeliveryError) as info:
        await _channel(receiver, http_client).send(make_message())
    assert (info.value.permanent, info.value.retry_after, info.value.status) == (
        permanent,
        retry_after,
        status,
    )
    assert "t0k3n" not in str(info.value)


async def test_any_2xx_is_success(receiver: Receiver, http_client: httpx.AsyncClient) -> None:
    """Standard Webhooks counts every 2xx as delivered."""
    receiver.reply(204, "")
    assert await _channel(receiver, http_client).send(make_message()) == f"HTTP 204 from {_host(receiver)}"


async def test_answer_names_the_host_and_a_short_excerpt_but_not_the_path_token(
    receiver: Receiver, http_client: httpx.AsyncClient
) -> None:
    """The answer says which host took the message and how it answered, cut short, without the URL's token."""
    receiver.reply(200, "accepted " + "x" * 500)
    answer = await _channel(receiver, http_client).send(make_message())
    assert answer.startswith(f"HTTP 200 from {_host(receiver)}: accepted x")
    assert answer.endswith("…")
    assert len(answer) <= len(f"HTTP 200 from {_host(receiver)}: ") + EXCERPT_MAX
    assert "t0k3n" not in answer


async def test_digest_of_long_events_is_bounded_with_a_count(http_client: httpx.AsyncClient) -> None:
    """700 events with 10,000-character titles and sources: the body stays within 256 KiB, keeps the first events
    that fit (texts cut with …) and ``events_omitted`` says how many did not."""
    long = "<&>😀 " * 2000
    lines = tuple(make_line(make_event(f"e{i}", title=long, source=long, tags=(long,) * 60)) for i in range(700))
    message = make_message(kind="countdown", offset=None, lines=lines, text=long * 10)
    standin = Standin("webhook")
    await standin.start()
    try:
        await _channel(standin, http_client).send(message)
    finally:
        await standin.stop()
    assert standin.refused == []
    body = standin.requests[0].json()
    assert len(standin.requests[0].body) <= MAX_BYTES
    assert 0 < len(body["events"]) < 700
    assert body["events_omitted"] == 700 - len(body["events"])
    assert body["events"][0]["title"].endswith("…")
    assert len(body["events"][0]["tags"]) == 50


def test_an_ack_link_is_the_ack_url_field_and_absent_without_one() -> None:
    """``ack_url`` appears only when the daemon made a link (ALERTD_PUBLIC_URL set)."""
    link = "https://alertd.example.org/ack/abc.def.ghi"
    assert payload(make_message()._replace(ack_url=link))["ack_url"] == link
    assert "ack_url" not in payload(make_message())

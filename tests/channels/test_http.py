"""The shared HTTP helper: classification of every status class, redaction, network failures."""

from __future__ import annotations

import asyncio
import json
import socket
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest
from support.receiver import Receiver

from alertd.channels import http
from alertd.channels.client import Client
from alertd.errors import DeliveryError

NOW = datetime(2025, 11, 9, 14, 0, 2, tzinfo=UTC)
SECRET_URL = "https://hooks.example.com/services/T000/B000/s3cr3tT0k3n?token=abc123"


def _response(status: int, body: str = "", headers: dict[str, str] | None = None) -> httpx.Response:
    request = httpx.Request("POST", SECRET_URL)
    return httpx.Response(status, text=body, headers=headers, request=request)


def _error(response: httpx.Response) -> DeliveryError:
    with pytest.raises(DeliveryError) as info:
        http.classify(response, now=NOW)
    return info.value


# (status, permanent); None means success.
STATUSES: list[tuple[int, bool | None]] = [
    (200, None),
    (201, None),
    (202, None),
    (204, None),
    (301, True),
    (302, True),
    (303, True),
    (307, True),
    (308, True),
    (400, True),
    (401, True),
    (403, True),
    (404, True),
    (405, True),
    (408, False),
    (409, True),
    (410, True),
    (413, True),
    (418, True),
    (422, True),
    (425, False),
    (429, False),
    (451, True),
    (500, False),
    (501, False),
    (502, False),
    (503, False),
    (504, False),
    (520, False),
    (599, False),
    (600, False),
]


@pytest.mark.parametrize(("status", "permanent"), STATUSES)
def test_classify_every_status_class(status: int, permanent: bool | None) -> None:
    """2xx succeeds, 3xx and most 4xx are permanent, 408/425/429 and 5xx are transient."""
    response = _response(status, "nope")
    if permanent is None:
        http.classify(response, now=NOW)  # no exception: delivered
        return
    error = _error(response)
    assert error.permanent is permanent
    assert error.status == status
    assert f"HTTP {status}" in str(error)


@pytest.mark.parametrize(
    ("status", "words"),
    [
        (302, "not followed; update the URL"),
        (400, "payload rejected"),
        (413, "payload rejected"),
        (422, "payload rejected"),
        (401, "destination refused or gone"),
        (403, "destination refused or gone"),
        (404, "destination refused or gone"),
        (410, "destination refused or gone"),
        (409, "request refused"),
    ],
)
def test_classify_says_why(status: int, words: str) -> None:
    """Each permanent class explains itself in its message."""
    assert words in str(_error(_response(status)))


def test_retry_after_in_seconds() -> None:
    """A transient answer carries Retry-After given in seconds."""
    error = _error(_response(429, "slow down", {"Retry-After": "7"}))
    assert error.retry_after == 7
    assert "retry after 7s" in str(error)


def test_retry_after_as_http_date() -> None:
    """A transient answer carries Retry-After given as an HTTP date, measured from ``now``."""
    when = format_datetime(NOW + timedelta(seconds=120), usegmt=True)
    assert _error(_response(503, "", {"Retry-After": when})).retry_after == 120


def test_unreadable_retry_after_is_ignored() -> None:
    """A garbled Retry-After leaves the backoff to the retry policy."""
    assert _error(_response(503, "", {"Retry-After": "soon"})).retry_after is None


def test_permanent_errors_carry_no_retry_after() -> None:
    """A permanent answer is not retried, so its Retry-After is irrelevant."""
    assert _error(_response(404, "", {"Retry-After": "7"})).retry_after is None


def test_message_is_one_line_with_short_excerpt_and_no_url() -> None:
    """The error names status and host, quotes ≤ 200 chars of the body on one line, and hides the URL."""
    body = "bad\n\tthings " + "x" * 500 + f" while posting to {SECRET_URL}"
    message = str(_error(_response(500, body)))
    assert "\n" not in message
    assert message.startswith("HTTP 500 from hooks.example.com: bad things xxx")
    assert len(message.split(": ", 1)[1]) <= 200
    assert "s3cr3t" not in message
    assert "abc123" not in message


def test_excerpt_removes_echoed_url_and_html() -> None:
    """A body quoting the request URL or made of HTML is reduced to its text, token removed."""
    response = _response(
        502,
        f"<html><body><h1>Bad gateway</h1><p>{SECRET_URL}</p></body></html>",
        {"Content-Type": "text/html"},
    )
    assert http.excerpt(response) == "Bad gateway …"


def test_a_short_answer_worded_again_is_the_same_and_still_hides_the_url() -> None:
    """Short answers are worded once and remembered: the second time gives the same text, token removed."""
    first, second = (http.excerpt(_response(200, f"ok {SECRET_URL}", {"Content-Type": "text/plain"})) for _ in "12")
    other = http.excerpt(_response(200, f"ok {SECRET_URL}", {"Content-Type": "text/html"}))
    assert first == second == other == "ok …"
    assert http.excerpt(_response(200, "<b>ok</b>", {"Content-Type": "text/html"})) == "ok"
    assert http.excerpt(_response(200, "<b>ok</b>", {"Content-Type": "text/plain"})) == "<b>ok</b>"


def test_redirect_target_is_redacted() -> None:
    """A redirect names where it points without its path."""
    error = _error(_response(301, "", {"Location": "https://new.example.com/services/T/B/secret"}))
    assert "to https://new.example.com/…" in str(error)
    assert "secret" not in str(error)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (SECRET_URL, "https://hooks.example.com/…"),
        ("http://user:pass@127.0.0.1:8080/x", "http://127.0.0.1:8080/…"),
        ("https://example.com", "https://example.com/"),
        ("https://example.com/", "https://example.com/"),
        ("https://example.com/?k=v", "https://example.com/…"),
        ("HTTPS://Example.COM/a", "https://example.com/…"),
        ("http://[::1]:9000/hook", "http://[::1]:9000/…"),
        ("not a url", "<invalid URL>"),
        ("http://host:99999/x", "<invalid URL>"),
    ],
)
def test_redact(url: str, shown: str) -> None:
    """Only scheme, host and port survive redaction."""
    assert http.redact(url) == shown


@pytest.mark.parametrize("url", ["https://hooks.example.com/x", "http://127.0.0.1:8080/"])
def test_check_url_accepts_http_and_https(url: str) -> None:
    """http and https URLs with a host are valid."""
    assert http.check_url(url) == url


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("ftp://example.com/x", "only http and https webhook URLs are allowed"),
        ("file:///etc/passwd", "only http and https webhook URLs are allowed"),
        ("hooks.example.com/x", "only http and https webhook URLs are allowed"),
        ("https:///path", "the webhook URL has no host"),
        ("https://example.com:99999/", "invalid webhook URL"),
        ("https://example.com/a b", "invalid webhook URL"),
        ("https://example.com/\x00", "invalid webhook URL"),
    ],
)
def test_check_url_rejects(url: str, reason: str) -> None:
    """Other schemes, missing hosts and bad ports are rejected without quoting the URL."""
    with pytest.raises(ValueError, match="^" + reason + "$"):
        http.check_url(url)


def test_json_bytes_is_compact_utf8() -> None:
    """JSON is serialized once, compactly, keeping non-ASCII text as UTF-8."""
    assert http.json_bytes({"a": "é→", "b": [1, None]}) == '{"a":"é→","b":[1,null]}'.encode()


def test_json_bytes_never_writes_invalid_json() -> None:
    """A float JSON cannot hold becomes null, not the NaN or Infinity a strict receiver would reject."""
    body = http.json_bytes({"a": float("nan"), "b": float("inf"), "c": ("x", 1.5)})
    assert body == b'{"a":null,"b":null,"c":["x",1.5]}'
    assert json.loads(body) == {"a": None, "b": None, "c": ["x", 1.5]}


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


async def test_connection_refused_is_transient(http_client: Client) -> None:
    """Nothing listening on the port gives a one-line transient error naming only host and port."""
    port = _closed_port()
    with pytest.raises(DeliveryError) as info:
        await http.post(http_client, f"http://127.0.0.1:{port}/hook/s3cr3t", content=b"{}", now=NOW)
    assert str(info.value) == f"connection refused by 127.0.0.1:{port}"
    assert info.value.permanent is False
    assert info.value.status is None


async def test_timeout_is_transient(receiver: Receiver) -> None:
    """A server that does not answer in time gives a transient timeout error."""
    receiver.reply(200, "late", delay=2.0)
    async with http.make_client(0.2, trust_env=False) as client:
        with pytest.raises(DeliveryError) as info:
            await http.post(client, receiver.url("/hook/s3cr3t"), content=b"{}", now=NOW)
    assert str(info.value) == f"timed out waiting for {receiver.base_url.split('//')[1]} to answer"
    assert info.value.permanent is False


async def test_server_closing_the_connection_is_transient() -> None:
    """A server that hangs up without answering gives a transient error."""
    server = await asyncio.start_server(lambda r, w: w.close(), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        async with http.make_client(2.0, trust_env=False) as client:
            with pytest.raises(DeliveryError) as info:
                await http.post(client, f"http://127.0.0.1:{port}/hook/s3cr3t", content=b"{}", now=NOW)
    finally:
        server.close()
        await server.wait_closed()
    assert str(info.value) == f"127.0.0.1:{port} closed the connection without a complete answer"
    assert info.value.permanent is False


async def test_dns_failure_is_transient() -> None:
    """A name that does not resolve gives a transient error naming the host."""

    def fail(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("boom") from socket.gaierror(-2, "Name or service not known")

    async with httpx.AsyncClient(transport=httpx.MockTransport(fail)) as client:
        with pytest.raises(DeliveryError) as info:
            await http.post(client, "https://nowhere.example/hook/s3cr3t", content=b"{}", now=NOW)
    assert str(info.value) == "cannot resolve nowhere.example"
    assert info.value.permanent is False


async def test_unknown_network_error_names_only_its_type() -> None:
    """An unexpected transport error shows its type, never its text (which may quote the URL)."""

    def fail(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadError(f"failed reading {request.url}")

    async with httpx.AsyncClient(transport=httpx.MockTransport(fail)) as client:
        with pytest.raises(DeliveryError) as info:
            await http.post(client, SECRET_URL, content=b"{}", now=NOW)
    assert str(info.value) == "network error talking to hooks.example.com (ReadError)"


async def test_unsupported_scheme_is_permanent(http_client: Client) -> None:
    """A URL no transport can send to will never work."""
    with pytest.raises(DeliveryError) as info:
        await http.post(http_client, "ftp://files.example.com/drop/s3cr3t", content=b"{}", now=NOW)
    assert info.value.permanent is True
    assert "s3cr3t" not in str(info.value)


async def test_client_sends_user_agent_and_asks_for_no_compression(receiver: Receiver, http_client: Client) -> None:
    """The client identifies itself as alertd and asks for the body as is (a compressed answer is never decoded)."""
    response = await http.post(http_client, receiver.url(), json={"a": 1}, now=NOW)
    assert response.status_code == 200
    assert receiver.requests[0].headers["user-agent"] == http.USER_AGENT
    assert receiver.requests[0].headers["accept-encoding"] == "identity"
    assert http.USER_AGENT.startswith("alertd/")
    assert receiver.requests[0].json() == {"a": 1}


async def test_client_does_not_follow_redirects(receiver: Receiver, http_client: Client) -> None:
    """A redirect comes back as a permanent error instead of being followed."""
    receiver.reply(302, "", {"Location": receiver.url("/elsewhere")})
    response = await http.post(http_client, receiver.url(), content=b"{}", now=NOW)
    with pytest.raises(DeliveryError, match="not followed") as info:
        http.classify(response, now=NOW)
    assert info.value.permanent is True
    assert [r.path for r in receiver.requests] == ["/hook"]


def test_threaded_receiver_serves_other_threads(threaded_receiver: Receiver) -> None:
    """The threaded receiver answers a blocking client and records what it got."""
    threaded_receiver.reply(201, "made")
    response = httpx.post(threaded_receiver.url("/x"), content=b"hi", trust_env=False)
    assert (response.status_code, response.text) == (201, "made")
    (request,) = threaded_receiver.wait_for(1)
    assert (request.method, request.path, request.body) == ("POST", "/x", b"hi")


async def test_malformed_url_is_permanent(http_client: Client) -> None:
    """A URL httpx cannot even parse fails for good, without being quoted."""
    with pytest.raises(DeliveryError) as info:
        await http.post(http_client, "https://example.com:notaport/hook/s3cr3t", content=b"{}", now=NOW)
    assert info.value.permanent is True
    assert "s3cr3t" not in str(info.value)


def test_classify_for_prefixes_the_generic_verdict_with_the_service() -> None:
    """An answer a service's own table does not know keeps the generic verdict and says which service gave it."""
    error = http.classify_for("ntfy", _response(503, "down", {"Retry-After": "7"}), now=NOW)
    assert (error.permanent, error.retry_after, error.status) == (False, 7.0, 503)
    assert str(error).startswith("ntfy: HTTP 503 from ")


def test_classify_for_treats_an_undocumented_success_as_transient() -> None:
    """A 2xx that is not the service's documented success (a proxy answered?) is retried, not counted as sent."""
    error = http.classify_for("mattermost", _response(204), now=NOW)
    assert (str(error), error.permanent) == ("mattermost: unexpected answer (HTTP 204)", False)


def test_one_line_replaces_control_characters_and_bounds_the_text() -> None:
    """A receiver's text can neither drive a terminal nor run over lines: ESC/BEL/BS/NUL/DEL/C1 and bidi overrides
    are replaced, whitespace runs become one space, and the text is cut at the limit."""
    text = "a\x1b[31mred\x07\x08\x00\x7f\x9b\u202eb\n\r\tc"
    assert http.one_line(text) == "a\ufffd[31mred\ufffd\ufffd\ufffd\ufffd\ufffd\ufffdb c"
    assert http.one_line("x" * 500, 200) == "x" * 199 + "…"


def test_an_excerpt_replaces_control_characters() -> None:
    """An error excerpt carries no terminal control sequence from the body."""
    error = _error(_response(500, "boom\x1b]0;owned\x07\x1b[2J"))
    assert "\x1b" not in str(error)
    assert "\x07" not in str(error)

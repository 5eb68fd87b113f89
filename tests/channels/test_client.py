"""The one HTTP client (alertd.channels.client) against raw servers on 127.0.0.1 that frame answers in every way
HTTP allows, close connections at awkward moments, and over TLS; proxied requests through a tiny proxy."""

from __future__ import annotations

import asyncio
import gzip
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime

import httpx
import pytest
from support.pki import Pki
from support.proxy import Proxy
from support.raw_server import OK, RawServer
from support.receiver import Receiver

from alertd.channels import client as client_module
from alertd.channels import http
from alertd.channels.answer import MAX_ANSWER
from alertd.channels.client import MAX_HEADERS, MAX_LINE, Client
from alertd.errors import DeliveryError

NOW = datetime(2025, 11, 9, 14, 0, 2, tzinfo=UTC)
Serve = Callable[..., Awaitable[RawServer]]


@pytest.fixture
async def serve() -> AsyncIterator[Serve]:
    servers: list[RawServer] = []

    async def start(answer: Callable[[int], bytes | None], *, tls: object = None, **kw: object) -> RawServer:
        server = await RawServer(answer, **kw).start(tls)  # type: ignore[arg-type]
        servers.append(server)
        return server

    yield start
    for server in servers:
        await server.stop()


@pytest.fixture
async def client() -> AsyncIterator[Client]:
    async with http.make_client(5.0, trust_env=False) as made:
        yield made


async def _post(client: Client, url: str, body: bytes = b"{}") -> httpx.Response:
    return await http.post(client, url, content=body, headers={"content-type": "application/json"}, now=NOW)


async def _error(client: Client, url: str) -> DeliveryError:
    with pytest.raises(DeliveryError) as info:
        await _post(client, url)
    return info.value


# --- what is sent ---


async def test_headers_merge_with_the_callers_winning(receiver: Receiver, client: Client) -> None:
    """The client's headers are sent; the caller's win whatever their case; the body arrives as given."""
    response = await http.post(
        client,
        receiver.url("/hook/s3cr3t"),
        content=b'{"a":1}',
        headers={"content-type": "application/json", "user-agent": "custom/1", "X-Extra": "yes"},
        now=NOW,
    )
    assert (response.status_code, response.text) == (200, "ok")
    (got,) = receiver.requests
    assert got.headers["user-agent"] == "custom/1"
    assert got.headers["content-type"] == "application/json"
    assert got.headers["x-extra"] == "yes"
    assert got.body == b'{"a":1}'


async def test_json_is_sent_compactly_with_its_content_type(receiver: Receiver, client: Client) -> None:
    """``json=`` is sent compactly as UTF-8 with its content type, with the alertd User-Agent."""
    await http.post(client, receiver.url(), json={"é": [1, None]}, now=NOW)
    (got,) = receiver.requests
    assert got.body == '{"é":[1,null]}'.encode()
    assert got.headers["content-type"] == "application/json"
    assert got.headers["user-agent"] == http.USER_AGENT


async def test_a_header_that_would_break_the_framing_is_refused(receiver: Receiver, client: Client) -> None:
    """A CR or LF in a header would let its value start a header or a request of its own: permanent, unsent."""
    with pytest.raises(DeliveryError) as info:
        await http.post(client, receiver.url(), content=b"{}", headers={"X-Evil": "a\r\nHost: elsewhere"}, now=NOW)
    assert info.value.permanent
    assert "X-Evil" in str(info.value)
    assert "elsewhere" not in str(info.value)
    assert receiver.requests == []


async def test_an_idn_host_is_encoded_by_idna_2008(monkeypatch: pytest.MonkeyPatch) -> None:
    """``faß.example`` is sent to ``xn--fa-hia.example`` (IDNA 2008), never to ``fass.example`` (IDNA 2003); a proxy
    shows the host exactly as the client encoded it."""
    proxy = await Proxy(answer=OK).start()
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    try:
        async with http.make_client(5.0, trust_env=True) as client:
            response = await _post(client, "http://faß.example/hook")
    finally:
        await proxy.stop()
    assert response.status_code == 200
    assert proxy.lines == ["POST http://xn--fa-hia.example/hook HTTP/1.1"]


# --- framing of answers ---


async def test_a_chunked_answer_is_read_whole(serve: Serve, client: Client) -> None:
    """Transfer-Encoding: chunked, split over several chunks, reads back as one body."""
    answer = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
    server = await serve(lambda _: answer)
    got = await _post(client, server.url())
    assert (got.status_code, got.content) == (200, b"hello world")


async def test_an_answer_without_a_length_runs_until_the_server_closes(serve: Serve, client: Client) -> None:
    """An HTTP/1.0 answer with no Content-Length ends when the connection does."""
    server = await serve(lambda _: b"HTTP/1.0 200 OK\r\n\r\nall of it", close_after=True)
    got = await _post(client, server.url())
    assert (got.status_code, got.content, got.http_version) == (200, b"all of it", "HTTP/1.0")


async def test_an_interim_100_continue_is_passed_over(serve: Serve, client: Client) -> None:
    """A 1xx answer is not the answer: the one after it on the same connection is."""
    server = await serve(lambda _: b"HTTP/1.1 100 Continue\r\n\r\n" + OK)
    got = await _post(client, server.url())
    assert (got.status_code, got.content, got.reason_phrase) == (200, b"ok", "OK")


async def test_an_answer_has_the_servers_headers_and_charset(receiver: Receiver, client: Client) -> None:
    """Headers are httpx Headers built on first use; the text and the excerpt follow the declared charset."""
    receiver.reply(200, "caf\u00e9".encode("latin-1"), {"content-type": "text/plain; charset=latin-1", "x-id": "7"})
    response = await _post(client, receiver.url())
    assert isinstance(response.headers, httpx.Headers)
    assert (response.headers["X-Id"], response.headers.get("content-type")) == ("7", "text/plain; charset=latin-1")
    assert response.text == http.excerpt(response) == "café"
    assert response.http_version == "HTTP/1.1"


async def test_an_error_answer_names_the_host_and_hides_the_url(receiver: Receiver, client: Client) -> None:
    """The answer's request is built on demand, so classification and excerpts work as on any httpx answer."""
    url = receiver.url("/hook/s3cr3t")
    receiver.reply(500, f"failed posting to {url}")
    response = await _post(client, url)
    assert response.request.url == httpx.URL(url)
    with pytest.raises(DeliveryError) as info:
        http.classify(response, now=NOW)
    host = receiver.base_url.split("//")[1]
    assert str(info.value) == f"HTTP 500 from {host}: failed posting to …"


async def test_a_compressed_answer_is_kept_as_sent(serve: Serve, client: Client) -> None:
    """Content-Encoding is never decoded (alertd asks for identity): a gzip body stays its compressed bytes."""
    body = gzip.compress(b'{"ok":true}')
    head = f"HTTP/1.1 200 OK\r\ncontent-encoding: gzip\r\ncontent-length: {len(body)}\r\n\r\n".encode()
    server = await serve(lambda _: head + body)
    got = await _post(client, server.url())
    assert got.content == body
    assert http.json_object(got) == {}


async def test_a_malformed_answer_is_a_transient_error(serve: Serve, client: Client) -> None:
    """Bytes that are not HTTP give a one-line transient error naming the host."""
    server = await serve(lambda _: b"SMTP ready\r\n\r\n")
    error = await _error(client, server.url())
    assert str(error) == f"127.0.0.1:{server.port} sent an answer that is not valid HTTP"
    assert error.permanent is False


# --- bounds ---


async def test_an_oversized_answer_is_cut_and_the_next_post_still_works(serve: Serve, client: Client) -> None:
    """Past MAX_ANSWER bytes the body is dropped and its connection closed; the next POST opens another."""
    size = MAX_ANSWER + 500_000
    big = b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n" % size + b"x" * size
    server = await serve(lambda n: big if n == 0 else OK)
    first = await _post(client, server.url())
    assert (first.status_code, len(first.content)) == (200, MAX_ANSWER)
    assert (await _post(client, server.url())).content == b"ok"
    assert server.connections == 2


async def test_a_status_line_past_the_bound_is_refused(serve: Serve, client: Client) -> None:
    """A status reason longer than MAX_LINE bytes fails the attempt in one transient line."""
    server = await serve(lambda _: b"HTTP/1.1 200 " + b"O" * (MAX_LINE + 10) + b"\r\ncontent-length: 0\r\n\r\n")
    error = await _error(client, server.url())
    assert str(error).startswith(f"127.0.0.1:{server.port} sent an answer past alertd's bounds")
    assert error.permanent is False


async def test_a_header_line_past_the_bound_is_refused(serve: Serve, client: Client) -> None:
    """One header value longer than MAX_LINE bytes fails the attempt."""
    server = await serve(lambda _: b"HTTP/1.1 200 OK\r\nx-big: " + b"v" * (MAX_LINE + 10) + b"\r\n\r\n")
    assert "past alertd's bounds" in str(await _error(client, server.url()))


async def test_more_headers_than_the_bound_are_refused(serve: Serve, client: Client) -> None:
    """More than MAX_HEADERS header lines fail the attempt, however short each is."""
    lines = b"".join(b"x-%d: 1\r\n" % i for i in range(MAX_HEADERS + 1))
    server = await serve(lambda _: b"HTTP/1.1 200 OK\r\n" + lines + b"content-length: 0\r\n\r\n")
    assert "past alertd's bounds" in str(await _error(client, server.url()))


async def test_as_many_headers_as_the_bound_are_read(serve: Serve, client: Client) -> None:
    """Exactly MAX_HEADERS header lines, the longest allowed, are an ordinary answer."""
    lines = b"".join(b"x-%d: 1\r\n" % i for i in range(MAX_HEADERS - 1))
    server = await serve(lambda _: b"HTTP/1.1 200 OK\r\n" + lines + b"content-length: 2\r\n\r\nok")
    assert (await _post(client, server.url())).headers["x-0"] == "1"


async def test_a_server_trickling_its_answer_is_cut_at_the_overall_deadline(serve: Serve) -> None:
    """Each byte arrives well within the timeout, but the whole attempt may not take longer than it."""
    server = await serve(lambda _: b"HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n\r\n" + b"x" * 5)
    started = time.monotonic()
    async with http.make_client(0.3, trust_env=False) as client:
        error = await _error(client, server.url())
    assert time.monotonic() - started < 1.5
    assert str(error) == f"timed out waiting for 127.0.0.1:{server.port} to answer"
    assert error.permanent is False


async def test_a_timed_out_answer_closes_its_connection(serve: Serve) -> None:
    """A connection abandoned mid-answer is never handed to the next POST."""
    server = await serve(lambda _: OK, delay=0.5)
    async with http.make_client(0.2, trust_env=False) as client:
        await _error(client, server.url())
        server.delay = 0
        assert (await _post(client, server.url())).status_code == 200
    assert server.connections == 2


# --- connections ---


async def test_connections_are_kept_alive_and_reused(serve: Serve, client: Client) -> None:
    """Sequential POSTs to one host share one connection, each body arriving whole."""
    server = await serve(lambda _: OK)
    for i in range(3):
        assert (await _post(client, server.url(), f'{{"n":{i}}}'.encode())).status_code == 200
    assert server.connections == 1
    assert server.bodies == [b'{"n":0}', b'{"n":1}', b'{"n":2}']


async def test_an_answer_saying_connection_close_is_not_reused(serve: Serve, client: Client) -> None:
    """``Connection: close`` retires the connection; the next POST opens another."""
    closing = b"HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 2\r\n\r\nok"
    server = await serve(lambda _: closing)
    assert [(await _post(client, server.url())).status_code for _ in range(2)] == [200, 200]
    assert server.connections == 2


async def test_a_connection_the_server_dropped_while_idle_is_replaced(serve: Serve, client: Client) -> None:
    """A keep-alive connection the server closed after answering (an idle timeout) is not reused."""
    server = await serve(lambda _: OK, close_after=True)
    assert (await _post(client, server.url())).status_code == 200
    await asyncio.wait_for(server.closed.wait(), 2)
    await asyncio.sleep(0.05)  # the client's loop sees the close
    assert (await _post(client, server.url())).status_code == 200
    assert server.connections == 2


async def test_a_reused_connection_closed_before_any_answer_is_retried_once_at_once(
    serve: Serve, client: Client
) -> None:
    """The idle-close race: the server drops the kept-alive connection as the POST arrives; the same POST (same
    body, so the same idempotency id) goes again on a fresh connection and is delivered."""
    server = await serve(lambda n: None if n == 1 else OK)
    assert (await _post(client, server.url(), b'{"id":"a"}')).status_code == 200
    started = time.monotonic()
    assert (await _post(client, server.url(), b'{"id":"b"}')).status_code == 200
    assert time.monotonic() - started < 1.0
    assert server.bodies == [b'{"id":"a"}', b'{"id":"b"}', b'{"id":"b"}']
    assert server.connections == 2


async def test_a_fresh_connection_closed_before_any_answer_is_not_retried(serve: Serve, client: Client) -> None:
    """On a connection opened for this POST a close is the server's verdict: one attempt, a transient error."""
    server = await serve(lambda _: None)
    error = await _error(client, server.url())
    assert str(error) == f"127.0.0.1:{server.port} closed the connection without a complete answer"
    assert server.bodies == [b"{}"]


async def test_a_reused_connection_closed_mid_answer_is_not_retried(serve: Serve, client: Client) -> None:
    """Once part of the answer arrived the server has read the POST: no second send."""
    partial = b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nhalf"
    server = await serve(lambda n: OK if n == 0 else partial, close_after=False)
    await _post(client, server.url())
    server.close_after = True
    error = await _error(client, server.url())
    assert "closed the connection without a complete answer" in str(error)
    assert len(server.bodies) == 2


async def test_closing_the_client_closes_idle_connections(serve: Serve) -> None:
    """Nothing is left open once the client is closed."""
    server = await serve(lambda _: OK)
    client = http.make_client(5.0, trust_env=False)
    await _post(client, server.url())
    await client.aclose()
    await asyncio.wait_for(server.closed.wait(), 2)
    assert server.open == 0


# --- TLS ---


async def test_https_to_a_trusted_certificate_delivers_over_one_connection(
    serve: Serve, pki: Pki, monkeypatch: pytest.MonkeyPatch
) -> None:
    """TLS with the system's way of trusting a CA (``SSL_CERT_FILE``), over a kept-alive connection."""
    server = await serve(lambda _: OK, tls=pki.server)
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SSL_CERT_FILE", str(pki.ca_file))
    async with http.make_client(5.0, trust_env=True) as client:
        for _ in range(2):
            response = await _post(client, server.url("https"))
            assert (response.status_code, response.text) == (200, "ok")
    assert server.connections == 1


async def test_https_to_an_untrusted_certificate_is_refused(serve: Serve, pki: Pki, client: Client) -> None:
    """A certificate no trusted CA signed fails verification, named in one line; nothing is sent."""
    server = await serve(lambda _: OK, tls=pki.server)
    error = await _error(client, server.url("https"))
    assert str(error).startswith(f"TLS certificate of 127.0.0.1:{server.port} rejected: ")
    assert server.bodies == []


# --- proxies ---


async def test_a_proxy_from_the_environment_carries_the_post(
    receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``HTTP_PROXY`` sends the POST through the proxy (absolute-form request line), over the same client."""
    proxy = await Proxy().start()
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    try:
        async with http.make_client(5.0, trust_env=True) as client:
            response = await _post(client, receiver.url("/hook/s3cr3t"))
    finally:
        await proxy.stop()
    assert (response.status_code, response.text) == (200, "ok")
    assert proxy.lines == [f"POST {receiver.url('/hook/s3cr3t')} HTTP/1.1"]
    assert [r.path for r in receiver.requests] == ["/hook/s3cr3t"]


async def test_no_proxy_sends_directly(receiver: Receiver, monkeypatch: pytest.MonkeyPatch) -> None:
    """A host matched by ``NO_PROXY`` is dialled directly, the proxy untouched."""
    proxy = await Proxy().start()
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    try:
        async with http.make_client(5.0, trust_env=True) as client:
            assert (await _post(client, receiver.url())).status_code == 200
    finally:
        await proxy.stop()
    assert proxy.lines == []
    assert len(receiver.requests) == 1


async def test_connections_beyond_the_limit_wait_for_a_free_one(serve: Serve, monkeypatch: pytest.MonkeyPatch) -> None:
    """With a limit of one connection, concurrent POSTs take turns on it; none fails."""
    monkeypatch.setattr(client_module, "MAX_CONNECTIONS", 1)
    server = await serve(lambda _: OK, delay=0.05)
    async with http.make_client(5.0, trust_env=False) as client:
        answers = await asyncio.gather(*(_post(client, server.url()) for _ in range(4)))
    assert [a.status_code for a in answers] == [200] * 4
    assert server.connections == 1


async def test_a_connection_never_accepted_is_a_connect_timeout() -> None:
    """An address that drops SYNs (a full accept queue) gives "timed out connecting", not "waiting for an answer"."""
    silent = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    silent.bind(("127.0.0.1", 0))
    silent.listen(0)
    port = silent.getsockname()[1]
    fillers = [socket.socket(socket.AF_INET) for _ in range(3)]
    for filler in fillers:
        filler.setblocking(False)
        filler.connect_ex(("127.0.0.1", port))
    try:
        async with http.make_client(0.3, trust_env=False) as client:
            error = await _error(client, f"http://127.0.0.1:{port}/hook/s3cr3t")
    finally:
        for sock in (*fillers, silent):
            sock.close()
    assert str(error) == f"timed out connecting to 127.0.0.1:{port}"
    assert error.permanent is False

"""alertd's own HTTP/1.1 connections (the direct path), against raw servers on 127.0.0.1 that frame answers in
every way HTTP allows, and over TLS."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import ssl
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime

import pytest
from support.pki import Pki

from alertd.channels import h1, http
from alertd.errors import DeliveryError

NOW = datetime(2025, 11, 9, 14, 0, 2, tzinfo=UTC)
OK = b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 2\r\n\r\nok"


class RawServer:
    """Reads whole requests and answers each with ``answer(n)`` (n counts requests from 0); counts connections.

    ``close_after`` closes the connection after every answer, whatever the answer said.
    """

    def __init__(self, answer: Callable[[int], bytes], *, close_after: bool = False, delay: float = 0.0) -> None:
        self.answer = answer
        self.close_after = close_after
        self.delay = delay
        self.connections = 0
        self.open = 0
        self.most_open = 0
        self.bodies: list[bytes] = []
        self.closed = asyncio.Event()
        self.server: asyncio.Server | None = None
        self.port = 0

    async def start(self, tls: ssl.SSLContext | None = None) -> RawServer:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0, ssl=tls)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    def url(self, scheme: str = "http") -> str:
        return f"{scheme}://127.0.0.1:{self.port}/hook/s3cr3t"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self.open += 1
        self.most_open = max(self.most_open, self.open)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(
                    int(line.split(b":", 1)[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length:")
                )
                self.bodies.append(await reader.readexactly(length))
                await asyncio.sleep(self.delay)
                writer.write(self.answer(len(self.bodies) - 1))
                await writer.drain()
                if self.close_after:
                    break
        except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError):
            pass
        finally:
            self.open -= 1
            writer.close()
            with contextlib.suppress(ConnectionError, ssl.SSLError):
                await writer.wait_closed()
            self.closed.set()

    async def stop(self) -> None:
        assert self.server is not None
        self.server.close()


@pytest.fixture
async def serve() -> AsyncIterator[Callable[..., asyncio.Future[RawServer]]]:
    servers: list[RawServer] = []

    async def start(answer: Callable[[int], bytes], *, tls: ssl.SSLContext | None = None, **kw: object) -> RawServer:
        server = await RawServer(answer, **kw).start(tls)  # type: ignore[arg-type]
        servers.append(server)
        return server

    yield start  # type: ignore[misc]
    for server in servers:
        await server.stop()


def _pool(**kw: object) -> h1.Pool:
    return h1.Pool(ssl_context=ssl.create_default_context(), **kw)  # type: ignore[arg-type]


async def _post(pool: h1.Pool, url: str, body: bytes = b"{}", timeout: float = 5.0) -> h1.Answer:
    where = h1.target(url)
    data = h1.request_bytes(where, [("content-type", "application/json")], body)
    return await pool.post(where, data, asyncio.get_running_loop().time() + timeout)


async def test_a_chunked_answer_is_read_whole(serve: Callable[..., asyncio.Future[RawServer]]) -> None:
    """Transfer-Encoding: chunked, split over several chunks, reads back as one body."""
    answer = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
    server = await serve(lambda _: answer)
    got = await _post(_pool(), server.url())
    assert (got.status, got.content) == (200, b"hello world")


async def test_an_answer_without_a_length_runs_until_the_server_closes(
    serve: Callable[..., asyncio.Future[RawServer]],
) -> None:
    """An HTTP/1.0 answer with no Content-Length ends when the connection does."""
    server = await serve(lambda _: b"HTTP/1.0 200 OK\r\n\r\nall of it", close_after=True)
    got = await _post(_pool(), server.url())
    assert (got.status, got.content, got.version) == (200, b"all of it", "1.0")


async def test_an_interim_100_continue_is_passed_over(serve: Callable[..., asyncio.Future[RawServer]]) -> None:
    """A 1xx answer is not the answer: the one after it on the same connection is."""
    server = await serve(lambda _: b"HTTP/1.1 100 Continue\r\n\r\n" + OK)
    got = await _post(_pool(), server.url())
    assert (got.status, got.content, got.reason) == (200, b"ok", "OK")


async def test_connections_are_kept_alive_and_reused(serve: Callable[..., asyncio.Future[RawServer]]) -> None:
    """Sequential POSTs to one host share one connection, each body arriving whole."""
    server = await serve(lambda _: OK)
    pool = _pool()
    for i in range(3):
        assert (await _post(pool, server.url(), f'{{"n":{i}}}'.encode())).status == 200
    assert server.connections == 1
    assert server.bodies == [b'{"n":0}', b'{"n":1}', b'{"n":2}']


async def test_an_answer_saying_connection_close_is_not_reused(
    serve: Callable[..., asyncio.Future[RawServer]],
) -> None:
    """``Connection: close`` retires the connection; the next POST opens another."""
    closing = b"HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 2\r\n\r\nok"
    server = await serve(lambda _: closing)
    pool = _pool()
    assert [(await _post(pool, server.url())).status for _ in range(2)] == [200, 200]
    assert server.connections == 2


async def test_a_connection_the_server_dropped_while_idle_is_replaced(
    serve: Callable[..., asyncio.Future[RawServer]],
) -> None:
    """A keep-alive connection the server closes after answering (an idle timeout) is not reused."""
    server = await serve(lambda _: OK, close_after=True)
    pool = _pool()
    assert (await _post(pool, server.url())).status == 200
    await asyncio.wait_for(server.closed.wait(), 2)
    await asyncio.sleep(0.05)  # the client's loop sees the close
    assert (await _post(pool, server.url())).status == 200
    assert server.connections == 2


async def test_an_idle_connection_past_its_keepalive_is_not_reused(
    serve: Callable[..., asyncio.Future[RawServer]],
) -> None:
    """Connections idle longer than ``keepalive`` seconds are closed rather than reused."""
    server = await serve(lambda _: OK)
    pool = _pool(keepalive=0.05)
    await _post(pool, server.url())
    await asyncio.sleep(0.1)
    await _post(pool, server.url())
    assert server.connections == 2


async def test_an_oversized_answer_is_cut_and_the_connection_stays_in_step(
    serve: Callable[..., asyncio.Future[RawServer]],
) -> None:
    """Past MAX_ANSWER bytes the body is dropped, not kept; the next answer on the connection reads normally."""
    size = h1.MAX_ANSWER + 5000
    big = b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n" % size + b"x" * size
    server = await serve(lambda n: big if n == 0 else OK)
    pool = _pool()
    first = await _post(pool, server.url())
    assert (first.status, len(first.content)) == (200, h1.MAX_ANSWER)
    assert (await _post(pool, server.url())).content == b"ok"
    assert server.connections == 1


async def test_connections_beyond_the_limit_wait_for_a_free_one(
    serve: Callable[..., asyncio.Future[RawServer]],
) -> None:
    """With ``limit=1`` concurrent POSTs take turns on one connection; none fails."""
    server = await serve(lambda _: OK, delay=0.05)
    pool = _pool(limit=1)
    answers = await asyncio.gather(*(_post(pool, server.url()) for _ in range(4)))
    assert [a.status for a in answers] == [200] * 4
    assert (server.connections, server.most_open) == (1, 1)


async def test_waiting_past_the_deadline_for_a_connection_is_a_connect_timeout(
    serve: Callable[..., asyncio.Future[RawServer]],
) -> None:
    """A POST that never got a connection before its deadline says so (not that the server was slow)."""
    server = await serve(lambda _: OK, delay=0.5)
    pool = _pool(limit=1)
    busy = asyncio.create_task(_post(pool, server.url()))
    await asyncio.sleep(0.05)
    with pytest.raises(h1.ConnectTimeoutError):
        await _post(pool, server.url(), timeout=0.1)
    assert (await busy).status == 200


async def test_a_timed_out_answer_closes_its_connection(serve: Callable[..., asyncio.Future[RawServer]]) -> None:
    """A connection abandoned mid-answer is never handed to the next POST."""
    server = await serve(lambda _: OK, delay=0.3)
    pool = _pool()
    with pytest.raises(TimeoutError):
        await _post(pool, server.url(), timeout=0.1)
    server.delay = 0
    assert (await _post(pool, server.url())).status == 200
    assert server.connections == 2


async def test_closing_the_pool_closes_idle_connections(serve: Callable[..., asyncio.Future[RawServer]]) -> None:
    """Nothing is left open once the pool is closed."""
    server = await serve(lambda _: OK)
    pool = _pool()
    await _post(pool, server.url())
    pool.close()
    await asyncio.wait_for(server.closed.wait(), 2)
    assert server.open == 0


def test_the_same_refusal_at_every_address_is_still_a_refusal() -> None:
    """asyncio folds the failures of several addresses into one text-only OSError; the errno is read back."""
    folded = OSError(
        "Multiple exceptions: [Errno 111] Connect call failed ('::1', 9, 0, 0), "
        "[Errno 111] Connect call failed ('127.0.0.1', 9)".replace("111", str(errno.ECONNREFUSED))
    )
    assert isinstance(h1.unfold(folded), ConnectionRefusedError)
    mixed = OSError("Multiple exceptions: [Errno 111] Connect call failed, [Errno 101] Network is unreachable")
    assert h1.unfold(mixed) is mixed


def test_a_header_that_would_break_the_framing_is_refused() -> None:
    """A CR or LF in a header would let its value start a header or a request of its own."""
    where = h1.target("http://127.0.0.1/hook")
    with pytest.raises(ValueError, match="X-Evil"):
        h1.request_bytes(where, [("X-Evil", "a\r\nHost: elsewhere")], b"")


def test_the_request_carries_host_path_query_and_length() -> None:
    """Default ports are left out of Host; IPv6 hosts are bracketed; the query stays; the body follows."""
    data = h1.request_bytes(h1.target("https://Hooks.Example.com/a/b?x=1#frag"), [("X-A", "1")], b"{}")
    assert data == b"POST /a/b?x=1 HTTP/1.1\r\nHost: hooks.example.com\r\nX-A: 1\r\nContent-Length: 2\r\n\r\n{}"
    assert h1.target("http://[::1]:8080").head == b"POST / HTTP/1.1\r\nHost: [::1]:8080\r\n"


@pytest.mark.parametrize("url", ["ftp://example.com/x", "http://user:pw@example.com/x", "http:///x"])
def test_urls_it_does_not_handle_are_left_to_httpx(url: str) -> None:
    """Credentials in the URL, other schemes, no host: the httpx path handles (or words) them."""
    with pytest.raises(ValueError, match="not a plain http"):
        h1.target(url)


async def test_a_malformed_answer_is_a_transient_error(serve: Callable[..., asyncio.Future[RawServer]]) -> None:
    """Bytes that are not HTTP give a one-line transient error naming the host."""
    server = await serve(lambda _: b"SMTP ready\r\n\r\n")
    async with http.make_client(2.0, trust_env=False) as client:
        with pytest.raises(DeliveryError) as info:
            await http.post(client, server.url(), content=b"{}", now=NOW)
    assert str(info.value) == f"127.0.0.1:{server.port} sent an answer that is not valid HTTP"
    assert info.value.permanent is False


async def test_https_to_a_trusted_certificate_delivers(
    serve: Callable[..., asyncio.Future[RawServer]], pki: Pki, monkeypatch: pytest.MonkeyPatch
) -> None:
    """TLS with the system's way of trusting a CA (``SSL_CERT_FILE``), over a kept-alive connection."""
    server = await serve(lambda _: OK, tls=pki.server)
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SSL_CERT_FILE", str(pki.ca_file))
    async with http.make_client(5.0, trust_env=True) as client:
        assert client.direct(server.url("https"))  # type: ignore[attr-defined]
        for _ in range(2):
            response = await http.post(client, server.url("https"), content=b"{}", now=NOW)
            assert (response.status_code, response.text) == (200, "ok")
    assert server.connections == 1


async def test_https_to_an_untrusted_certificate_is_refused(
    serve: Callable[..., asyncio.Future[RawServer]], pki: Pki
) -> None:
    """A certificate no trusted CA signed fails verification, named in one line; nothing is sent."""
    server = await serve(lambda _: OK, tls=pki.server)
    async with http.make_client(5.0, trust_env=False) as client:
        with pytest.raises(DeliveryError) as info:
            await http.post(client, server.url("https"), content=b"{}", now=NOW)
    assert str(info.value).startswith(f"TLS certificate of 127.0.0.1:{server.port} rejected: ")
    assert server.bodies == []

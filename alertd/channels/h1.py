"""A small HTTP/1.1 client for the direct path: keep-alive POSTs of small bodies to a handful of hosts.

Every channel's POST goes through here unless a proxy applies (those go through httpx). It exists because
aiohttp's request machinery alone cost as much CPU per delivery as all of alertd's own work (claiming, rendering,
recording) together; this client costs about a third of it. It does only what a delivery needs: one request at a
time per connection, kept alive and reused; no redirects, cookies, request streaming or HTTP/2. Answers are parsed
by llhttp (``httptools``), the parser of Node.js and uvicorn, so framing (chunked, read to close, interim 1xx) is
not hand-written here.
"""

from __future__ import annotations

import asyncio
import os
import re
import socket
import ssl
from collections import deque
from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import Any, NamedTuple
from urllib.parse import urlsplit

import httptools

__all__ = [
    "MAX_ANSWER",
    "Answer",
    "ConnectTimeoutError",
    "DisconnectedError",
    "MalformedAnswerError",
    "Pool",
    "Target",
    "request_bytes",
    "target",
    "unfold",
]

# Only a verdict and an excerpt are read from an answer: past this much its body is dropped (a broken or hostile
# server cannot fill the daemon's memory), the connection kept in step.
MAX_ANSWER = 1 << 20


class ConnectTimeoutError(TimeoutError):
    """The attempt's deadline passed before a connection was ready (connecting, TLS, or waiting for a free one)."""


class DisconnectedError(ConnectionError):
    """The server closed the connection before a complete answer."""


class MalformedAnswerError(ConnectionError):
    """The server's bytes are not an HTTP/1.x answer."""


class Target(NamedTuple):
    """Where a URL's requests go, and the start of every request to it."""

    key: tuple[str, int, bool]
    host: str
    port: int
    tls: bool
    head: bytes


@lru_cache(maxsize=256)
def target(url: str) -> Target:
    """The target of an http(s) URL; ValueError for anything this client does not send to (left to httpx)."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname or parts.username is not None:
        raise ValueError("not a plain http(s) URL")
    host = parts.hostname
    if not host.isascii():
        host = host.encode("idna").decode("ascii")
    tls = scheme == "https"
    port = parts.port or (443 if tls else 80)
    shown = f"[{host}]" if ":" in host else host
    if port != (443 if tls else 80):
        shown += f":{port}"
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    if any(c.isspace() for c in path) or not path.isascii():
        raise ValueError("the URL's path needs quoting")
    return Target((host, port, tls), host, port, tls, f"POST {path} HTTP/1.1\r\nHost: {shown}\r\n".encode())


class Answer(NamedTuple):
    status: int
    reason: str
    version: str
    # As received, names and values in bytes (what httpx.Headers takes).
    headers: list[tuple[bytes, bytes]]
    content: bytes
    content_type: str
    encoded: bool


_BAD_VALUE = frozenset("\r\n\0")


def request_bytes(t: Target, headers: Iterable[tuple[str, str]], body: bytes) -> bytes:
    """The whole request: ``headers`` (names already unique) then the body's length and the body."""
    lines = [t.head]
    for name, value in headers:
        if _BAD_VALUE.intersection(value) or _BAD_VALUE.intersection(name) or not name or ":" in name:
            raise ValueError(f"header {name!r} cannot be sent: its name or value breaks the request's framing")
        lines.append(f"{name}: {value}\r\n".encode())
    lines.append(f"Content-Length: {len(body)}\r\n\r\n".encode())
    lines.append(body)
    return b"".join(lines)


_ERRNO = re.compile(r"\[Errno (\d+)\]")


def unfold(exc: OSError) -> OSError:
    """The error of every address, when asyncio folded the same failure at several addresses (IPv4 and IPv6) into
    one OSError with only text; ``exc`` itself otherwise. A refusal everywhere is then still a refusal."""
    codes = set(_ERRNO.findall(str(exc)))
    if exc.errno is not None or len(codes) != 1:
        return exc
    code = int(codes.pop())
    # OSError picks the subclass from the code: ConnectionRefusedError for ECONNREFUSED.
    return OSError(code, os.strerror(code))


class _Connection(asyncio.Protocol):
    """One connection: writes a request, feeds the answer's bytes to llhttp, resolves the waiting request."""

    def __init__(self, key: tuple[str, int, bool]) -> None:
        self.key = key
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.counted = True  # holds one of the pool's connection slots until forgotten
        self.idle_since = 0.0
        self._waiter: asyncio.Future[Answer] | None = None
        self._parser: Any = None
        self._reset()

    def _reset(self) -> None:
        self._headers: list[tuple[bytes, bytes]] = []
        self._body: list[bytes] = []
        self._size = 0
        self._reason = b""
        self._type = ""
        self._encoded = False
        # No length and not chunked: the body runs until the server closes the connection.
        self._to_close = False
        self._interim = False

    # asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        if self._waiter is None or self._waiter.done():
            # Bytes nobody asked for (a 408 on an idle connection, garbage): the connection is out of step.
            self.close()
            return
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(MalformedAnswerError(type(exc).__name__))
            self.close()

    def eof_received(self) -> bool:
        return False  # close the transport; connection_lost settles the request

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        waiter = self._waiter
        if waiter is None or waiter.done():
            return
        if self._to_close and exc is None:
            self._complete(keep=False)
            return
        lost = DisconnectedError("the connection closed before a complete answer")
        lost.__cause__ = exc
        self._fail(lost)

    # llhttp callbacks

    def on_status(self, reason: bytes) -> None:
        self._reason += reason

    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers.append((name, value))
        lowered = name.lower()
        if lowered == b"content-type":
            self._type = value.decode("latin-1")
        elif lowered == b"content-encoding":
            self._encoded = value.strip().lower() not in (b"", b"identity")

    def on_headers_complete(self) -> None:
        status = self._parser.get_status_code()
        if 100 <= status < 200 and status != 101:
            self._interim = True
            return
        names = {name.lower() for name, _ in self._headers}
        self._to_close = (
            b"content-length" not in names and b"transfer-encoding" not in names and status not in (204, 304)
        )

    def on_body(self, chunk: bytes) -> None:
        room = MAX_ANSWER - self._size
        if room > 0:
            self._body.append(chunk if len(chunk) <= room else chunk[:room])
        self._size += len(chunk)

    def on_message_complete(self) -> None:
        if self._interim:
            # 100 Continue, 103 Early Hints: the answer follows on the same connection.
            self._reset()
            return
        self._complete(keep=self._parser.should_keep_alive())

    def _complete(self, *, keep: bool) -> None:
        waiter, self._waiter = self._waiter, None
        if waiter is None or waiter.done():
            return
        parser = self._parser
        answer = Answer(
            status=parser.get_status_code(),
            reason=self._reason.decode("latin-1"),
            version=parser.get_http_version(),
            headers=self._headers,
            content=b"".join(self._body),
            content_type=self._type,
            encoded=self._encoded,
        )
        if not keep:
            self.close()
        waiter.set_result(answer)

    def _fail(self, exc: BaseException) -> None:
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_exception(exc)

    # used by the pool

    async def request(self, data: bytes) -> Answer:
        assert self.transport is not None
        self._reset()
        self._parser = httptools.HttpResponseParser(self)
        waiter: asyncio.Future[Answer] = asyncio.get_running_loop().create_future()
        self._waiter = waiter
        self.transport.write(data)
        return await waiter

    def usable(self, now: float, keepalive: float) -> bool:
        return (
            not self.closed
            and self.transport is not None
            and not self.transport.is_closing()
            and (now - self.idle_since < keepalive)
        )

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()

    def abort(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.abort()


class Pool:
    """Connections kept alive per (host, port, TLS), at most ``limit`` open at once in all.

    ``guard`` is called with every address about to be dialled, after DNS resolution (so a name re-resolving to
    an internal address is still judged); it raises to refuse it.
    """

    def __init__(
        self,
        *,
        ssl_context: ssl.SSLContext,
        limit: int = 100,
        keepalive: float = 30.0,
        guard: Callable[[str], None] | None = None,
    ) -> None:
        self._ssl = ssl_context
        self._limit = limit
        self._keepalive = keepalive
        self._guard = guard
        self._idle: dict[tuple[str, int, bool], list[_Connection]] = {}
        self._open = 0
        self._waiters: deque[asyncio.Future[None]] = deque()

    async def post(self, t: Target, data: bytes, deadline: float | None) -> Answer:
        """Send ``data`` (see :func:`request_bytes`) and return the answer by ``deadline`` (event loop time).

        Past the deadline, or cancelled, the connection is closed: it is mid-answer and cannot be reused.
        """
        conn = self._reuse(t)
        if conn is None:
            try:
                async with asyncio.timeout_at(deadline):
                    conn = await self._connect(t)
            except TimeoutError as exc:
                raise ConnectTimeoutError("no connection before the deadline") from exc
        try:
            async with asyncio.timeout_at(deadline):
                answer = await conn.request(data)
        except BaseException:
            conn.abort()
            self._forget(conn)
            raise
        if conn.closed:
            self._forget(conn)
        else:
            conn.idle_since = asyncio.get_running_loop().time()
            self._idle.setdefault(t.key, []).append(conn)
            self._wake()
        return answer

    def _reuse(self, t: Target) -> _Connection | None:
        idle = self._idle.get(t.key)
        if not idle:
            return None
        now = asyncio.get_running_loop().time()
        while idle:
            conn = idle.pop()  # the most recently used: the least likely to have been closed by the server
            if conn.usable(now, self._keepalive):
                return conn
            conn.close()
            self._forget(conn)
        return None

    async def _connect(self, t: Target) -> _Connection:
        while self._open >= self._limit:
            if not self._evict_one():
                waiter = asyncio.get_running_loop().create_future()
                self._waiters.append(waiter)
                try:
                    await waiter
                except BaseException:
                    if waiter.done() and not waiter.cancelled():
                        self._wake()  # woken, then cancelled: the turn goes to the next in line
                    elif waiter in self._waiters:
                        self._waiters.remove(waiter)
                    raise
                conn = self._reuse(t)
                if conn is not None:
                    return conn
        self._open += 1
        try:
            return await self._dial(t)
        except BaseException:
            self._open -= 1
            self._wake()
            raise

    async def _dial(self, t: Target) -> _Connection:
        loop = asyncio.get_running_loop()
        tls = self._ssl if t.tls else None
        name = t.host if t.tls else None
        if self._guard is None:
            try:
                _, conn = await loop.create_connection(
                    lambda: _Connection(t.key), t.host, t.port, ssl=tls, server_hostname=name, happy_eyeballs_delay=0.25
                )
            except OSError as exc:
                folded = unfold(exc)
                if folded is exc:
                    raise
                raise folded from exc
            return conn
        found = await loop.getaddrinfo(t.host, t.port, type=socket.SOCK_STREAM)
        failures: list[OSError] = []
        for family, _, _, _, address in found:
            try:
                self._guard(str(address[0]))
                _, conn = await loop.create_connection(
                    lambda: _Connection(t.key), str(address[0]), t.port, ssl=tls, server_hostname=name, family=family
                )
                return conn
            except OSError as exc:
                failures.append(exc)
        if not failures:
            raise socket.gaierror(socket.EAI_NONAME, "no address")
        # The first address's failure: the one a user would look at first (and the refusal, when guarded).
        raise failures[0]

    def _evict_one(self) -> bool:
        """Close the longest-idle connection to any host, making room; False when none is idle."""
        oldest: _Connection | None = None
        for idle in self._idle.values():
            if idle and (oldest is None or idle[0].idle_since < oldest.idle_since):
                oldest = idle[0]
        if oldest is None:
            return False
        self._idle[oldest.key].remove(oldest)
        oldest.close()
        self._forget(oldest)
        return True

    def _forget(self, conn: _Connection) -> None:
        if conn.counted:
            conn.counted = False
            self._open -= 1
            self._wake()

    def _wake(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    def close(self) -> None:
        """Close every idle connection (those in use are closed by their requests' end)."""
        for idle in self._idle.values():
            for conn in idle:
                conn.close()
                self._forget(conn)
        self._idle.clear()

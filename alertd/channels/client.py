"""The one HTTP client every channel sends through, direct or proxied: one aiohttp session behind the small
httpx-style surface channels use (``post(url, json=…, headers=…)`` answering an ``httpx.Response``).

What it adds to aiohttp's defaults, and why:

- One deadline for the whole attempt (connecting, sending, reading the answer): a receiver trickling its answer
  byte by byte cannot hold a delivery worker past ``ALERTD_HTTP_TIMEOUT``.
- Bounded answers: a status or header line of at most :data:`MAX_LINE` bytes, at most :data:`MAX_HEADERS` header
  lines, a body of at most :data:`~alertd.channels.answer.MAX_ANSWER` bytes kept; ``Accept-Encoding: identity``
  and no decoding of whatever encoding comes anyway (a compression bomb stays a small body).
- Proxies from ``HTTP(S)_PROXY``/``NO_PROXY`` chosen per request over the same session (so the same bounds apply);
  ``~/.netrc`` is not read: credentials are never sent to a target the calendar did not give them for.
- The private-target guard (:mod:`alertd.channels.guard`) on every dialled address, after resolution.
- The idle-close race: a POST on a reused keep-alive connection that the server closed before answering a byte
  is sent once more at once (the receiver never saw it; the body, idempotency id included, is the same).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from importlib import metadata
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import httpx
import orjson
from aiohttp.helpers import get_env_proxy_for_url, proxies_from_env
from yarl import URL

from alertd.channels.answer import Answer, read_bounded
from alertd.channels.guard import PROXIED, guarded_socket

__all__ = [
    "KEEPALIVE",
    "MAX_CONNECTIONS",
    "MAX_HEADERS",
    "MAX_LINE",
    "MAX_REDIRECTS",
    "USER_AGENT",
    "BadTargetError",
    "Client",
    "ConnectTimeoutError",
    "HttpClient",
]

MAX_LINE = 8190
MAX_HEADERS = 64
MAX_CONNECTIONS = 100
# Published calendars often sit behind one or two redirects (http to https, a short link, a CDN).
MAX_REDIRECTS = 5
KEEPALIVE = 30.0


def _version() -> str:
    import alertd

    version = getattr(alertd, "__version__", None)
    if isinstance(version, str):
        return version
    try:
        return metadata.version("alertd")
    except metadata.PackageNotFoundError:
        return "0+unknown"


USER_AGENT = f"alertd/{_version()}"


class ConnectTimeoutError(TimeoutError):
    """The deadline passed before a connection to the receiver was open (or free in the pool)."""


class BadTargetError(ValueError):
    """A URL or header that cannot be sent at all; the text never quotes the URL or a header's value."""


@dataclass(slots=True)
class _Attempt:
    """What the trace hooks saw of one request's connection."""

    connected: bool = False
    reused: bool = False
    answered: bool = False


def _idle_closed(exc: Exception, attempt: _Attempt) -> bool:
    """Whether a failed request met the idle-close race: its connection came from the pool and was closed (a FIN,
    or a reset once the request's bytes hit the closed socket) before any answer began, so the server never read
    the request."""
    if not attempt.reused or attempt.answered:
        return False
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        # A partial answer comes as the message parsed so far; nothing at all as the plain text.
        return isinstance(exc.message, str)
    # A reset, a broken pipe, or the request's body meeting a transport already closing.
    return isinstance(exc, aiohttp.ClientOSError)


async def _created(session: aiohttp.ClientSession, ctx: SimpleNamespace, params: object) -> None:
    ctx.trace_request_ctx.connected = True


async def _reused(session: aiohttp.ClientSession, ctx: SimpleNamespace, params: object) -> None:
    ctx.trace_request_ctx.connected = True
    ctx.trace_request_ctx.reused = True


# Characters that would end a header line (or the C string under it) early.
_FRAMING = re.compile("[\r\n\0]")


def _check(url: str, headers: Mapping[str, str]) -> URL:
    parts = urlsplit(url)
    try:
        parts.port  # noqa: B018 - raises ValueError on a bad port
        target = URL(url)
    except ValueError:
        raise BadTargetError("invalid URL") from None
    if parts.scheme.lower() not in ("http", "https") or not target.raw_host:
        raise BadTargetError("unsupported or invalid URL")
    for name, value in headers.items():
        # One scan in C per text: a generator over its characters cost a tenth of a request.
        if _FRAMING.search(name) or _FRAMING.search(value):
            raise BadTargetError(f"header {name!r} cannot be sent: its name or value breaks the request's framing")
    return target


@dataclass(slots=True)
class _Dial:
    """Where one request is aimed, and what its trace hooks saw of the current attempt."""

    session: aiohttp.ClientSession
    target: URL
    proxy: URL | None
    proxy_auth: aiohttp.BasicAuth | None
    attempt: _Attempt = field(default_factory=_Attempt)


def _answer(url: str, response: aiohttp.ClientResponse, body: bytes, *, version: str = "HTTP/1.1") -> Answer:
    return Answer(
        url,
        response.status,
        [(name.decode("latin-1"), value.decode("latin-1")) for name, value in response.raw_headers],
        body,
        version=version,
        reason=response.reason or "",
    )


class Client:
    """The HTTP client of a process (the daemon or one command); open it in the event loop that uses it."""

    def __init__(self, timeout: float | None, *, trust_env: bool = True, allow_private: bool = True) -> None:
        self.timeout = timeout
        self.headers = {"User-Agent": USER_AGENT, "Accept-Encoding": "identity"}
        self._guarded = not allow_private
        # SSL_CERT_FILE / SSL_CERT_DIR when trusting the environment, else certifi's bundle, as httpx does.
        self._ssl = httpx.create_ssl_context(trust_env=trust_env)
        self._proxied = trust_env and bool(proxies_from_env())
        self._session: aiohttp.ClientSession | None = None
        self.is_closed = False

    def _open(self) -> aiohttp.ClientSession:
        trace = aiohttp.TraceConfig()
        trace.on_connection_create_end.append(_created)
        trace.on_connection_reuseconn.append(_reused)
        connector = aiohttp.TCPConnector(
            ssl=self._ssl,
            limit=MAX_CONNECTIONS,
            keepalive_timeout=KEEPALIVE,
            socket_factory=guarded_socket if self._guarded else None,
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            headers=self.headers,
            # The deadline is asyncio.timeout around the whole attempt; aiohttp's own phases stay off.
            timeout=aiohttp.ClientTimeout(total=None),
            auto_decompress=False,
            max_line_size=MAX_LINE,
            max_field_size=MAX_LINE,
            max_headers=MAX_HEADERS,
            # Proxies are chosen per request below; trust_env would also read ~/.netrc for every target.
            trust_env=False,
            skip_auto_headers=("Content-Type",),
            trace_configs=[trace],
        )
        return self._session

    def _proxy_for(self, target: URL) -> tuple[URL | None, aiohttp.BasicAuth | None]:
        if not self._proxied:
            return None, None
        try:
            return get_env_proxy_for_url(target)
        except LookupError:  # NO_PROXY matched, or no proxy for this scheme
            return None, None

    async def post(
        self,
        url: str,
        *,
        json: Any = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """POST once (twice in the idle-close race) within the deadline; the answer's body is bounded."""
        if self.is_closed:
            raise RuntimeError("the HTTP client is closed")
        sent = dict(headers or {})
        if json is not None:
            content = orjson.dumps(json)
            if not any(name.lower() == "content-type" for name in sent):
                sent["Content-Type"] = "application/json"

        async def send(dial: _Dial) -> Answer:
            try:
                return await self._send(dial, url, content, sent)
            except (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError) as exc:
                if not _idle_closed(exc, dial.attempt):
                    raise
            dial.attempt = _Attempt()
            return await self._send(dial, url, content, sent)

        return await self._dialled(url, sent, self.timeout, send)

    async def get(
        self, url: str, *, headers: Mapping[str, str] | None = None, limit: int, timeout: float | None = None
    ) -> httpx.Response:
        """GET once within ``timeout`` (default: the client's), following up to :data:`MAX_REDIRECTS` redirects, each
        hop dialled through the same guard; at most ``limit + 1`` body bytes are read, so a caller can tell an answer
        past its bound from one exactly at it."""
        sent = dict(headers or {})

        async def fetch(dial: _Dial) -> Answer:
            async with dial.session.get(
                dial.target,
                headers=sent,
                proxy=dial.proxy,
                proxy_auth=dial.proxy_auth,
                max_redirects=MAX_REDIRECTS,
                trace_request_ctx=dial.attempt,
            ) as response:
                return _answer(url, response, await read_bounded(response, limit + 1))

        return await self._dialled(url, sent, self.timeout if timeout is None else timeout, fetch)

    async def _dialled(
        self, url: str, sent: Mapping[str, str], timeout: float | None, request: Callable[[_Dial], Awaitable[Answer]]
    ) -> Answer:
        """Run ``request`` against the checked target within ``timeout``: the one place a request is aimed (proxy,
        guard flag) and a deadline that passed before any connection opened becomes a ConnectTimeoutError."""
        if self.is_closed:
            raise RuntimeError("the HTTP client is closed")
        target = _check(url, sent)
        session = self._session or self._open()
        proxy, proxy_auth = self._proxy_for(target)
        dial = _Dial(session, target, proxy, proxy_auth)
        token = PROXIED.set(proxy is not None)
        try:
            async with asyncio.timeout(timeout):
                return await request(dial)
        except TimeoutError:
            if not dial.attempt.connected:
                raise ConnectTimeoutError from None
            raise
        finally:
            PROXIED.reset(token)

    async def _send(self, dial: _Dial, url: str, content: bytes | None, headers: dict[str, str]) -> Answer:
        async with dial.session.post(
            dial.target,
            data=content,
            headers=headers,
            proxy=dial.proxy,
            proxy_auth=dial.proxy_auth,
            allow_redirects=False,
            trace_request_ctx=dial.attempt,
        ) as response:
            dial.attempt.answered = True
            body = await read_bounded(response)
            version = f"HTTP/{response.version.major}.{response.version.minor}" if response.version else "HTTP/1.1"
            return _answer(url, response, body, version=version)

    async def aclose(self) -> None:
        self.is_closed = True
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def __aenter__(self) -> Client:
        return self

    async def __aexit__(self, *args: object) -> None:
        await self.aclose()


# What channels are given: the production client, or an httpx client (a MockTransport in unit tests).
HttpClient = Client | httpx.AsyncClient

"""The HTTP helper every HTTP channel shares: one client, one POST, one classification of outcomes.

Webhook URLs are credentials (the path or query carries the token), so no message made here ever contains a
full URL: :func:`redact` keeps only ``scheme://host[:port]``.
"""

from __future__ import annotations

import asyncio
import errno
import ipaddress
import json as jsonlib
import re
import socket
import ssl
from collections.abc import Iterator, Mapping
from datetime import datetime
from functools import lru_cache
from importlib import metadata
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import httpx
import orjson
from httpx_aiohttp import AiohttpTransport, HttpxAiohttpClient

from alertd.channels import h1
from alertd.channels.retry_after import parse_retry_after
from alertd.clock import wall_now
from alertd.errors import DeliveryError

__all__ = [
    "PRIVATE_SETTING",
    "USER_AGENT",
    "AlertdClient",
    "PrivateTargetError",
    "check_url",
    "classify",
    "classify_for",
    "excerpt",
    "is_private_address",
    "json_bytes",
    "json_object",
    "make_client",
    "post",
    "post_json",
    "redact",
]

_EXCERPT = 200
# Throttling and "try again later" answers; every other 5xx is transient too.
_TRANSIENT = frozenset({408, 425, 429})
_PAYLOAD = frozenset({400, 413, 422})
_DESTINATION = frozenset({401, 403, 404, 410})
_TAGS = re.compile(r"<[^>]*>")
_CHARSET = re.compile(r"charset\s*=\s*\"?([\w.:-]+)")


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


PRIVATE_SETTING = "ALERTD_ALLOW_PRIVATE_TARGETS"
_LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=20, keepalive_expiry=30.0)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class PrivateTargetError(OSError):
    """A connection to a loopback, private, link-local, multicast or reserved address was refused by policy."""


def is_private_address(address: str) -> bool:
    """True unless ``address`` is a public unicast IP; unparsable text counts as private (fail closed)."""
    try:
        ip: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.ip_address(address)
    except ValueError:
        return True
    # IPv6 forms that carry an IPv4 address reach that IPv4 host, so judge the embedded address.
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour
        if embedded is None and ip in _NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None:
            ip = embedded
    return not ip.is_global or ip.is_multicast or ip.is_reserved or ip.is_loopback or ip.is_link_local


def _check_address(host: str) -> None:
    """The private-target policy, applied to the exact address about to be dialled (after DNS resolution, so a
    name that re-resolves to an internal address, DNS rebinding, is still refused)."""
    if is_private_address(host):
        raise PrivateTargetError(
            errno.EACCES, f"{host} is a private, loopback or reserved address and {PRIVATE_SETTING} is false"
        )


def _guarded_socket(addr_info: tuple[Any, ...]) -> socket.socket:
    """aiohttp's socket factory with the private-target policy (the proxy path's transport)."""
    family, kind, proto, _, address = addr_info
    _check_address(str(address[0]))
    return socket.socket(family=family, type=kind, proto=proto)


def _transport(context: ssl.SSLContext, *, guarded: bool) -> AiohttpTransport:
    """The aiohttp transport under httpx (the path of proxied requests); ``guarded`` checks every dialled address
    with :func:`_guarded_socket`."""

    def session() -> aiohttp.ClientSession:
        # Built lazily, inside the running event loop, as aiohttp requires.
        connector = aiohttp.TCPConnector(
            ssl=context,
            limit=_LIMITS.max_connections or 100,
            keepalive_timeout=_LIMITS.keepalive_expiry,
            socket_factory=_guarded_socket if guarded else None,
        )
        return aiohttp.ClientSession(connector=connector)

    return AiohttpTransport(client=session, limits=_LIMITS)


class _Response(httpx.Response):
    """An answer from the direct path, built lazily: its httpx Headers and Request only when someone asks for them
    (error messages do; a delivered notification does not). Building them for every answer cost a tenth of a
    delivery's CPU."""

    def __init__(self, url: str, answer: h1.Answer) -> None:
        self.sent_to = url
        self.content_type = answer.content_type
        self._raw_headers = answer.headers
        self._headers: httpx.Headers | None = None
        extensions: dict[str, Any] = {"http_version": f"HTTP/{answer.version}".encode()}
        if answer.reason:
            extensions["reason_phrase"] = answer.reason.encode("latin-1")
        content = answer.content
        if answer.encoded:
            # Decoded (gzip, br…) by httpx, exactly as on the httpx path.
            stream = httpx.ByteStream(content)
            super().__init__(answer.status, headers=answer.headers, stream=stream, extensions=extensions)
            self.read()
            return
        # What httpx.Response.__init__ sets, for a body already whole and as sent (no decoder pipeline).
        self.status_code = answer.status
        self._request = None
        self.next_request = None
        self.extensions = extensions
        self.history = []
        self.default_encoding = "utf-8"
        self.stream = httpx.ByteStream(content)
        self._content = content
        self._num_bytes_downloaded = len(content)
        self.is_stream_consumed = self.is_closed = True

    @property
    def headers(self) -> httpx.Headers:
        if self._headers is None:
            self._headers = httpx.Headers(self._raw_headers)
        return self._headers

    @headers.setter
    def headers(self, value: Any) -> None:
        self._headers = httpx.Headers(value)

    @property
    def request(self) -> httpx.Request:
        if self._request is None:
            self._request = httpx.Request("POST", self.sent_to)
        return self._request

    @request.setter
    def request(self, value: httpx.Request) -> None:
        self._request = value


class AlertdClient(HttpxAiohttpClient):
    """The client :func:`make_client` returns: an httpx client on the aiohttp transport, plus the direct path.

    Every channel talks to it through :func:`post`, which sends a POST through alertd's own HTTP/1.1 connections
    (:mod:`alertd.channels.h1`) when no proxy applies: same address guard, headers, timeout and answer (an
    httpx.Response), at a fraction of the CPU: through httpx a POST cost several times the CPU of the aiohttp
    request underneath it, and aiohttp's request alone as much as the rest of a delivery. Anything else (proxies,
    odd URLs) goes through httpx on aiohttp.
    """

    def __init__(self, *, guarded: bool, **kwargs: Any) -> None:
        self._guarded = guarded
        self._aiohttp: AiohttpTransport | None = None
        self._pool: h1.Pool | None = None
        super().__init__(**kwargs)
        # Environment proxies become mounts (NO_PROXY ones map to None: the default transport).
        self._direct = all(mounted is None for mounted in self._mounts.values())
        # Read once, by lower-case name: merging httpx's Headers into every request cost as much as sending it.
        self._base_headers = {name.lower(): (name, value) for name, value in self.headers.items()}
        # One deadline for the whole attempt, as :func:`post` puts around the httpx path.
        self._deadline = _deadline(self.timeout)

    def _init_transport(self, *args: Any, trust_env: bool = True, **kwargs: Any) -> httpx.AsyncBaseTransport:
        # Overriding the hook rather than passing ``transport=`` keeps httpx building proxy mounts from
        # ``HTTP(S)_PROXY``, which a custom transport disables.
        context = httpx.create_ssl_context(trust_env=trust_env)
        self._pool = h1.Pool(
            ssl_context=context,
            limit=_LIMITS.max_connections or 100,
            keepalive=_LIMITS.keepalive_expiry or 30.0,
            guard=_check_address if self._guarded else None,
        )
        self._aiohttp = _transport(context, guarded=self._guarded)
        return self._aiohttp

    def direct(self, url: str) -> bool:
        """Whether :func:`post` may take the direct path to ``url``."""
        return self._direct and not self.is_closed and _plain_url(url)

    async def direct_post(self, url: str, content: bytes | None, headers: Mapping[str, str] | None) -> httpx.Response:
        assert self._pool is not None
        merged = self._base_headers
        if headers:
            merged = merged.copy()
            for name, value in headers.items():
                lowered = name.lower()
                if lowered not in _FRAMING:
                    merged[lowered] = (name, value)
        where = h1.target(url)
        try:
            data = h1.request_bytes(where, merged.values(), content or b"")
        except ValueError as exc:
            raise DeliveryError(str(exc), permanent=True) from None
        deadline = None if self._deadline is None else asyncio.get_running_loop().time() + self._deadline
        return _Response(url, await self._pool.post(where, data, deadline))

    async def aclose(self) -> None:
        if self._pool is not None:
            self._pool.close()
        await super().aclose()

    async def __aexit__(self, *args: Any) -> None:
        if self._pool is not None:
            self._pool.close()
        await super().__aexit__(*args)


# Set by the direct path itself from the body; a caller's copy would contradict it.
_FRAMING = frozenset({"content-length", "transfer-encoding", "host"})


@lru_cache(maxsize=256)
def _plain_url(url: str) -> bool:
    """An http(s) URL with a host and a valid port; anything else is left to httpx (and its error messages)."""
    try:
        check_url(url)
        h1.target(url)
    except ValueError:
        return False
    return True


def make_client(timeout: float, *, trust_env: bool = True, allow_private: bool = True) -> httpx.AsyncClient:
    """An httpx client on the aiohttp transport: no redirects, an alertd User-Agent, ``timeout`` seconds an attempt.

    ``trust_env`` honours ``HTTP(S)_PROXY``/``NO_PROXY`` and ``SSL_CERT_FILE``, like httpx itself.
    ``allow_private=False`` (``ALERTD_ALLOW_PRIVATE_TARGETS=false``) refuses, at connect time, every direct
    connection to a non-public address; requests sent through a configured proxy are the proxy's to police.
    """
    # HttpxAiohttpClient puts AiohttpTransport under every mount, env proxies included, and hands it the
    # limits (httpx's own transport collapses at ~50 concurrent requests, aiohttp's does not).
    return AlertdClient(
        timeout=httpx.Timeout(timeout),
        follow_redirects=False,
        headers={"User-Agent": USER_AGENT},
        limits=_LIMITS,
        trust_env=trust_env,
        guarded=not allow_private,
    )


def json_bytes(value: Any) -> bytes:
    """Compact UTF-8 JSON: the exact bytes that are sent (and signed).

    A value JSON cannot hold (a float NaN or infinity) is written as ``null``, never as the invalid ``NaN``.
    """
    return orjson.dumps(value)


@lru_cache(maxsize=256)
def redact(url: str) -> str:
    """``scheme://host[:port]/…``: what of a URL may appear in messages (the rest may be a credential)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
        port = parts.port
    except ValueError:
        return "<invalid URL>"
    if not parts.scheme or not host:
        return "<invalid URL>"
    if ":" in host:
        host = f"[{host}]"
    where = f"{parts.scheme.lower()}://{host}" + (f":{port}" if port is not None else "")
    hidden = parts.path not in ("", "/") or parts.query or parts.fragment
    return where + ("/…" if hidden else "/")


def _host(url: str) -> str:
    where = redact(url)
    return where.split("://", 1)[-1].split("/", 1)[0] or where


def check_url(value: str, *, what: str = "webhook") -> str:
    """Validate an http(s) URL for an options model; the error never repeats the URL."""
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError on a bad port
        if any(c.isspace() or not c.isprintable() for c in value):
            raise ValueError
    except ValueError:
        raise ValueError(f"invalid {what} URL") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise ValueError(f"only http and https {what} URLs are allowed")
    if not parts.hostname:
        raise ValueError(f"the {what} URL has no host")
    return value


def _causes(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    todo: list[BaseException] = [exc]
    while todo:
        current = todo.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        for nxt in (current.__cause__, current.__context__, getattr(current, "os_error", None)):
            if isinstance(nxt, BaseException):
                todo.append(nxt)


def _describe(exc: BaseException, url: str) -> tuple[str, bool]:
    """One line naming what went wrong, and whether it is permanent."""
    host = _host(url)
    chain = list(_causes(exc))
    # httpx_aiohttp maps most aiohttp connection errors to ConnectTimeout, so look at the real causes.
    for cause in chain:
        if isinstance(cause, httpx.UnsupportedProtocol | httpx.InvalidURL):
            return f"cannot send to {redact(url)}: unsupported or invalid URL", True
    for cause in chain:
        # With several addresses aiohappyeyeballs may fold the refusals into one plain OSError's text.
        if isinstance(cause, PrivateTargetError) or PRIVATE_SETTING in str(cause):
            return (
                f"refused to connect to {host}: it resolves to a private, loopback or reserved address "
                f"and {PRIVATE_SETTING} is false; set it to true to allow private targets",
                True,
            )
    for cause in chain:
        if isinstance(cause, ConnectionRefusedError) or getattr(cause, "errno", None) == errno.ECONNREFUSED:
            return f"connection refused by {host}", False
    for cause in chain:
        if isinstance(cause, socket.gaierror):
            return f"cannot resolve {host}", False
    for cause in chain:
        if isinstance(cause, ssl.SSLCertVerificationError):
            return (
                f"TLS certificate of {host} rejected: {cause.verify_message or 'verification failed'}",
                False,
            )
        if isinstance(cause, ssl.SSLError):
            return f"TLS handshake with {host} failed", False
    for cause in chain:
        if isinstance(cause, h1.ConnectTimeoutError | aiohttp.ConnectionTimeoutError | httpx.PoolTimeout):
            return f"timed out connecting to {host}", False
        if isinstance(cause, TimeoutError):
            return f"timed out waiting for {host} to answer", False
    for cause in chain:
        if isinstance(cause, ConnectionResetError):
            return f"connection reset by {host}", False
        if isinstance(cause, h1.DisconnectedError | aiohttp.ServerDisconnectedError | httpx.RemoteProtocolError):
            return f"{host} closed the connection without a complete answer", False
        if isinstance(cause, h1.MalformedAnswerError):
            return f"{host} sent an answer that is not valid HTTP", False
    root = chain[-1]
    # Exception texts may quote the URL, so only the type is shown.
    return f"network error talking to {host} ({type(root).__name__})", False


def _deadline(timeout: httpx.Timeout) -> float | None:
    # What alerting tools call a webhook timeout: the most an attempt may take in all, connecting, sending and
    # reading the answer. Phase timeouts alone would let a server trickling its answer byte by byte hold a delivery
    # worker for as long as it likes.
    phases = (timeout.connect, timeout.read, timeout.write, timeout.pool)
    if any(p is None for p in phases):
        return None
    return max(p for p in phases if p is not None)


async def post(
    client: httpx.AsyncClient,
    url: str,
    *,
    json: Any = None,
    content: bytes | None = None,
    headers: Mapping[str, str] | None = None,
    now: datetime,
) -> httpx.Response:
    """POST once and return the answer unclassified; a failure to get one raises DeliveryError.

    ``now`` is the send instant; it is taken for symmetry with :func:`classify` so callers pass the same
    arguments to both.
    """
    try:
        if isinstance(client, AlertdClient) and client.direct(url):
            if json is not None:
                content = json_bytes(json)
                headers = {"Content-Type": "application/json", **(headers or {})}
            return await client.direct_post(url, content, headers)
        async with asyncio.timeout(_deadline(client.timeout)):
            return await client.post(url, json=json, content=content, headers=headers)
    except (httpx.RequestError, httpx.InvalidURL, aiohttp.ClientError, OSError) as exc:
        # TimeoutError is an OSError, so the overall deadline lands here too.
        message, permanent = _describe(exc, url)
        raise DeliveryError(message, permanent=permanent) from None


async def post_json(
    client: httpx.AsyncClient, url: str, body: Any, *, headers: Mapping[str, str] | None = None
) -> tuple[httpx.Response, datetime]:
    """POST ``body`` (a JSON value, or bytes already encoded) as JSON; return the answer and the real instant sent.

    Real time, not the (possibly virtual) ``sent_at`` of the message: an HTTP-date ``Retry-After`` in the answer is
    measured against it.
    """
    content = body if isinstance(body, bytes) else json_bytes(body)
    now = wall_now()
    merged = {"content-type": "application/json", **(headers or {})}
    response = await post(client, url, content=content, headers=merged, now=now)
    return response, now


def json_object(response: httpx.Response) -> dict[str, Any]:
    """The body as a JSON object, or ``{}`` when it is anything else (HTML from a proxy, a list, bad bytes)."""
    try:
        data = jsonlib.loads(response.content)
    except ValueError:  # UnicodeDecodeError included
        return {}
    return data if isinstance(data, dict) else {}


def excerpt(response: httpx.Response, limit: int = _EXCERPT) -> str:
    """The start of the response body on one line, markup and the request URL removed."""
    try:
        content = response.content
    except httpx.ResponseNotRead:
        return ""
    if not content:
        return ""
    # The direct path's answer keeps its content type aside: reading it does not build httpx's headers.
    if isinstance(response, _Response):
        kind = response.content_type
        url: str | None = response.sent_to
    else:
        kind = response.headers.get("content-type", "")
        try:
            url = str(response.request.url)
        except RuntimeError:
            url = None
    if len(content) <= _SHORT:
        return _short_excerpt(content, kind, url, limit)
    return _excerpt(content, kind, url, limit)


# A service answers every delivery with the same few words ("ok", {"ok":true}): short answers are worded once.
_SHORT = 256


@lru_cache(maxsize=256)
def _short_excerpt(content: bytes, kind: str, url: str | None, limit: int) -> str:
    return _excerpt(content, kind, url, limit)


def _excerpt(content: bytes, kind: str, url: str | None, limit: int) -> str:
    kind = kind.lower()
    # httpx's ``response.text`` is exact but slow (it cost a fifth of a delivery): the charset parameter or UTF-8.
    found = _CHARSET.search(kind)
    try:
        text = content.decode(found.group(1) if found else "utf-8", errors="replace")
    except LookupError:
        text = content.decode("utf-8", errors="replace")
    if "html" in kind:
        text = _TAGS.sub(" ", text)
    if url is not None:
        # Some services echo the request URL (token included) in their error pages.
        for secret in _url_forms(url):
            text = text.replace(secret, "…")
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


@lru_cache(maxsize=256)
def _url_forms(url: str) -> tuple[str, ...]:
    """The forms in which an answer may quote the request URL: whole, path with query, decoded path."""
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL:
        return (url,) if len(url) > 1 else ()
    forms = (str(parsed), parsed.raw_path.decode("ascii", "replace"), parsed.path)
    return tuple(form for form in forms if len(form) > 1)


def classify(response: httpx.Response, *, now: datetime) -> None:
    """Return for 2xx, else raise the DeliveryError the status calls for (the one place that decides)."""
    status = response.status_code
    if 200 <= status < 300:
        return
    try:
        host = _host(str(response.request.url))
    except RuntimeError:
        host = "the server"
    body = excerpt(response)
    said = f": {body}" if body else ""
    head = f"HTTP {status} from {host}"
    if 300 <= status < 400:
        location = response.headers.get("location")
        to = f" to {redact(location)}" if location else ""
        raise DeliveryError(f"{head}: redirect{to} not followed; update the URL", permanent=True, status=status)
    if status in _TRANSIENT or 500 <= status < 600:
        retry_after = parse_retry_after(response.headers.get("retry-after"), now)
        wait = f" (retry after {retry_after:g}s)" if retry_after is not None else ""
        raise DeliveryError(f"{head}{wait}{said}", permanent=False, retry_after=retry_after, status=status)
    if status in _PAYLOAD:
        raise DeliveryError(f"{head}: payload rejected{said}", permanent=True, status=status)
    if status in _DESTINATION:
        raise DeliveryError(
            f"{head}: destination refused or gone; check the URL and credentials{said}",
            permanent=True,
            status=status,
        )
    if 400 <= status < 500:
        raise DeliveryError(f"{head}: request refused{said}", permanent=True, status=status)
    # 1xx as a final answer or a status past 599: a broken server or proxy, which may recover.
    raise DeliveryError(f"{head}: unexpected status{said}", permanent=False, status=status)


def classify_for(service: str, response: httpx.Response, *, now: datetime) -> DeliveryError:
    """The error for an answer a service's own table did not know: the generic classification of its status,
    prefixed with the service's name (a 2xx that got here was not the documented success: transient).

    Returned, not raised, so the caller's ``raise`` shows every exit of its classifier.
    """
    status = response.status_code
    try:
        classify(response, now=now)
    except DeliveryError as exc:
        return DeliveryError(f"{service}: {exc}", permanent=exc.permanent, retry_after=exc.retry_after, status=status)
    return DeliveryError(f"{service}: unexpected answer (HTTP {status})", status=status)

"""The HTTP helper every HTTP channel shares: one client, one POST, one classification of outcomes.

Webhook URLs are credentials (the path or query carries the token), so no message made here ever contains a
full URL: :func:`redact` keeps only ``scheme://host[:port]``.
"""

from __future__ import annotations

import errno
import json as jsonlib
import re
import socket
import ssl
from collections.abc import Iterator, Mapping
from datetime import datetime
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import httpx
import orjson
from aiohttp import http_exceptions

from alertd.channels.answer import Answer
from alertd.channels.client import (
    MAX_HEADERS,
    MAX_LINE,
    MAX_REDIRECTS,
    USER_AGENT,
    BadTargetError,
    Client,
    ConnectTimeoutError,
    HttpClient,
)
from alertd.channels.guard import PRIVATE_SETTING, PrivateTargetError, is_private_address
from alertd.channels.oneline import EXCERPT as _EXCERPT
from alertd.channels.oneline import one_line
from alertd.channels.retry_after import parse_retry_after
from alertd.clock import wall_now
from alertd.errors import DeliveryError

__all__ = [
    "PRIVATE_SETTING",
    "USER_AGENT",
    "PrivateTargetError",
    "check_url",
    "classify",
    "classify_for",
    "excerpt",
    "http_get",
    "is_private_address",
    "json_bytes",
    "json_object",
    "make_client",
    "one_line",
    "post",
    "post_json",
    "redact",
]

# Throttling and "try again later" answers; every other 5xx is transient too.
_TRANSIENT = frozenset({408, 425, 429})
_PAYLOAD = frozenset({400, 413, 422})
_DESTINATION = frozenset({401, 403, 404, 410})
_TAGS = re.compile(r"<[^>]*>")
_CHARSET = re.compile(r"charset\s*=\s*\"?([\w.:-]+)")


def make_client(timeout: float, *, trust_env: bool = True, allow_private: bool = True) -> Client:
    """The HTTP client channels send through: no redirects, an alertd User-Agent, ``timeout`` seconds an attempt.

    ``trust_env`` honours ``HTTP(S)_PROXY``/``NO_PROXY`` and ``SSL_CERT_FILE``. ``allow_private=False``
    (``ALERTD_ALLOW_PRIVATE_TARGETS=false``) refuses, at connect time, every direct connection to a non-public
    address; requests sent through a configured proxy are the proxy's to police.
    """
    return Client(timeout, trust_env=trust_env, allow_private=allow_private)


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
        underneath = (getattr(current, "os_error", None), getattr(current, "certificate_error", None))
        for nxt in (current.__cause__, current.__context__, *underneath):
            if isinstance(nxt, BaseException):
                todo.append(nxt)


def _describe(exc: BaseException, url: str) -> tuple[str, bool]:
    """One line naming what went wrong, and whether it is permanent."""
    host = _host(url)
    chain = list(_causes(exc))
    for cause in chain:
        if isinstance(cause, BadTargetError) and cause.args and str(cause.args[0]).startswith("header "):
            return f"cannot send to {host}: {cause.args[0]}", True
        if isinstance(cause, BadTargetError | httpx.UnsupportedProtocol | httpx.InvalidURL | aiohttp.InvalidURL):
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
        if isinstance(cause, ssl.SSLCertVerificationError) and hasattr(cause, "verify_message"):
            return (
                f"TLS certificate of {host} rejected: {cause.verify_message or 'verification failed'}",
                False,
            )
    for cause in chain:
        if isinstance(cause, ssl.SSLError):
            return f"TLS handshake with {host} failed", False
    for cause in chain:
        if isinstance(cause, ConnectTimeoutError | aiohttp.ConnectionTimeoutError | httpx.ConnectTimeout):
            return f"timed out connecting to {host}", False
        if isinstance(cause, TimeoutError):
            return f"timed out waiting for {host} to answer", False
    for cause in chain:
        if isinstance(cause, http_exceptions.LineTooLong) or "Too many headers" in str(cause):
            return (
                f"{host} sent an answer past alertd's bounds (a status or header line over {MAX_LINE} bytes, "
                f"or more than {MAX_HEADERS} headers)",
                False,
            )
    for cause in chain:
        if isinstance(cause, ConnectionResetError):
            return f"connection reset by {host}", False
        if isinstance(cause, aiohttp.ServerDisconnectedError | aiohttp.ClientPayloadError | httpx.RemoteProtocolError):
            return f"{host} closed the connection without a complete answer", False
    for cause in chain:
        if isinstance(cause, http_exceptions.HttpProcessingError):
            return f"{host} sent an answer that is not valid HTTP", False
    root = chain[-1]
    # Exception texts may quote the URL, so only the type is shown.
    return f"network error talking to {host} ({type(root).__name__})", False


async def post(
    client: HttpClient,
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
        return await client.post(url, json=json, content=content, headers=headers)
    except (httpx.RequestError, httpx.InvalidURL, aiohttp.ClientError, OSError, ValueError) as exc:
        # TimeoutError is an OSError, so the overall deadline lands here too.
        message, permanent = _describe(exc, url)
        raise DeliveryError(message, permanent=permanent) from None


async def http_get(
    client: HttpClient, url: str, *, headers: Mapping[str, str] | None = None, limit: int, timeout: float
) -> httpx.Response:
    """GET once (redirects followed) and return the answer unclassified, its body read up to ``limit + 1`` bytes; a
    failure to get one raises DeliveryError with a one-line cause that never quotes more of the URL than its host."""
    if not isinstance(client, Client):
        raise DeliveryError("fetching needs alertd's HTTP client", permanent=True)
    try:
        return await client.get(url, headers=headers, limit=limit, timeout=timeout)
    except (httpx.RequestError, httpx.InvalidURL, aiohttp.ClientError, OSError, ValueError) as exc:
        message, permanent = _describe(exc, url)
        if isinstance(exc, aiohttp.TooManyRedirects):
            message = f"{_host(url)} redirected more than {MAX_REDIRECTS} times"
        raise DeliveryError(message, permanent=permanent) from None


async def post_json(
    client: HttpClient, url: str, body: Any, *, headers: Mapping[str, str] | None = None
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
    # alertd's answer keeps its content type aside: reading it does not build httpx's headers.
    if isinstance(response, Answer):
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
    return one_line(text, limit)


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

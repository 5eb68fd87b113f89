"""What every HTTP request passes before the application sees it: the Host header, probes-only mode, and a write
token and a size bound for request bodies (checked in that order, before a byte of the body is read).

A pure ASGI middleware rather than a FastAPI dependency: FastAPI reads and parses a body before it runs the
route's dependencies, so a token check there comes after an unauthenticated client has made the daemon hold
whatever it sent.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Callable, Mapping

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from alertd.api.auth import Refusal, write_refusal
from alertd.settings import Settings

__all__ = ["PROBES", "SELF_SIGNED", "PageWrites", "RequestGuard", "allowed_hosts", "is_loopback"]

# Served to anyone even when the API itself is not: orchestrators probe and scrape without a token.
PROBES = frozenset({"/healthz", "/readyz", "/metrics"})
_LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1", "[::1]")
# Paths that carry their own proof instead of a bearer token: a signed acknowledgement link, Slack's request
# signature. They are served without the API token, also beyond loopback.
SELF_SIGNED = ("/ack/", "/slack/")
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def is_loopback(host: str) -> bool:
    """Whether binding ``host`` keeps the server reachable from this machine only."""
    name = host.strip().strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def allowed_hosts(settings: Settings) -> frozenset[str] | None:
    """The Host header values served (without port), or None for any.

    Default: the loopback names when bound to loopback (a web page that rebinds its own name to 127.0.0.1 still
    sends its own name), any otherwise (the names a server is reached by are not known to it).
    """
    configured = settings.http_allowed_hosts
    if configured:
        return None if "*" in configured else frozenset(configured)
    if is_loopback(settings.http_host):
        return frozenset((*_LOOPBACK_NAMES, settings.http_host.lower()))
    return None


def _host_name(value: str) -> str:
    value = value.strip().lower()
    if value.startswith("["):
        return value[: value.find("]") + 1] if "]" in value else value
    name = value.rsplit(":", 1)[0] if value.count(":") == 1 else value
    return name.rstrip(".")


def _bearer(value: str | None) -> str | None:
    if value is None:
        return None
    scheme, _, token = value.strip().partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


# Decides a write to a page outside /api/ (a dashboard form) from its path and headers: the session cookie
# stands in for the bearer token there, and it too is checked before the body is read.
PageWrites = Callable[[str, Mapping[str, str]], Refusal | None]


class _TooLargeError(Exception):
    pass


class RequestGuard:
    """Refuses, with the API's one-line JSON error, requests that must not reach the application."""

    def __init__(self, app: ASGIApp, settings: Settings, page_writes: PageWrites | None = None) -> None:
        self.app = app
        self.settings = settings
        self.page_writes = page_writes
        self.max_body = settings.api_max_body
        self.hosts = allowed_hosts(settings)
        # Beyond loopback with no token, the read routes would be open to the network: only probes are served.
        self.probes_only = (
            not is_loopback(settings.http_host) and settings.api_token is None and settings.api_read_token is None
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", ())}
        refusal = self._refusal(scope, headers)
        if refusal is not None:
            await _answer(send, refusal)
            return
        if scope["method"] not in _BODY_METHODS:
            await self.app(scope, receive, send)
            return
        try:
            body = await self._read_body(receive)
        except _TooLargeError:
            await _answer(send, self._too_large())
            return
        await self.app(scope, _replay(body, receive), send)

    def _refusal(self, scope: Scope, headers: dict[str, str]) -> Refusal | None:
        host = headers.get("host")
        if self.hosts is not None and host is not None and _host_name(host) not in self.hosts:
            return Refusal(
                403, "this Host header is not served here: add the name to ALERTD_HTTP_ALLOWED_HOSTS to allow it"
            )
        signed = str(scope["path"]).startswith(SELF_SIGNED)
        if self.probes_only and scope["path"] not in PROBES and not signed:
            return Refusal(
                403,
                "only /healthz, /readyz and /metrics are served beyond loopback without a token: "
                "set ALERTD_API_TOKEN (or ALERTD_API_READ_TOKEN), or bind ALERTD_HTTP_HOST to 127.0.0.1",
            )
        if scope["method"] in _BODY_METHODS and not signed:
            path: str = scope["path"]
            if self.page_writes is not None and not path.startswith("/api/"):
                refusal = self.page_writes(path, headers)
            else:
                refusal = write_refusal(self.settings, _bearer(headers.get("authorization")))
            if refusal is not None:
                return refusal
        length = headers.get("content-length", "0").strip()
        if not length.isdigit() or int(length) > self.max_body:
            return self._too_large() if length.isdigit() else Refusal(400, "bad Content-Length header")
        return None

    def _too_large(self) -> Refusal:
        return Refusal(413, f"request body larger than {self.max_body} bytes (ALERTD_API_MAX_BODY)")

    async def _read_body(self, receive: Receive) -> bytes:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                raise _TooLargeError
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed


async def _answer(send: Send, refusal: Refusal) -> None:
    body = json.dumps({"error": refusal.message, "detail": None}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    # The request body may be unread: the connection cannot carry another request, and closing it stops the
    # client from sending the rest (a paused reader would leave it blocked instead).
    headers.append((b"connection", b"close"))
    if refusal.status == 401:
        headers.append((b"www-authenticate", b"Bearer"))
    await send({"type": "http.response.start", "status": refusal.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})

"""A calendar-feed server on 127.0.0.1, for the feeds benchmark and the tests: serves one iCalendar body with an
ETag, answers 304 to a matching ``If-None-Match``, and can be switched to fail (a status, a stall, a huge body,
garbage)."""

from __future__ import annotations

import asyncio
import hashlib
import socket
from dataclasses import dataclass, field
from typing import Literal

from aiohttp import web

__all__ = ["FeedServer", "Seen"]

Mode = Literal["ok", "status", "stall", "huge", "garbage"]


@dataclass(frozen=True, slots=True)
class Seen:
    path: str
    headers: dict[str, str]


@dataclass
class FeedServer:
    body: bytes = b""
    mode: Mode = "ok"
    status: int = 500
    stall: float = 5.0
    huge_bytes: int = 50 * 1024 * 1024
    # False: validators by Last-Modified only (no ETag), as some servers do.
    etags: bool = True
    last_modified: str = "Mon, 20 Oct 2025 10:00:00 GMT"
    seen: list[Seen] = field(default_factory=list)
    _runner: web.AppRunner | None = None
    port: int = 0

    _tagged: tuple[bytes, str] | None = None

    @property
    def etag(self) -> str:
        # Hashed once per body: the benchmark's 5,000-event feed would otherwise cost a hash on every request timed.
        if self._tagged is None or self._tagged[0] is not self.body:
            self._tagged = (self.body, '"' + hashlib.sha256(self.body).hexdigest()[:16] + '"')
        return self._tagged[1]

    def url(self, path: str = "/calendar.ics") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        await web.SockSite(self._runner, sock).start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        self.seen.append(Seen(request.path, {k.lower(): v for k, v in request.headers.items()}))
        if request.path == "/moved":
            raise web.HTTPFound("/calendar.ics")
        if self.mode == "status":
            return web.Response(status=self.status, text="upstream trouble")
        if self.mode == "stall":
            await asyncio.sleep(self.stall)
            return web.Response(body=self.body)
        if self.mode == "garbage":
            return web.Response(body=b"<html><body>Sign in to view this calendar</body></html>")
        if self.mode == "huge":
            response = web.StreamResponse(headers={"Content-Type": "text/calendar"})
            await response.prepare(request)
            chunk = b"BEGIN:VCALENDAR\r\n" + b"X" * (1024 * 1024 - 17)
            sent = 0
            try:
                while sent < self.huge_bytes:
                    await response.write(chunk)
                    sent += len(chunk)
            except (ConnectionError, RuntimeError):
                return response  # the client stopped reading, as it should
            await response.write_eof()
            return response
        if not self.etags:
            if request.headers.get("If-Modified-Since") == self.last_modified:
                return web.Response(status=304)
            headers = {"Last-Modified": self.last_modified, "Content-Type": "text/calendar"}
            return web.Response(body=self.body, headers=headers)
        if request.headers.get("If-None-Match") == self.etag:
            return web.Response(status=304, headers={"ETag": self.etag})
        return web.Response(body=self.body, headers={"ETag": self.etag, "Content-Type": "text/calendar"})

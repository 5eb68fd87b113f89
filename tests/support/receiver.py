"""A real HTTP receiver for tests: records every request and answers from a script.

In a test's own event loop::

    receiver = Receiver()
    await receiver.start()          # or the ``receiver`` fixture
    receiver.reply(429, "", {"Retry-After": "7"})
    ... POST to receiver.url("/hook") ...
    receiver.requests[0].json()

For end-to-end tests whose client is another thread or a subprocess, ``Receiver().start_in_thread()`` runs the
server on its own loop in a daemon thread; ``wait_for(n)`` blocks until ``n`` requests have arrived.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

__all__ = ["Receiver", "Recorded", "Reply"]


@dataclass(frozen=True, slots=True)
class Recorded:
    """One request as it arrived; header names are lower-cased."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass(frozen=True, slots=True)
class Reply:
    """One scripted answer; ``delay`` seconds pass before it is sent (for timeout tests)."""

    status: int = 200
    body: bytes | str = b"ok"
    headers: Mapping[str, str] = field(default_factory=dict)
    delay: float = 0.0


class Receiver:
    """An aiohttp server on 127.0.0.1 on a free port; answers ``default`` once the script runs out."""

    def __init__(self, default: Reply | None = None) -> None:
        self.default = default or Reply()
        self.requests: list[Recorded] = []
        self._script: deque[Reply] = deque()
        # The server may run on another thread's loop; the lock and condition make that safe.
        self._arrived = threading.Condition()
        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def base_url(self) -> str:
        if self._port is None:
            raise RuntimeError("the receiver is not started")
        return f"http://127.0.0.1:{self._port}"

    def url(self, path: str = "/hook") -> str:
        return self.base_url + path

    def reply(
        self,
        status: int = 200,
        body: bytes | str = b"ok",
        headers: Mapping[str, str] | None = None,
        *,
        delay: float = 0.0,
    ) -> None:
        """Queue one answer; answers are used in order, one per request."""
        with self._arrived:
            self._script.append(Reply(status, body, dict(headers or {}), delay))

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Recorded]:
        """Block until ``count`` requests arrived (for threaded use); raise TimeoutError otherwise."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while len(self.requests) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"{len(self.requests)} of {count} requests arrived in {timeout}s")
                self._arrived.wait(left)
            return list(self.requests)

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        with self._arrived:
            self.requests.append(
                Recorded(
                    method=request.method,
                    path=request.path,
                    query=request.query_string,
                    headers={k.lower(): v for k, v in request.headers.items()},
                    body=body,
                )
            )
            answer = self._script.popleft() if self._script else self.default
            self._arrived.notify_all()
        if answer.delay:
            await asyncio.sleep(answer.delay)
        data = answer.body.encode() if isinstance(answer.body, str) else answer.body
        headers = dict(answer.headers)
        if not any(k.lower() == "content-type" for k in headers):
            headers["Content-Type"] = "text/plain; charset=utf-8"
        return web.Response(status=answer.status, body=data, headers=headers)

    async def start(self) -> str:
        """Start serving on the running loop; return the base URL."""
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        self._port = sock.getsockname()[1]
        await web.SockSite(self._runner, sock).start()
        return self.base_url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def start_in_thread(self) -> Receiver:
        """Serve from a daemon thread with its own loop (for subprocess clients); stop with :meth:`close`."""
        started = threading.Event()
        loop = asyncio.new_event_loop()
        self._loop = loop

        def run() -> None:
            asyncio.set_event_loop(loop)
            loop.run_until_complete(self.start())
            started.set()
            loop.run_forever()
            loop.run_until_complete(self.stop())
            loop.close()

        self._thread = threading.Thread(target=run, name="test-receiver", daemon=True)
        self._thread.start()
        if not started.wait(10):
            raise RuntimeError("the test receiver did not start")
        return self

    def close(self) -> None:
        """Stop a receiver started with :meth:`start_in_thread`."""
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
            self._thread = None
            self._loop = None

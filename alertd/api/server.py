"""uvicorn on the daemon's event loop: bound by alertd (so a busy port is a one-line error), no signal handlers."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Iterator

import uvicorn
from starlette.types import ASGIApp

from alertd.errors import ConfigError
from alertd.logs import RedactFeedTokens

__all__ = ["HttpServer"]

log = logging.getLogger("alertd.http")


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        # The daemon owns the process's signals (first SIGTERM drains, SIGHUP reloads); uvicorn must not take them.
        yield


def _listen(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port`` (port 0: any free port); ConfigError naming the setting on failure."""
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0][0]
        sock = socket.create_server((host, port), family=family)
    except OSError as exc:
        # Named by its errno alone: socket.create_server appends the Python tuple of the address to strerror.
        cause = os.strerror(exc.errno) if exc.errno and exc.errno > 0 else (exc.strerror or str(exc))
        raise ConfigError(
            f"ALERTD_HTTP_HOST/ALERTD_HTTP_PORT: cannot listen on {host}:{port}: {cause}; "
            "choose another port or stop the process using it"
        ) from None
    sock.setblocking(False)
    return sock


class HttpServer:
    """Serves one ASGI app until :meth:`stop`; :meth:`start` returns once the socket accepts connections."""

    def __init__(self, app: ASGIApp, *, host: str, port: int, grace: int = 5, access_log: bool = False) -> None:
        self.app = app
        self.host = host
        self.port = port
        self.grace = grace
        self.access_log = access_log
        self._server: _Server | None = None
        self._task: asyncio.Task[None] | None = None
        self._sock: socket.socket | None = None

    def bind(self) -> socket.socket:
        """Take the port now (ConfigError if it is busy), before the start-up does work a busy port would waste."""
        if self._sock is None:
            self._sock = _listen(self.host, self.port)
        return self._sock

    async def start(self) -> tuple[str, int]:
        """Bind unless :meth:`bind` did, start serving, and return the bound (host, port)."""
        sock = self.bind()
        config = uvicorn.Config(
            self.app,
            log_config=None,  # alertd's logging is set up by the CLI; uvicorn must not replace it
            access_log=self.access_log,
            lifespan="off",  # the daemon's start/shutdown are the lifespan
            server_header=False,
            timeout_graceful_shutdown=self.grace,
        )
        if self.access_log:
            access = logging.getLogger("uvicorn.access")
            # On the logger itself, so the feed token is gone whichever handlers the line reaches.
            if not any(isinstance(f, RedactFeedTokens) for f in access.filters):
                access.addFilter(RedactFeedTokens())
        server = self._server = _Server(config)
        self._task = asyncio.create_task(server.serve(sockets=[sock]), name="alertd-http")
        while not server.started:
            if self._task.done():
                sock.close()
                self._sock = None
                self._task.result()  # re-raise what stopped it
                raise ConfigError(f"the HTTP server on {self.host}:{self.port} stopped while starting")
            await asyncio.sleep(0.01)
        host, port = sock.getsockname()[:2]
        shown = f"[{host}]" if ":" in host else host
        log.info("HTTP API listening on http://%s:%d (dashboard: http://%s:%d/)", shown, port, shown, port)
        return str(host), int(port)

    async def stop(self) -> None:
        """Stop accepting, let requests in progress finish (up to the grace period), close the socket."""
        if self._server is None or self._task is None:
            if self._sock is not None:
                # Bound but never served: the start-up failed after taking the port.
                self._sock.close()
                self._sock = None
            return
        self._server.should_exit = True
        try:
            await asyncio.wait_for(asyncio.shield(self._task), timeout=self.grace + 5)
        except TimeoutError:
            self._server.force_exit = True
            await self._task
        self._server, self._task, self._sock = None, None, None

"""uvicorn, a production HTTP server, on the test's own event loop: a tiny ASGI app that reads each POST and
answers ``200 ok``, counting requests."""

from __future__ import annotations

import asyncio
import ssl
from typing import Any

import uvicorn

__all__ = ["Uvicorn"]


class Uvicorn:
    """``host`` may be ``127.0.0.1`` or ``::1``; ``keep_alive`` is uvicorn's idle timeout for kept-alive
    connections; ``tls`` a server context (set after uvicorn's own loading, so SNI callbacks stay in place)."""

    def __init__(self, host: str = "127.0.0.1", *, keep_alive: int = 5, tls: ssl.SSLContext | None = None) -> None:
        self.requests = 0
        self.host = host
        config = uvicorn.Config(
            self._app,
            host=host,
            port=0,
            log_level="warning",
            lifespan="off",
            interface="asgi3",
            http="h11",
            timeout_keep_alive=keep_alive,
        )
        config.load()
        if tls is not None:
            config.ssl = tls
        self.server = uvicorn.Server(config)
        self.task: asyncio.Task[None] | None = None

    async def _app(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        assert scope["type"] == "http"
        while (await receive()).get("more_body"):
            pass
        self.requests += 1
        headers = [(b"content-type", b"text/plain"), (b"content-length", b"2")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b"ok"})

    async def start(self) -> Uvicorn:
        self.task = asyncio.create_task(self.server.serve())
        while not self.server.started:
            await asyncio.sleep(0.01)
        return self

    @property
    def port(self) -> int:
        port: int = self.server.servers[0].sockets[0].getsockname()[1]
        return port

    def url(self, host: str | None = None, scheme: str = "http") -> str:
        name = host or self.host
        if ":" in name:
            name = f"[{name}]"
        return f"{scheme}://{name}:{self.port}/hook/s3cr3t"

    async def stop(self) -> None:
        self.server.should_exit = True
        if self.task is not None:
            await self.task

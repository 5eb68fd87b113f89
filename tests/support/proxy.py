"""A tiny forward HTTP proxy on 127.0.0.1 for plain-http targets: records each request line, then relays bytes
both ways between the client and the target it names (an absolute-form request, as clients send to proxies)."""

from __future__ import annotations

import asyncio
import contextlib
from urllib.parse import urlsplit

__all__ = ["Proxy"]


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionError, asyncio.CancelledError):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    writer.close()


class Proxy:
    """``lines`` holds every request line received, e.g. ``POST http://xn--fa-hia.example/hook HTTP/1.1``.

    ``answer``, when set, is sent back instead of relaying (for targets that do not resolve).
    """

    def __init__(self, answer: bytes | None = None) -> None:
        self.answer = answer
        self.lines: list[str] = []
        self.server: asyncio.Server | None = None
        self.tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> Proxy:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return self

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()
            return
        line, rest = head.split(b"\r\n", 1)
        method, target, version = line.decode("latin-1").split(" ")
        self.lines.append(f"{method} {target} {version}")
        if self.answer is not None:
            writer.write(self.answer)
            await writer.drain()
            writer.close()
            return
        parts = urlsplit(target)
        up_reader, up_writer = await asyncio.open_connection(parts.hostname, parts.port or 80)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        up_writer.write(f"{method} {path} {version}\r\n".encode("latin-1") + rest)
        # The rest of the request (its body) and the whole answer are relayed as they come.
        for task in (
            asyncio.create_task(_pipe(reader, up_writer)),
            asyncio.create_task(_pipe(up_reader, writer)),
        ):
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

    async def stop(self) -> None:
        assert self.server is not None
        self.server.close()
        for task in list(self.tasks):
            task.cancel()

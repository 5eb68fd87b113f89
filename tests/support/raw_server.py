"""A raw HTTP/1.1 server on 127.0.0.1 answering with exact bytes, for framings and hostile answers no well-behaved
server sends.

``answer(n)`` gives the bytes for request ``n`` (counted from 0 over all connections); ``None`` closes the connection
without answering (what a server's idle timeout does to a request it never read). ``close_after`` closes each
connection after one answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import Callable

__all__ = ["OK", "RawServer"]

OK = b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 2\r\n\r\nok"


class RawServer:
    """Reads whole requests and answers each with ``answer(n)``; counts connections."""

    def __init__(self, answer: Callable[[int], bytes | None], *, close_after: bool = False, delay: float = 0.0) -> None:
        self.answer = answer
        self.close_after = close_after
        self.delay = delay
        self.connections = 0
        self.open = 0
        self.bodies: list[bytes] = []
        self.heads: list[bytes] = []
        self.closed = asyncio.Event()
        self.server: asyncio.Server | None = None
        self.port = 0

    async def start(self, tls: ssl.SSLContext | None = None, host: str = "127.0.0.1") -> RawServer:
        self.server = await asyncio.start_server(self._serve, host, 0, ssl=tls)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    def url(self, scheme: str = "http", host: str = "127.0.0.1") -> str:
        return f"{scheme}://{host}:{self.port}/hook/s3cr3t"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self.open += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                self.heads.append(head)
                length = next(
                    (
                        int(line.split(b":", 1)[1])
                        for line in head.split(b"\r\n")
                        if line.lower().startswith(b"content-length:")
                    ),
                    0,
                )
                self.bodies.append(await reader.readexactly(length))
                await asyncio.sleep(self.delay)
                data = self.answer(len(self.bodies) - 1)
                if data is None:
                    break
                writer.write(data)
                await writer.drain()
                if self.close_after:
                    break
        except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError):
            pass
        finally:
            self.open -= 1
            writer.close()
            with contextlib.suppress(ConnectionError, ssl.SSLError):
                await writer.wait_closed()
            self.closed.set()

    async def stop(self) -> None:
        assert self.server is not None
        self.server.close()

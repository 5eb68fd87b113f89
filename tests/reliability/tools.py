"""Fault injection for the reliability suite: a scriptable HTTP endpoint and a TCP proxy that can be cut.

Both run an asyncio loop on their own thread, so the daemons under test (subprocesses) and the test's own blocking
code can use them at once. Neither uses a third-party server: each must be able to stop listening (so clients get
"connection refused") and listen again on the same port.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from e2e.harness import DaemonProcess, Harness

__all__ = [
    "READY",
    "Arrival",
    "FlakyEndpoint",
    "Replicas",
    "TcpProxy",
    "free_port",
    "reminders_calendar",
    "wait_until",
]

# What a daemon logs once it has applied the calendar.
READY = r"INFO +calendar \S+: \d+ added"


def free_port() -> int:
    """A port nothing listens on right now (connections to it are refused until someone binds it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class _LoopThread:
    """An asyncio loop on a daemon thread; :meth:`call` runs a coroutine there and waits for its result."""

    def __init__(self, name: str) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name=name, daemon=True)
        self._thread.start()

    def call(self, factory: Callable[[], Coroutine[Any, Any, Any]], timeout: float = 10.0) -> Any:
        return asyncio.run_coroutine_threadsafe(factory(), self.loop).result(timeout)

    def close(self) -> None:
        async def cancel_all() -> None:
            # Connection handlers still waiting (a hanging answer) must end while their loop can close them.
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        self.call(cancel_all)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        self.loop.close()


@dataclass(frozen=True, slots=True)
class Arrival:
    """One request as it reached the endpoint: real arrival time, the answer given, the notification it carried."""

    at: float
    status: int
    webhook_id: str
    body: dict[str, Any]


class FlakyEndpoint:
    """A minimal HTTP/1.1 endpoint on a fixed port whose behaviour the test switches while a daemon sends to it.

    Modes: ``down`` (not listening: connection refused), ``status`` (answer every request with ``status`` and
    ``headers``), ``hang`` (read the request, never answer). Every request is recorded with the mode's answer.
    """

    def __init__(self) -> None:
        self.port = free_port()
        self.arrivals: list[Arrival] = []
        self._lock = threading.Lock()
        self._status = 200
        self._headers: dict[str, str] = {}
        self._hang = False
        self._server: asyncio.Server | None = None
        self._loop = _LoopThread("flaky-endpoint")

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def down(self) -> None:
        """Stop listening: new connections are refused."""

        async def stop() -> None:
            if self._server is not None:
                self._server.close()
                await self._server.wait_closed()
                self._server = None

        self._loop.call(stop)

    def answer(self, status: int, headers: dict[str, str] | None = None, *, hang: bool = False) -> None:
        """Listen (again, on the same port) and answer every request as told."""
        with self._lock:
            self._status, self._headers, self._hang = status, dict(headers or {}), hang

        async def start() -> None:
            if self._server is None:
                self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port, reuse_address=True)

        self._loop.call(start)

    def ids(self, status: int = 200) -> list[str]:
        with self._lock:
            return [a.webhook_id for a in self.arrivals if a.status == status]

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                headers = {}
                for line in head.decode("latin-1").split("\r\n")[1:]:
                    name, _, value = line.partition(":")
                    headers[name.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                with self._lock:
                    status, extra, hang = self._status, dict(self._headers), self._hang
                    self.arrivals.append(
                        Arrival(time.time(), 0 if hang else status, headers.get("webhook-id", ""), json.loads(body))
                    )
                if hang:
                    await asyncio.sleep(3600)
                lines = [f"HTTP/1.1 {status} X", "Content-Length: 2", *(f"{k}: {v}" for k, v in extra.items())]
                writer.write(("\r\n".join(lines) + "\r\n\r\nok").encode())
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    def close(self) -> None:
        self.down()
        self._loop.close()


class TcpProxy:
    """Forwards 127.0.0.1:``port`` to ``target``; :meth:`cut` drops every connection and refuses new ones.

    This is how the suite makes PostgreSQL "unreachable" without touching the shared server: the daemon under
    test connects through the proxy, every other client connects directly.
    """

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = free_port()
        self.cuts = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._loop = _LoopThread("tcp-proxy")
        self.restore()

    def restore(self) -> None:
        """Listen again; new connections reach the target."""

        async def start() -> None:
            if self._server is None:
                self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port, reuse_address=True)

        self._loop.call(start)

    def cut(self) -> None:
        """Close the listening socket and abort every open connection at once (both directions)."""

        async def stop() -> None:
            if self._server is not None:
                self._server.close()
                self._server = None
            for writer in list(self._writers):
                writer.transport.abort()
            self._writers.clear()

        self.cuts += 1
        self._loop.call(stop)

    async def _accept(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        try:
            server_r, server_w = await asyncio.open_connection(*self.target)
        except OSError:
            client_w.transport.abort()
            return
        self._writers |= {client_w, server_w}

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            except (ConnectionError, asyncio.CancelledError):
                pass
            finally:
                dst.close()
                self._writers.discard(dst)

        await asyncio.gather(pipe(client_r, server_w), pipe(server_r, client_w))

    def close(self) -> None:
        self.cut()
        self._loop.close()


def wait_until(predicate: Callable[[], bool], *, timeout: float, every: float = 0.2) -> bool:
    """Poll ``predicate`` until it is true (True) or ``timeout`` real seconds pass (False)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(every)
    return True


def reminders_calendar(due: list[datetime], *, channels: dict[str, str], lead: str = "30m") -> str:
    """A calendar with one event per instant in ``due``, each with one ``lead`` reminder to every channel.

    ``channels`` maps channel ids to the environment variable holding their webhook URL. Events start ``lead``
    after their reminder, so no reminder expires during the faults a test injects.
    """
    minutes = int(lead.rstrip("m"))
    lines = ["version: 1", "timezone: UTC", "channels:"]
    lines += [f'  {cid}: {{type: webhook, url: "${{{var}}}"}}' for cid, var in channels.items()]
    lines.append("events:")
    for i, at in enumerate(due):
        start = at + timedelta(minutes=minutes)
        lines += [
            f"  - id: n{i:03d}",
            f"    title: Deadline {i}",
            f"    at: {start:%Y-%m-%dT%H:%M:%S}",
            f"    reminders: [{lead}]",
            f"    notify: [{', '.join(channels)}]",
        ]
    return "\n".join(lines) + "\n"


@dataclass
class Replicas:
    """Daemons on one calendar and database, each on a replay clock: every one, restarts included, shows the same
    virtual time, ``t0`` plus the real time since ``wall0`` (the first start) times ``speed``."""

    rel: Harness
    calendar: Path
    env: dict[str, str]
    t0: datetime
    speed: float
    wall0: float = field(default_factory=time.time)

    def virtual_now(self) -> datetime:
        return self.t0 + timedelta(seconds=(time.time() - self.wall0) * self.speed)

    def start(self) -> DaemonProcess:
        """One replica, not waited for."""
        return self.rel.start(
            self.calendar, replay_from=self.virtual_now(), speed=self.speed, env=self.env, ready=False
        )

    def start_together(self, count: int) -> list[DaemonProcess]:
        """``count`` replicas started together (on an empty database, so migrations and the first calendar sync must
        not race), once each has applied the calendar."""
        replicas = [self.start() for _ in range(count)]
        for replica in replicas:
            replica.wait_for_log(READY, timeout=60)
        return replicas

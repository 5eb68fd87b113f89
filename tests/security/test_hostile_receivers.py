"""Hostile receivers against ``alertd send-test`` run as a subprocess under a memory cap (issue 13 items 1-3): a
header flood, a compression bomb, a 10 GB answer through a proxy. Each attempt must end in one line, quickly,
without the process growing past the cap (a regression fails fast instead of taking the machine down)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import resource
import sys
import time
import zlib
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from support.proxy import Proxy

pytestmark = pytest.mark.slow

# Address space, not resident memory: the interpreter and its libraries need ~250 MB of it; a flood that got
# through would need gigabytes.
CAP = 400 * 1024 * 1024
TIMEOUT = 5.0

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


def _cap() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (CAP, CAP))


async def _serve(handler: Handler) -> tuple[asyncio.Server, str]:
    async def guarded(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
            await reader.readuntil(b"\r\n\r\n")
            await handler(reader, writer)
        writer.close()

    server = await asyncio.start_server(guarded, "127.0.0.1", 0)
    return server, f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/hooks/t0k3n"


async def _send_test(tmp_path: Path, url: str, **env: str) -> tuple[int, str, str, float]:
    calendar = tmp_path / "calendar.yaml"
    calendar.write_text(
        f'version: 1\ntimezone: UTC\nchannels:\n  hook: {{type: webhook, url: "{url}"}}\n', encoding="utf-8"
    )
    clean = {k: v for k, v in os.environ.items() if not k.startswith("ALERTD_") and "proxy" not in k.lower()}
    clean.update({"ALERTD_HTTP_TIMEOUT": str(TIMEOUT), **env})
    started = time.monotonic()
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "alertd",
        "send-test",
        "hook",
        "--calendar",
        str(calendar),
        "--db",
        f"sqlite:///{tmp_path}/alertd.db",
        env=clean,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        preexec_fn=_cap,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 90)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode(), time.monotonic() - started


async def test_a_header_flood_ends_the_attempt_in_one_line(tmp_path: Path) -> None:
    """A receiver streaming header lines for the whole attempt: refused after 64 headers, within the cap."""

    async def flood(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\n")
        n = 0
        while True:
            writer.write(b"".join(b"x-flood-%d: %s\r\n" % (n + i, b"v" * 100) for i in range(1000)))
            n += 1000
            await writer.drain()

    server, url = await _serve(flood)
    try:
        code, _, err, seconds = await _send_test(tmp_path, url)
    finally:
        server.close()
    assert code == 1, err
    (line,) = err.strip().splitlines()
    assert "sent an answer past alertd's bounds" in line
    assert "t0k3n" not in line
    assert seconds < 30


async def test_a_status_line_flood_ends_the_attempt_in_one_line(tmp_path: Path) -> None:
    """A status reason that never ends: refused at 8190 bytes, within the cap."""

    async def reason(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 200 ")
        while True:
            writer.write(b"O" * 65536)
            await writer.drain()

    server, url = await _serve(reason)
    try:
        code, _, err, _ = await _send_test(tmp_path, url)
    finally:
        server.close()
    assert code == 1
    (line,) = err.strip().splitlines()
    assert "sent an answer past alertd's bounds" in line


def _gzip_bomb(size: int) -> bytes:
    """``size`` zero bytes gzipped twice (``Content-Encoding: gzip, gzip``): a few kilobytes on the wire."""
    inner = zlib.compressobj(9, zlib.DEFLATED, 31)
    chunk = bytes(16 * 1024 * 1024)
    once = b"".join(inner.compress(chunk) for _ in range(size // len(chunk))) + inner.flush()
    outer = zlib.compressobj(9, zlib.DEFLATED, 31)
    return outer.compress(once) + outer.flush()


async def test_a_gzip_bomb_is_never_decoded(tmp_path: Path) -> None:
    """1 GiB of zeros gzipped twice answers the POST: the bytes are kept as sent, the delivery counts, the
    excerpt shows no control character, and memory stays under the cap."""
    bomb = _gzip_bomb(1024 * 1024 * 1024)
    assert len(bomb) < 64 * 1024

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = f"HTTP/1.1 200 OK\r\ncontent-encoding: gzip, gzip\r\ncontent-length: {len(bomb)}\r\n\r\n"
        writer.write(head.encode() + bomb)
        await writer.drain()

    server, url = await _serve(answer)
    try:
        code, out, err, seconds = await _send_test(tmp_path, url)
    finally:
        server.close()
    assert code == 0, err
    (line,) = out.strip().splitlines()
    assert line.startswith("send-test hook: delivered — HTTP 200")
    assert not any(ord(c) < 32 for c in line)
    assert seconds < 30


async def test_a_10_gb_answer_through_a_proxy_is_cut_at_the_bound(tmp_path: Path) -> None:
    """Through HTTP_PROXY (the same client, the same bounds) a 10 GB answer costs 1 MiB and one closed
    connection, not the process."""

    async def endless(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: %d\r\n\r\n" % (10 * 1024**3))
        chunk = b"a" * 65536
        while True:
            writer.write(chunk)
            await writer.drain()

    server, url = await _serve(endless)
    proxy = await Proxy().start()
    try:
        code, out, err, seconds = await _send_test(tmp_path, url, HTTP_PROXY=proxy.url)
    finally:
        await proxy.stop()
        server.close()
    assert code == 0, err
    assert out.startswith("send-test hook: delivered — HTTP 200")
    assert len(proxy.lines) == 1
    assert seconds < 30

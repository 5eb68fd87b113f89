"""Readers: read-only API work on threads of its own, a bounded number at once, the rest waiting then 503."""

from __future__ import annotations

import asyncio
import threading

import pytest
from fastapi import HTTPException

from alertd.api.deps import Readers
from alertd.daemon import Daemon


async def test_readers_beyond_the_limit_wait_then_get_503(daemon: Daemon) -> None:
    """With one slot taken, a second reader waits ``wait`` seconds and is refused with 503 and Retry-After."""
    readers = Readers(1, wait=0.2)
    release = threading.Event()
    first = asyncio.create_task(readers.run(daemon, release.wait, 10))
    await asyncio.sleep(0.05)
    with pytest.raises(HTTPException) as info:
        await readers.run(daemon, lambda: "second")
    release.set()
    assert await first is True
    assert (info.value.status_code, info.value.headers) == (503, {"Retry-After": "2"})
    assert "ALERTD_API_READERS" in info.value.detail


async def test_a_waiting_reader_runs_once_a_slot_frees(daemon: Daemon) -> None:
    """Excess readers are queued, not refused, while a slot frees within the wait."""
    readers = Readers(1, wait=5)
    release = threading.Event()
    first = asyncio.create_task(readers.run(daemon, release.wait, 10))
    second = asyncio.create_task(readers.run(daemon, lambda: "second"))
    await asyncio.sleep(0.05)
    assert not second.done()
    release.set()
    assert (await first, await second) == (True, "second")


async def test_readers_run_off_the_dispatchers_database_thread(daemon: Daemon) -> None:
    """Read work never runs on the dispatcher's single database thread."""
    names = await Readers(2).run(daemon, lambda: threading.current_thread().name)
    assert not names.startswith("alertd-db")

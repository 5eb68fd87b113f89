"""Shared fixtures, one block per topic; helpers live in tests/support.

tests/ is not a package but is on sys.path (pytest puts it there), so helpers are imported as ``support.…``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from support.receiver import Receiver

from alertd.channels.http import make_client

# --- HTTP: a real receiver on 127.0.0.1 and the client channels use (tests/support/receiver.py) ---


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    """A recording HTTP server on the test's own event loop."""
    server = Receiver()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
def threaded_receiver() -> Iterator[Receiver]:
    """A recording HTTP server on its own thread, for clients in other threads or processes."""
    server = Receiver().start_in_thread()
    yield server
    server.close()


@pytest.fixture
async def http_client() -> AsyncIterator[httpx.AsyncClient]:
    """The production HTTP client, ignoring proxy settings from the environment."""
    async with make_client(5.0, trust_env=False) as client:
        yield client


# --- end HTTP ---

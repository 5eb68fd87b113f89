"""Dashboard fixtures: a started daemon on the seed calendar (SQLite in a temporary folder), an in-memory client of
its whole app (API and pages), and log-in helpers. The browser fixtures live in ``browser.py`` beside this file."""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from support.daemons import Daemons

from alertd.clock import Clock, FixedClock
from alertd.daemon import Daemon
from alertd.web import create_dashboard_app

if TYPE_CHECKING:
    from playwright.sync_api import Browser

SEED = Path(__file__).parents[2] / "seeds" / "us-china-truce-2025.yaml"
# Friday before the US clocks fall back (Sunday 2 Nov 2025, 02:00 EDT → 01:00 EST).
NOW = datetime(2025, 10, 31, 12, 0, tzinfo=UTC)
# Assembled, so no scanner takes these for real credentials.
WRITE_TOKEN = "dashw-" + "9f3b1c7a2e"
READ_TOKEN = "dashr-" + "4d8e6a0b5c"
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')

WebDaemon = Callable[..., Awaitable[Daemon]]


@pytest.fixture
async def start_web(tmp_path: Path) -> AsyncIterator[WebDaemon]:
    """Start a daemon on ``calendar`` (the seed by default) with the given clock and settings."""
    daemons = Daemons(tmp_path)

    async def start(
        clock: Clock | None = None, calendar: str | None = None, db_url: str | None = None, **overrides: Any
    ) -> Daemon:
        text = calendar if calendar is not None else SEED.read_text(encoding="utf-8")
        return await daemons.start(text, clock or FixedClock(NOW), db_url, **overrides)

    yield start
    await daemons.shutdown()


@pytest.fixture
async def daemon(start_web: WebDaemon) -> Daemon:
    """The seed calendar at NOW, with both API tokens configured."""
    return await start_web(api_token=WRITE_TOKEN, api_read_token=READ_TOKEN)


def client_for(daemon: Daemon) -> httpx.AsyncClient:
    app = create_dashboard_app(daemon)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://localhost")


@pytest.fixture
async def client(daemon: Daemon) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(daemon) as http:
        yield http


async def post_login(http: httpx.AsyncClient, **fields: str) -> httpx.Response:
    """Post the login form as a browser does: after loading it, with its CSRF field (and cookie)."""
    csrf = csrf_of((await http.get("/login")).text)
    return await http.post("/login", data={"csrf": csrf, **fields})


async def log_in(http: httpx.AsyncClient, token: str) -> None:
    answer = await post_login(http, token=token, next="/")
    assert answer.status_code == 303, answer.text


def csrf_of(html: str) -> str:
    found = _CSRF.search(html)
    assert found is not None, "no form with a CSRF field on the page"
    return found.group(1)


# --- Browser: Debian's Chromium driven by Playwright (its own browser download is not used) ---

CHROMIUM = Path("/usr/bin/chromium")
AXE = Path(__file__).parent / "assets" / "axe-4.10.2.min.js"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One headless Chromium per module of browser tests (there is one), skipped where it is missing except in CI.

    Not session-wide: Playwright's synchronous API keeps an event loop on the main thread while it runs, and the
    asyncio tests that follow need that thread's loop free."""
    if not CHROMIUM.exists():
        if os.environ.get("CI") == "true":
            pytest.fail("/usr/bin/chromium is missing: .ci/run installs it (apt-get install -y chromium)")
        pytest.skip("the browser tests need /usr/bin/chromium (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield chromium
        chromium.close()

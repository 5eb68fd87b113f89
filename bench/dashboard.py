"""Target: the dashboard's board for 1,000 events in ≤ 100 ms of server time.

alertd: ``GET /`` (with a viewer zone) through the daemon's whole ASGI app, in process: the request guard, the
session check, reading the 1,000 events and their next notifications from SQLite, the cards, and Jinja2. Baseline,
in the same run and process: ``GET /api/v1/events``, the JSON of the very same events through the same app. The
figure is the median of the samples; the ratio says what the page costs beyond the API's plain listing.
Each sample renders the page anew as after a delivery: the page cache emptied, the events, the cards' clock-free
parts and the cards' HTML kept, as the daemon keeps them. The first render after a start (nothing kept) is
reported beside it.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from alertd.clock import FixedClock
from alertd.daemon import Daemon
from alertd.settings import Settings
from alertd.web import create_dashboard_app
from alertd.web.cache import PageCache
from alertd.web.cardhtml import CardHtml
from alertd.web.eventcache import EventCache
from alertd.web.faces import FaceMemo
from bench.common import Result, median

_TARGET_MS = 100.0
_ZONES = ("Europe/Berlin", "America/New_York", "Asia/Tokyo", "UTC")
_STATUSES = ("confirmed", "tentative", "postponed", "confirmed")
NOW = datetime(2025, 10, 31, 12, 0, tzinfo=UTC)


def calendar_text(n_events: int) -> str:
    """A calendar of ``n_events`` timed and all-day events over the next months, in several zones."""
    lines = [
        "version: 1",
        "timezone: America/New_York",
        "defaults: {reminders: [7d, 1d], notify: [console], countdown: false}",
        "channels:",
        "  console: {type: console}",
        "events:",
    ]
    start = NOW.replace(tzinfo=None) + timedelta(days=2)
    for i in range(n_events):
        when = start + timedelta(hours=7 * i)
        at = f"{when:%Y-%m-%d}" if i % 3 == 0 else f"{when:%Y-%m-%dT%H:%M}"
        lines.append(
            f"  - {{id: event-{i:05d}, title: Deadline number {i}, at: {at}, timezone: {_ZONES[i % 4]}, "
            f"status: {_STATUSES[i % 4]}, tags: [bench, group-{i % 7}], source: 'https://example.org/{i}'}}"
        )
    return "\n".join(lines) + "\n"


CPU: list[float] = []


async def _timed(
    http: httpx.AsyncClient, path: str, samples: int, before: Callable[[], None] = lambda: None
) -> tuple[list[float], int]:
    """Wall-clock ms per request; the process's CPU ms per request (all threads) go to ``CPU``."""
    times: list[float] = []
    CPU.clear()
    size = 0
    for _ in range(samples):
        before()
        started, cpu = time.perf_counter(), time.process_time()
        answer = await http.get(path)
        times.append((time.perf_counter() - started) * 1000)
        CPU.append((time.process_time() - cpu) * 1000)
        answer.raise_for_status()
        size = len(answer.content)
    return times, size


async def _measure(folder: Path, n_events: int, samples: int) -> Result:
    path = folder / "calendar.yaml"
    path.write_text(calendar_text(n_events), encoding="utf-8")
    settings = Settings(_env_file=None, reload_interval=3600.0, max_sleep=3600.0, drain_timeout=1.0)
    daemon = Daemon(
        settings,
        clock=FixedClock(NOW),
        calendar_path=path,
        db_url=f"sqlite:///{folder / 'bench.db'}",
        out=io.StringIO(),
    )
    await daemon.start()
    try:
        app = create_dashboard_app(daemon)

        def forget() -> None:
            app.state.board_cache = PageCache()

        def forget_all() -> None:
            # As on a fresh start: the kept events and the cards' clock-free parts too.
            forget()
            app.state.board_events = EventCache()
            app.state.board_faces = FaceMemo()
            app.state.board_cards = CardHtml()

        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as http:
            board_path = "/?tz=Europe/Paris"
            await _timed(http, board_path, 3, forget)  # templates compiled, as in a running daemon
            await _timed(http, "/api/v1/events", 3)
            # Each sample renders anew, as after every delivery or change; a repeated view is served from the
            # page cache, and a first view after a start reads and words every event (both measured too).
            board, board_bytes = await _timed(http, board_path, samples, forget)
            board_cpu = median(CPU)
            cold, _ = await _timed(http, board_path, samples, forget_all)
            cached, _ = await _timed(http, board_path, samples)
            api, api_bytes = await _timed(http, "/api/v1/events", samples)
            api_cpu = median(CPU)
    finally:
        await daemon.shutdown()
    figure, baseline = median(board), median(api)
    return Result(
        name="dashboard",
        figure=figure,
        baseline=baseline,
        unit="ms/page",
        target=f"≤ {_TARGET_MS:g} ms",
        passed=figure <= _TARGET_MS,
        details={
            "events": n_events,
            "samples": samples,
            "board_p90_ms": sorted(board)[int(0.9 * samples)],
            "board_cached_ms": median(cached),
            "board_cold_ms": median(cold),
            # CPU time of the whole process per request: less swayed than wall time by other work on the machine.
            "board_cpu_ms": board_cpu,
            "api_cpu_ms": api_cpu,
            "load_average_1m": os.getloadavg()[0],
            "board_bytes": board_bytes,
            "api_bytes": api_bytes,
        },
    )


def run(*, quick: bool = False) -> Result:
    with tempfile.TemporaryDirectory(prefix="alertd-bench-dash-") as folder:
        return asyncio.run(_measure(Path(folder), 1000, 5 if quick else 30))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="5 samples instead of 30")
    result = run(quick=parser.parse_args().quick)
    print(f"GET /api/v1/events (baseline): {result.baseline:.1f} ms median, {result.details['api_bytes']} bytes")
    print(
        f"GET / (board):                 {result.figure:.1f} ms median (p90 {result.details['board_p90_ms']:.1f}), "
        f"{result.details['board_bytes']} bytes"
    )
    print(f"GET / again (page cache hit):  {result.details['board_cached_ms']:.1f} ms median")
    print(f"GET / first after a start:     {result.details['board_cold_ms']:.1f} ms median")
    d = result.details
    print(f"CPU per request: board {d['board_cpu_ms']:.1f} ms, API {d['api_cpu_ms']:.1f} ms")
    print(f"load average (1 min) during the run: {d['load_average_1m']:.1f} on {os.cpu_count()} CPUs")
    print(f"ratio: {result.ratio:.2f}; target {result.target}: {'PASS' if result.passed else 'FAIL'}")


if __name__ == "__main__":
    main()

"""Dispatch throughput, claim and record included, against a bare aiohttp POST loop at concurrency 10 (for
information: users feel the burst and lateness targets, not this ratio).

alertd: the real :class:`~alertd.delivery.dispatcher.Dispatcher` with a real ``webhook`` channel (alertd's HTTP
client) on a SQLite outbox holding N overdue reminders, pumped the way the daemon pumps it, until every row is recorded
``sent``.
Baseline: ``aiohttp.ClientSession`` with 10 workers POSTing N bodies of the same size to the same sink.
Every side runs pinned to one core with the sink on another (:func:`bench.common.apart_from`).
"""

from __future__ import annotations

import asyncio
import gc
import sys
import time
from datetime import UTC, datetime, timedelta

import aiohttp
import sqlalchemy as sa

from alertd.channels import ChannelContext
from alertd.channels.http import make_client, post
from alertd.clock import SystemClock
from alertd.daemon import build_channels
from alertd.delivery.dispatcher import Dispatcher, DispatchSettings
from alertd.domain import Calendar, ChannelSpec, Defaults
from alertd.storage.outbox import NOTIFICATION
from bench.common import Result, SinkProcess, Workspace, apart_from, db_events, fresh_db, median, seed_db_events

CONCURRENCY = 10


def _calendar(url: str) -> Calendar:
    spec = ChannelSpec(id="hook", type="webhook", timezone="UTC", options={"url": url})
    defaults = Defaults(reminders=(), all_day_at=datetime.min.time(), countdown=None, notify=("hook",))
    return Calendar(path="bench.yaml", timezone="UTC", defaults=defaults, channels={"hook": spec}, events=())


async def _alertd(engine: sa.Engine, url: str, n: int) -> tuple[float, int]:
    calendar = _calendar(url)
    client = make_client(15.0)
    try:
        channels, limits = build_channels(calendar.channels, ChannelContext(http=client, out=sys.stdout, settings=None))
        dispatcher = Dispatcher(
            engine=engine,
            clock=SystemClock(),
            calendar=calendar,
            channels=channels,
            concurrency=limits,
            settings=DispatchSettings(worker="bench", concurrency=CONCURRENCY),
        )
        started = time.perf_counter()
        # The daemon's pump (Daemon._run_pump) without the timer: step, and step again when something finishes.
        idle = 0
        while dispatcher.sent_total < n and idle < 3:
            dispatcher.kick.clear()
            claimed, _due = await dispatcher.step()
            if claimed:
                await asyncio.sleep(0)
                continue
            if dispatcher.inflight == 0:
                idle += 1  # a few empty rounds in a row: the rest failed (reported by the caller)
                continue
            idle = 0
            await dispatcher.kick.wait()
        elapsed = time.perf_counter() - started
        dispatcher.close()
    finally:
        await client.aclose()
    with engine.connect() as conn:
        sent = conn.execute(sa.select(sa.func.count()).where(NOTIFICATION.c.state == "sent")).scalar_one()
    return elapsed, int(sent)


async def _bare(url: str, n: int, body: bytes) -> float:
    todo = iter(range(n))
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=100)) as session:

        async def worker() -> None:
            for i in todo:
                headers = {"content-type": "application/json", "webhook-id": f"bare-{i}"}
                async with session.post(url, data=body, headers=headers) as resp:
                    await resp.read()
                    resp.raise_for_status()

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
        return time.perf_counter() - started


async def _client_only(url: str, n: int, body: bytes) -> float:
    """alertd's HTTP client alone (``make_client`` and the ``post`` every channel calls), same loop, no database:
    what the client costs by itself."""
    todo = iter(range(n))
    now = datetime.now(UTC)
    client = make_client(15.0)
    try:

        async def worker() -> None:
            for i in todo:
                headers = {"content-type": "application/json", "webhook-id": f"client-{i}"}
                response = await post(client, url, content=body, headers=headers, now=now)
                if response.status_code != 200:
                    raise RuntimeError(f"the sink answered HTTP {response.status_code}")

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
        return time.perf_counter() - started
    finally:
        await client.aclose()


def run(ws: Workspace, sink: SinkProcess, *, quick: bool, repeat: int) -> Result:
    n = 2_000 if quick else 20_000
    alertd_rps: list[float] = []
    bare_rps: list[float] = []
    client_rps: list[float] = []
    body_sizes: list[float] = []
    for _ in range(repeat):
        now = datetime.now(UTC)
        # Overdue reminders (due 30 min ago, a millisecond apart), for events that start in 30 min.
        starts = [now + timedelta(minutes=30, milliseconds=i) for i in range(n)]
        engine = fresh_db(ws.file("dispatch.db"))
        seed_db_events(
            engine, db_events(starts, offset="1h", channels=("hook",), prefix="d"), now=now - timedelta(hours=2)
        )
        sink.reset()
        gc.collect()
        with apart_from(sink) as pinning:
            elapsed, sent = asyncio.run(_alertd(engine, sink.url("/services/T0/B0/hook"), n))
        engine.dispose()
        stats = sink.stats()
        if sent != n or stats["unique"] != n:
            raise RuntimeError(f"alertd sent {sent} of {n}; the sink saw {stats['unique']} distinct ids")
        alertd_rps.append(n / elapsed)
        size = stats["bytes"] / max(1, stats["count"])
        body_sizes.append(size)
        body = b'{"pad":"' + b"x" * max(0, round(size) - 10) + b'"}'
        sink.reset()
        gc.collect()
        with apart_from(sink):
            bare_rps.append(n / asyncio.run(_bare(sink.url("/services/T0/B0/hook"), n, body)))
        if sink.stats()["unique"] != n:
            raise RuntimeError("the bare loop lost requests")
        sink.reset()
        gc.collect()
        with apart_from(sink):
            client_rps.append(n / asyncio.run(_client_only(sink.url("/services/T0/B0/hook"), n, body)))
    figure, baseline = median(alertd_rps), median(bare_rps)
    ratio = figure / baseline
    return Result(
        name="dispatch",
        figure=figure,
        baseline=baseline,
        unit="req/s",
        target="information",
        passed=True,
        ratio=ratio,
        details={
            "notifications": n,
            "concurrency": CONCURRENCY,
            "alertd_req_per_s": alertd_rps,
            "bare_aiohttp_req_per_s": bare_rps,
            "alertd_http_client_alone_req_per_s": client_rps,
            "alertd_vs_its_client_alone": figure / median(client_rps),
            "body_bytes": median(body_sizes),
            "pinning": pinning,
        },
    )

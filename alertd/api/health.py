"""``/healthz`` (the process answers), ``/readyz`` (it can do its job) and ``/metrics`` (Prometheus); no token."""

from __future__ import annotations

import asyncio

import sqlalchemy as sa
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from alertd.api.deps import Backend, DaemonDep
from alertd.api.feedhealth import feed_health
from alertd.api.schemas import Health, Readiness, ReadinessCheck
from alertd.timeexpr import tzdata

__all__ = ["router"]

router = APIRouter(tags=["health"])
# A readiness probe must answer even when the database hangs; probes usually time out after a few seconds.
_DB_TIMEOUT = 3.0


@router.get("/healthz", response_model=Health)
async def healthz() -> Health:
    """The process is alive and its event loop answers."""
    return Health()


def _ping(daemon: Backend) -> None:
    with daemon.engine.connect() as conn:
        conn.execute(sa.text("SELECT 1"))


async def _database(daemon: Backend) -> ReadinessCheck:
    if not hasattr(daemon, "engine"):
        return ReadinessCheck(ok=False, error="not opened yet")
    try:
        # Not on the dispatcher's thread: a probe must not queue behind a long calendar sync.
        await asyncio.wait_for(asyncio.to_thread(_ping, daemon), timeout=_DB_TIMEOUT)
    except TimeoutError:
        return ReadinessCheck(ok=False, error=f"no answer within {_DB_TIMEOUT:g}s")
    except Exception as exc:
        # Any failure means not ready. Only the type is shown: the message may name the database's host or file.
        return ReadinessCheck(ok=False, error=f"unreachable ({type(exc).__name__})")
    return ReadinessCheck(ok=True)


def _scheduler(daemon: Backend) -> ReadinessCheck:
    if not daemon.scheduler.running:
        return ReadinessCheck(ok=False, error="the timer is not running")
    if not daemon.delivering:
        return ReadinessCheck(ok=False, error="the delivery loop is not running")
    return ReadinessCheck(ok=True)


@router.get("/readyz", response_model=Readiness, responses={503: {"model": Readiness, "description": "Not ready"}})
async def readyz(daemon: DaemonDep) -> JSONResponse:
    """200 when the database answers, the timer runs and a calendar is loaded; 503 naming what failed.

    A calendar change that was rejected leaves the last good calendar running: still ready, with a one-line
    summary that quotes nothing from the file (the issues are behind the read token, /api/v1/calendar/status).
    """
    loaded = hasattr(daemon, "calendar")
    checks = {
        "database": await _database(daemon),
        "scheduler": _scheduler(daemon),
        "calendar": ReadinessCheck(ok=loaded, error=None if loaded else "no calendar loaded"),
    }
    failed = [name for name, check in checks.items() if not check.ok]
    body = Readiness(
        ready=not failed,
        failed=failed,
        checks=checks,
        calendar_file=daemon.calendar_path.name,
        calendar_events=len(daemon.calendar.events) if loaded else None,
        last_reload_error=daemon.reload_error,
        tzdata=tzdata().version,
        tzdata_source=tzdata().source,
        feeds=await feed_health(daemon) if loaded and daemon.calendar.sources and not failed else {},
    )
    return JSONResponse(body.model_dump(), status_code=503 if failed else 200)


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}, "description": "Prometheus text"}},
)
async def metrics(request: Request, daemon: DaemonDep) -> Response:
    """Prometheus exposition (OpenMetrics when the scraper asks for it)."""
    # The queue gauges read the database at scrape time: off the event loop.
    body, content_type = await asyncio.to_thread(daemon.metrics.render, request.headers.get("accept"))
    return Response(body, media_type=content_type)

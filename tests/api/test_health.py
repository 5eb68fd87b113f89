"""/healthz, /readyz and /metrics: no token needed, readiness names what failed, metrics in Prometheus text."""

from __future__ import annotations

import json

import httpx
import sqlalchemy as sa
import tzdata as tzdata_package

from alertd.daemon import Daemon

from .conftest import write_calendar


async def test_healthz_answers_ok_without_a_token(client: httpx.AsyncClient) -> None:
    """The liveness probe needs no token even when the API has one."""
    response = await client.get("/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


async def test_readyz_is_200_when_every_check_passes(client: httpx.AsyncClient) -> None:
    """A started daemon is ready: database, scheduler and calendar all pass."""
    response = await client.get("/readyz")
    body = response.json()
    assert response.status_code == 200
    assert (body["ready"], body["failed"], body["calendar_events"]) == (True, [], 1)
    assert all(check["ok"] for check in body["checks"].values())


async def test_readyz_is_503_naming_an_unreachable_database(daemon: Daemon, client: httpx.AsyncClient) -> None:
    """When the database cannot be opened, readiness fails and says it is the database."""
    good = daemon.engine
    daemon.engine = sa.create_engine(f"sqlite:///{daemon.calendar_path.parent / 'missing' / 'x.db'}")
    try:
        response = await client.get("/readyz")
    finally:
        daemon.engine.dispose()
        daemon.engine = good
    assert response.status_code == 503
    assert response.json()["failed"] == ["database"]


async def test_readyz_is_503_when_the_scheduler_stopped(daemon: Daemon, client: httpx.AsyncClient) -> None:
    """A daemon whose timer is not running cannot deliver on time, so it is not ready."""
    daemon.scheduler.shutdown(wait=False)
    response = await client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["failed"] == ["scheduler"]


async def test_readyz_says_a_calendar_change_was_rejected_without_quoting_it(
    daemon: Daemon, client: httpx.AsyncClient
) -> None:
    """A rejected calendar change keeps the daemon ready; the unauthenticated answer counts errors, quotes nothing."""
    write_calendar(daemon.calendar_path, "version: 1\ntimezone: Secret/Zq7Mark\n")
    await daemon._check_reload()
    body = (await client.get("/readyz")).json()
    assert body["ready"] is True
    assert body["last_reload_error"] == "calendar reload rejected: 1 error, see the log"
    assert "Zq7Mark" not in json.dumps(body)


async def test_metrics_lists_queue_and_reload_gauges(client: httpx.AsyncClient) -> None:
    """The scrape has the outbox by state, the queue depth, the next due time and the reload gauges."""
    response = await client.get("/metrics")
    text = response.text
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert 'alertd_notifications{channel="console",kind="reminder",state="pending"} 2.0' in text
    assert 'alertd_queue_depth{state="pending"} 2.0' in text
    assert "alertd_next_due_seconds " in text
    assert "alertd_calendar_reload_errors_total 0.0" in text
    assert "alertd_calendar_last_reload_ok 1.0" in text


async def test_metrics_count_a_rejected_calendar_reload(daemon: Daemon, client: httpx.AsyncClient) -> None:
    """A rejected calendar file increments the error counter and drops the last-reload-ok gauge to 0."""
    write_calendar(daemon.calendar_path, "version: 2\n")
    await daemon._check_reload()
    text = (await client.get("/metrics")).text
    assert "alertd_calendar_reload_errors_total 1.0" in text
    assert "alertd_calendar_last_reload_ok 0.0" in text


async def test_metrics_recover_after_a_good_reload(daemon: Daemon, client: httpx.AsyncClient) -> None:
    """Fixing the calendar puts the last-reload-ok gauge back to 1 and clears the readiness error."""
    write_calendar(daemon.calendar_path, "version: 2\n")
    await daemon._check_reload()
    write_calendar(daemon.calendar_path)
    await daemon._check_reload()
    assert "alertd_calendar_last_reload_ok 1.0" in (await client.get("/metrics")).text
    assert (await client.get("/readyz")).json()["last_reload_error"] is None


async def test_readyz_names_the_time_zone_database(client: httpx.AsyncClient) -> None:
    """The readiness answer says which zone database (and IANA version) the daemon plans with."""
    body = (await client.get("/readyz")).json()
    assert (body["tzdata"], body["tzdata_source"]) == (tzdata_package.IANA_VERSION, "package")


async def test_metrics_name_the_time_zone_database(client: httpx.AsyncClient) -> None:
    """``alertd_build_info`` carries alertd's version and the zone database's version and source."""
    text = (await client.get("/metrics")).text
    wanted = f'alertd_build_info{{tzdata="{tzdata_package.IANA_VERSION}",tzdata_source="package",version="0.1.0"}} 1.0'
    assert wanted in text.splitlines()

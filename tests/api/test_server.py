"""The HTTP server inside a running daemon, over a real socket on 127.0.0.1."""

from __future__ import annotations

import io
import logging
import socket
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest

from alertd.api import HttpServer, create_app
from alertd.clock import ReplayClock
from alertd.daemon import Daemon
from alertd.errors import ConfigError
from alertd.logs import setup_logging

from .conftest import READ, READ_TOKEN, WRITE, WRITE_TOKEN, DaemonFactory


async def serving(start_daemon: DaemonFactory) -> Daemon:
    clock = ReplayClock(datetime(2025, 10, 20, 12, tzinfo=UTC))
    return await start_daemon(
        clock, http_host="127.0.0.1", http_port=0, api_token=WRITE_TOKEN, api_read_token=READ_TOKEN
    )


def base_url(daemon: Daemon) -> str:
    assert daemon.http_address is not None
    host, port = daemon.http_address
    return f"http://{host}:{port}"


async def test_daemon_serves_health_api_and_openapi_on_its_port(start_daemon: DaemonFactory) -> None:
    """With ALERTD_HTTP_PORT set the running daemon answers probes, the API and its OpenAPI document."""
    daemon = await serving(start_daemon)
    async with httpx.AsyncClient(base_url=base_url(daemon), trust_env=False) as http:
        assert (await http.get("/healthz")).status_code == 200
        assert (await http.get("/readyz")).json()["ready"] is True
        created = await http.post(
            "/api/v1/events", json={"id": "over-tcp", "title": "Made over TCP", "start": "2025-11-03"}, headers=WRITE
        )
        assert created.status_code == 201
        listed = (await http.get("/api/v1/events", headers=READ)).json()
        assert {e["id"] for e in listed} == {"truce-expiry", "over-tcp"}
        assert "alertd_api_writes_total" in (await http.get("/metrics")).text
        assert "/api/v1/events/{event_id}/move" in (await http.get("/openapi.json")).json()["paths"]


async def test_daemon_without_a_port_serves_nothing(start_daemon: DaemonFactory) -> None:
    """Without ALERTD_HTTP_PORT no HTTP server is started."""
    daemon = await start_daemon()
    assert daemon.http_address is None


async def test_shutdown_closes_the_port(start_daemon: DaemonFactory) -> None:
    """After shutdown the port no longer accepts connections."""
    daemon = await serving(start_daemon)
    url = base_url(daemon)
    await daemon.shutdown()
    async with httpx.AsyncClient(base_url=url, trust_env=False) as http:
        with pytest.raises(httpx.ConnectError):
            await http.get("/healthz")


async def test_busy_port_is_a_one_line_config_error_in_plain_english(start_daemon: DaemonFactory) -> None:
    """A port already in use fails start-up with one line naming the settings, not a traceback from uvicorn nor
    the Python tuple of the address."""
    daemon = await start_daemon()
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        server = HttpServer(create_app(daemon), host="127.0.0.1", port=port)
        with pytest.raises(ConfigError) as refused:
            await server.start()
    assert str(refused.value) == (
        f"ALERTD_HTTP_HOST/ALERTD_HTTP_PORT: cannot listen on 127.0.0.1:{port}: Address already in use; "
        "choose another port or stop the process using it"
    )


async def test_a_port_bound_but_never_served_is_released_by_stop(start_daemon: DaemonFactory) -> None:
    """A start-up that fails after taking the port (a calendar error, say) gives the port back."""
    daemon = await start_daemon()
    server = HttpServer(create_app(daemon), host="127.0.0.1", port=0)
    port = server.bind().getsockname()[1]
    await server.stop()
    with socket.create_server(("127.0.0.1", port)):
        pass


@pytest.fixture
def log_stream() -> Iterator[io.StringIO]:
    """alertd's logging set up as the CLI does (DEBUG, text) into a buffer; the loggers are put back afterwards."""
    names = ("", "alertd", "uvicorn.access", "apscheduler")
    saved = [(lg, list(lg.handlers), list(lg.filters), lg.level, lg.propagate) for lg in map(logging.getLogger, names)]
    stream = io.StringIO()
    setup_logging(ReplayClock(datetime(2025, 10, 20, 12, tzinfo=UTC)), level="DEBUG", stream=stream)
    yield stream
    for lg, handlers, filters, level, propagate in saved:
        lg.handlers[:], lg.filters[:] = handlers, filters
        lg.setLevel(level)
        lg.propagate = propagate


async def test_feed_url_over_tcp_keeps_its_token_out_of_the_access_log(
    start_daemon: DaemonFactory, log_stream: io.StringIO
) -> None:
    """A calendar app subscribing to /calendar/<token>.ics gets the calendar; the access log shows each request
    with the token replaced, and no log line anywhere holds it. A new token revokes the old URL."""
    feed = "feed-token-over-tcp-0123456789"
    daemon = await start_daemon(
        ReplayClock(datetime(2025, 10, 20, 12, tzinfo=UTC)),
        http_host="127.0.0.1",
        http_port=0,
        http_access_log=True,
        api_token=WRITE_TOKEN,
        feed_token=feed,
    )
    async with httpx.AsyncClient(base_url=base_url(daemon), trust_env=False) as http:
        subscribed = await http.get(f"/calendar/{feed}.ics?x=1")
        guessed = await http.get(f"/calendar/{feed[:-1]}.ics")
    assert (subscribed.status_code, guessed.status_code) == (200, 404)
    assert subscribed.text.startswith("BEGIN:VCALENDAR")
    logged = log_stream.getvalue()
    assert '"GET /calendar/<feed-token>.ics?x=1 HTTP/1.1" 200' in logged
    assert '"GET /calendar/<feed-token>.ics HTTP/1.1" 404' in logged
    assert feed[:-1] not in logged
    await daemon.shutdown()

    renewed = await start_daemon(http_host="127.0.0.1", http_port=0, feed_token="a-brand-new-feed-token-42")
    async with httpx.AsyncClient(base_url=base_url(renewed), trust_env=False) as http:
        assert (await http.get(f"/calendar/{feed}.ics")).status_code == 404
        assert (await http.get("/calendar/a-brand-new-feed-token-42.ics")).status_code == 200

"""The HTTP server inside a running daemon, over a real socket on 127.0.0.1."""

from __future__ import annotations

import socket
from datetime import UTC, datetime

import httpx
import pytest

from alertd.api import HttpServer, create_app
from alertd.clock import ReplayClock
from alertd.daemon import Daemon
from alertd.errors import ConfigError

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

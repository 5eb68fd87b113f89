"""Bearer tokens: the write token reads and writes, the read token only reads, no token configured = read-only."""

from __future__ import annotations

import httpx

from .conftest import READ, WRITE, DaemonFactory, client_for

NEW_EVENT = {"id": "new-summit", "title": "Follow-up summit", "start": "2025-11-20"}


async def test_read_route_without_a_token_is_401_with_a_bearer_challenge(client: httpx.AsyncClient) -> None:
    """When a token is configured, reading without one is refused with 401 and a WWW-Authenticate header."""
    response = await client.get("/api/v1/events")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["error"].startswith("missing bearer token")


async def test_wrong_token_is_401_and_not_echoed(client: httpx.AsyncClient) -> None:
    """An unknown token is refused, and the answer does not repeat it."""
    response = await client.get("/api/v1/events", headers={"Authorization": "Bearer guessed-token"})
    assert response.status_code == 401
    assert response.json() == {"error": "invalid bearer token", "detail": None}
    assert "guessed-token" not in response.text


async def test_read_token_may_read(client: httpx.AsyncClient) -> None:
    """ALERTD_API_READ_TOKEN is enough for a read route."""
    assert (await client.get("/api/v1/events", headers=READ)).status_code == 200


async def test_write_token_may_read(client: httpx.AsyncClient) -> None:
    """ALERTD_API_TOKEN reads too."""
    assert (await client.get("/api/v1/notifications", headers=WRITE)).status_code == 200


async def test_read_token_on_a_write_route_is_403(client: httpx.AsyncClient) -> None:
    """The read token is recognised but may not change anything."""
    response = await client.post("/api/v1/events", json=NEW_EVENT, headers=READ)
    assert response.status_code == 403
    assert "ALERTD_API_TOKEN" in response.json()["error"]


async def test_write_route_without_a_token_is_401(client: httpx.AsyncClient) -> None:
    """A write without any token is unauthenticated, not forbidden."""
    assert (await client.post("/api/v1/events", json=NEW_EVENT)).status_code == 401


async def test_without_configured_tokens_reads_need_no_token(start_daemon: DaemonFactory) -> None:
    """A daemon with no token configured answers read routes to anyone."""
    daemon = await start_daemon()
    async with client_for(daemon) as client:
        assert (await client.get("/api/v1/events")).status_code == 200


async def test_without_configured_tokens_writes_are_403_saying_how_to_enable_them(start_daemon: DaemonFactory) -> None:
    """A daemon with no write token is read-only, and the refusal names the setting to change."""
    daemon = await start_daemon()
    async with client_for(daemon) as client:
        response = await client.post("/api/v1/events", json=NEW_EVENT, headers=WRITE)
    assert response.status_code == 403
    assert "set ALERTD_API_TOKEN" in response.json()["error"]


async def test_with_only_a_read_token_reads_need_it(start_daemon: DaemonFactory) -> None:
    """Configuring only the read token still protects reading."""
    daemon = await start_daemon(api_read_token="only-read-token-1234")
    async with client_for(daemon) as client:
        assert (await client.get("/api/v1/events")).status_code == 401
        assert (
            await client.get("/api/v1/events", headers={"Authorization": "Bearer only-read-token-1234"})
        ).status_code == 200

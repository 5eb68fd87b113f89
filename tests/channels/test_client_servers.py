"""The HTTP client against a production server (uvicorn) over real sockets: both address families, two TLS
names on one port (SNI), a receiver closing idle connections at 1 s, and a silent IPv6 address behind the
private-target guard."""

from __future__ import annotations

import asyncio
import random
import socket
import ssl
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
import trustme
from support.asgi_server import Uvicorn

from alertd.channels import guard, http

NOW = datetime(2025, 11, 9, 14, 0, 2, tzinfo=UTC)


def _ipv6() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as sock:
            sock.bind(("::1", 0))
    except OSError:
        return False
    return True


@pytest.fixture
def names(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[tuple[str, int]]]:
    """Test host names resolved by the test (``name → [(address, family)]``), everything else as usual."""
    table: dict[str, list[tuple[str, int]]] = {}
    real = socket.getaddrinfo

    def resolve(host: Any, port: Any, family: int = 0, type: int = 0, proto: int = 0, flags: int = 0) -> Any:
        if host in table:
            return [
                (fam, socket.SOCK_STREAM, 6, "", (address, port) if fam == socket.AF_INET else (address, port, 0, 0))
                for address, fam in table[host]
                if family in (0, fam)
            ]
        return real(host, port, family, type, proto, flags)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    return table


@pytest.fixture
async def uvicorn_v4() -> AsyncIterator[Uvicorn]:
    server = await Uvicorn("127.0.0.1").start()
    yield server
    await server.stop()


async def _post(client: Any, url: str) -> int:
    response = await http.post(client, url, content=b"{}", now=NOW)
    status: int = response.status_code
    return status


async def test_posts_to_uvicorn_over_ipv4_reuse_one_connection(uvicorn_v4: Uvicorn) -> None:
    """Three POSTs to uvicorn on 127.0.0.1 are answered; kept-alive, they share a connection."""
    async with http.make_client(5.0, trust_env=False) as client:
        assert [await _post(client, uvicorn_v4.url()) for _ in range(3)] == [200, 200, 200]
        session = client._session
        assert session is not None
        assert len(session.connector._conns) == 1  # type: ignore[union-attr]
    assert uvicorn_v4.requests == 3


@pytest.mark.skipif(not _ipv6(), reason="no IPv6 loopback on this host")
async def test_posts_to_uvicorn_over_ipv6() -> None:
    """The same over ::1, the URL's host in brackets."""
    server = await Uvicorn("::1").start()
    try:
        async with http.make_client(5.0, trust_env=False) as client:
            assert await _post(client, server.url()) == 200
    finally:
        await server.stop()
    assert server.requests == 1


@pytest.fixture(scope="module")
def two_names() -> tuple[trustme.CA, ssl.SSLContext]:
    """A server context presenting ``alpha.test``'s or ``beta.test``'s certificate by the name the client asked
    for (SNI); without SNI, neither."""
    ca = trustme.CA()
    contexts: dict[str, ssl.SSLContext] = {}
    for name in ("alpha.test", "beta.test"):
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert(name).configure_cert(context)
        contexts[name] = context
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("nobody.test").configure_cert(server)

    def choose(sock: ssl.SSLObject, name: str | None, _: ssl.SSLContext) -> None:
        if name in contexts:
            sock.context = contexts[name]

    server.sni_callback = choose
    return ca, server


async def test_two_tls_names_on_one_port_are_told_apart_by_sni(
    two_names: tuple[trustme.CA, ssl.SSLContext],
    names: dict[str, list[tuple[str, int]]],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Any,
) -> None:
    """uvicorn serves two certificates on one port; the client names the host it wants (SNI) and verifies that
    host's certificate, for each name."""
    ca, context = two_names
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    names.update({"alpha.test": [("127.0.0.1", socket.AF_INET)], "beta.test": [("127.0.0.1", socket.AF_INET)]})
    server = await Uvicorn("127.0.0.1", tls=context).start()
    try:
        async with http.make_client(5.0, trust_env=True) as client:
            assert await _post(client, server.url("alpha.test", "https")) == 200
            assert await _post(client, server.url("beta.test", "https")) == 200
    finally:
        await server.stop()
    assert server.requests == 2


@pytest.mark.slow
async def test_a_receiver_closing_idle_connections_at_1s_loses_no_post() -> None:
    """uvicorn closes kept-alive connections idle for 1 s; POSTs sent right around that moment race the close.
    Every one is delivered (a request on a connection closed before any answer is sent again at once)."""
    server = await Uvicorn("127.0.0.1", keep_alive=1).start()
    rng = random.Random(7)
    statuses: list[int] = []
    try:
        async with http.make_client(5.0, trust_env=False) as client:
            for _ in range(12):
                statuses.append(await _post(client, server.url()))
                await asyncio.sleep(1.0 + rng.uniform(-0.01, 0.01))
    finally:
        await server.stop()
    assert statuses == [200] * 12
    assert server.requests == 12


@pytest.mark.skipif(not _ipv6(), reason="no IPv6 loopback on this host")
async def test_with_the_guard_on_a_silent_ipv6_address_falls_back_to_ipv4_at_once(
    uvicorn_v4: Uvicorn, names: dict[str, list[tuple[str, int]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A name with a silent IPv6 address (SYNs dropped) and a working IPv4 one: with the guard checking every
    dialled address, happy eyeballs still connects over IPv4 in a fraction of the 5 s timeout."""
    silent = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    silent.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    silent.bind(("::1", uvicorn_v4.port))
    silent.listen(0)
    # A full accept queue: the kernel drops further SYNs without a word, as a black-holed address does.
    fillers = [socket.socket(socket.AF_INET6) for _ in range(3)]
    for filler in fillers:
        filler.setblocking(False)
        filler.connect_ex(("::1", uvicorn_v4.port))
    names["dual.test"] = [("::1", socket.AF_INET6), ("127.0.0.1", socket.AF_INET)]
    # The guard stays on; only loopback counts as public here, so the test can use local servers.
    monkeypatch.setattr(guard, "is_private_address", lambda address: address not in ("::1", "127.0.0.1"))
    try:
        async with http.make_client(5.0, trust_env=False, allow_private=False) as client:
            started = time.monotonic()
            assert await _post(client, uvicorn_v4.url("dual.test")) == 200
            elapsed = time.monotonic() - started
    finally:
        for sock in (*fillers, silent):
            sock.close()
    assert elapsed < 1.5


async def test_with_the_guard_on_a_name_rebound_to_a_private_address_is_refused(
    uvicorn_v4: Uvicorn, names: dict[str, list[tuple[str, int]]]
) -> None:
    """A name that resolves to loopback at connect time (DNS rebinding) is refused, whatever it said before."""
    names["rebind.test"] = [("127.0.0.1", socket.AF_INET)]
    async with http.make_client(5.0, trust_env=False, allow_private=False) as client:
        with pytest.raises(Exception, match=guard.PRIVATE_SETTING):
            await _post(client, uvicorn_v4.url("rebind.test"))
    assert uvicorn_v4.requests == 0

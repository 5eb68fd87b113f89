"""The request guard: Host allow-list, probes-only beyond loopback, the write token and a size bound before any
body is read, and the API's field bounds (all answered with the one-line JSON error)."""

from __future__ import annotations

import asyncio
import json
import os
import re
import resource
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from alertd.daemon import Daemon

from .conftest import READ, READ_TOKEN, WRITE, WRITE_TOKEN, DaemonFactory, client_for, write_calendar

NEW_EVENT = {"id": "new-summit", "title": "Follow-up summit", "start": "2025-11-20"}
JSON = {"content-type": "application/json"}


def base_url(daemon: Daemon) -> str:
    assert daemon.http_address is not None
    host, port = daemon.http_address
    return f"http://{host}:{port}"


def raw_exchange(daemon: Daemon, head: bytes, body: bytes = b"", *, repeat: int = 1) -> bytes:
    """Send ``head`` and ``body`` ``repeat`` times to ``daemon`` over a real socket; return the answer."""
    assert daemon.http_address is not None
    return _send(daemon.http_address, head, body, repeat=repeat)


def _send(address: tuple[str, int], head: bytes, body: bytes, *, repeat: int) -> bytes:
    # Stops sending when the server hangs up, as a client reading the early answer would.
    with socket.create_connection(address, timeout=10) as sock:
        sock.sendall(head)
        try:
            for _ in range(repeat):
                sock.sendall(body)
        except (BrokenPipeError, ConnectionResetError):
            pass
        answer = b""
        try:
            while chunk := sock.recv(65536):
                answer += chunk
        except ConnectionResetError:
            pass
    return answer


def status_and_json(answer: bytes) -> tuple[int, dict[str, object]]:
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split()[1]), json.loads(body)


@pytest.fixture
async def served(start_daemon: DaemonFactory) -> Daemon:
    return await start_daemon(
        http_host="127.0.0.1", http_port=0, api_token=WRITE_TOKEN, api_read_token=READ_TOKEN, api_max_body=4096
    )


async def test_an_unauthenticated_post_is_refused_before_its_body_is_read(served: Daemon) -> None:
    """A POST announcing 300 MB without a token is answered 401 while the client is still sending."""
    head = b"POST /api/v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
    head += b"Content-Length: 314572800\r\n\r\n"

    answer = await asyncio.to_thread(raw_exchange, served, head, b"x" * 65536, repeat=4800)
    status, body = status_and_json(answer)
    assert status == 401
    assert body == {"error": "missing bearer token: send 'Authorization: Bearer <token>'", "detail": None}


async def test_a_body_over_the_bound_is_413_naming_the_setting(served: Daemon) -> None:
    """With the write token, a declared length over ALERTD_API_MAX_BODY is refused with one line."""
    async with httpx.AsyncClient(base_url=base_url(served), trust_env=False) as http:
        big = {**NEW_EVENT, "notes": "n" * 5000}
        response = await http.post("/api/v1/events", json=big, headers=WRITE)
    assert response.status_code == 413
    assert response.json() == {"error": "request body larger than 4096 bytes (ALERTD_API_MAX_BODY)", "detail": None}


async def test_a_chunked_body_over_the_bound_is_413(served: Daemon) -> None:
    """Without a Content-Length the guard counts what arrives and stops at the bound."""

    token = WRITE["Authorization"].encode()
    head = b"POST /api/v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
    head += b"Authorization: " + token + b"\r\nTransfer-Encoding: chunked\r\n\r\n"
    chunk = b"400\r\n" + b"x" * 1024 + b"\r\n"
    answer = await asyncio.to_thread(raw_exchange, served, head, chunk, repeat=20)
    status, body = status_and_json(answer)
    assert status == 413
    assert "ALERTD_API_MAX_BODY" in str(body["error"])


async def test_a_body_within_the_bound_is_served(served: Daemon) -> None:
    """The guard hands a small body on whole: the event is created."""
    async with httpx.AsyncClient(base_url=base_url(served), trust_env=False) as http:
        response = await http.post("/api/v1/events", json=NEW_EVENT, headers=WRITE)
    assert response.status_code == 201


async def test_the_read_token_on_a_write_is_refused_before_the_body(client: httpx.AsyncClient) -> None:
    """The read token with an oversized body is a 403 about the token, not a 413: the token is checked first."""
    response = await client.post("/api/v1/events", content=b"x" * 100_000, headers={**READ, **JSON})
    assert response.status_code == 403
    assert "ALERTD_API_TOKEN" in response.json()["error"]


async def test_a_bad_content_length_is_400(client: httpx.AsyncClient) -> None:
    """A Content-Length that is not a number is refused with one line."""
    response = await client.get("/healthz", headers={"Content-Length": "-5"})
    assert response.json() == {"error": "bad Content-Length header", "detail": None}


@pytest.mark.parametrize(
    "body",
    [
        b'{"id": "lone", "title": "a\\ud800b", "start": "2025-11-20"}',
        b'{"id": "lone\\udfff", "title": "t", "start": "2025-11-20"}',
        b'{"id": "lone", "title": "t", "start": "2025-11-20", "tags": ["\\udbff"]}',
    ],
)
async def test_a_lone_surrogate_in_json_is_422(client: httpx.AsyncClient, body: bytes) -> None:
    """Text that cannot be encoded is invalid input, not a server error."""
    response = await client.post("/api/v1/events", content=body, headers={**WRITE, **JSON})
    assert response.status_code == 422
    assert "unicode" in response.json()["error"]


async def test_a_lone_surrogate_in_a_patch_is_422(client: httpx.AsyncClient) -> None:
    """The same on a change to an existing event."""
    await client.post("/api/v1/events", json=NEW_EVENT, headers=WRITE)
    response = await client.patch(
        "/api/v1/events/new-summit", content=b'{"notes": "\\ud800"}', headers={**WRITE, **JSON}
    )
    assert response.status_code == 422


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("id", "i" * 201),
        ("title", "t" * 501),
        ("notes", "n" * 10_001),
        ("source", "s" * 2_001),
        ("tags", ["t" * 101]),
        ("tags", [f"t{i}" for i in range(51)]),
        ("start", "2" * 65),
        ("timezone", "Z" * 65),
        ("notify", ["c" * 101]),
        ("reminders", ["1d"] * 51),
    ],
)
async def test_overlong_fields_are_422_naming_the_field(start_daemon: DaemonFactory, field: str, value: object) -> None:
    """Every stored text and list has a length bound; going over it names the field."""
    daemon = await start_daemon(api_token=WRITE_TOKEN, api_max_body=1024 * 1024)
    async with client_for(daemon) as client:
        response = await client.post("/api/v1/events", json={**NEW_EVENT, field: value}, headers=WRITE)
    assert response.status_code == 422
    assert response.json()["error"].startswith(f"invalid request: body.{field}")


async def test_a_foreign_host_header_is_refused_on_loopback(client: httpx.AsyncClient) -> None:
    """DNS rebinding: a page on another name that resolves to 127.0.0.1 is not served."""
    response = await client.get("/api/v1/events", headers={**READ, "Host": "attacker.example:8080"})
    assert response.status_code == 403
    assert "ALERTD_HTTP_ALLOWED_HOSTS" in response.json()["error"]


@pytest.mark.parametrize("host", ["localhost", "localhost:8080", "127.0.0.1:43117", "[::1]:8080", "LOCALHOST."])
async def test_loopback_names_are_served_on_loopback(client: httpx.AsyncClient, host: str) -> None:
    """The names a local client uses are allowed by default."""
    assert (await client.get("/api/v1/events", headers={**READ, "Host": host})).status_code == 200


async def test_allowed_hosts_replace_the_default(start_daemon: DaemonFactory) -> None:
    """ALERTD_HTTP_ALLOWED_HOSTS lists the names served; others are refused."""
    daemon = await start_daemon(api_read_token=READ_TOKEN, http_allowed_hosts="alertd.example.org, other.example")
    async with client_for(daemon) as client:
        ok = await client.get("/api/v1/events", headers={**READ, "Host": "alertd.example.org"})
        refused = await client.get("/api/v1/events", headers={**READ, "Host": "localhost"})
    assert (ok.status_code, refused.status_code) == (200, 403)


async def test_without_a_token_beyond_loopback_only_probes_are_served(start_daemon: DaemonFactory) -> None:
    """Bound to 0.0.0.0 with no token, /healthz, /readyz and /metrics answer and the API is refused."""
    daemon = await start_daemon(http_host="0.0.0.0")
    async with client_for(daemon) as client:
        probes = [(await client.get(p)).status_code for p in ("/healthz", "/readyz", "/metrics")]
        api = await client.get("/api/v1/events")
        ics = await client.get("/calendar.ics")
    assert probes == [200, 200, 200]
    assert (api.status_code, ics.status_code) == (403, 403)
    assert "ALERTD_API_TOKEN" in api.json()["error"]


async def test_beyond_loopback_with_a_token_the_api_is_served(start_daemon: DaemonFactory) -> None:
    """A read token is enough to serve the API on every interface."""
    daemon = await start_daemon(http_host="0.0.0.0", api_read_token=READ_TOKEN)
    async with client_for(daemon) as client:
        assert (await client.get("/api/v1/events", headers={**READ, "Host": "alertd.internal"})).status_code == 200


def _peak_rss_kib(pid: int) -> int:
    # VmHWM, the peak: a body buffered and then freed leaves the current RSS low again.
    status = Path(f"/proc/{pid}/status").read_text(encoding="utf-8")
    found = re.search(r"^VmHWM:\s+(\d+) kB", status, re.MULTILINE)
    assert found is not None
    return int(found.group(1))


def _cap_memory() -> None:
    # A regression that buffers the body then fails fast with MemoryError instead of taking the machine down.
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))


MEMORY_CAP = 512 * 1024 * 1024
ALERTD_RUN = (sys.executable, "-m", "alertd", "run")


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads RSS from /proc")
def test_unauthenticated_300_mb_posts_do_not_grow_the_daemon(tmp_path: Path) -> None:
    """A daemon subprocess (under a 512 MiB address-space cap) keeps its peak RSS while refusing 300 MB bodies."""
    calendar = write_calendar(tmp_path / "calendar.yaml")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALERTD_")}
    env |= {"ALERTD_HTTP_PORT": "0", "ALERTD_API_TOKEN": WRITE_TOKEN, "ALERTD_RELOAD_INTERVAL": "3600"}
    err = tmp_path / "daemon.err"
    with err.open("wb") as stderr:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "alertd",
                "run",
                "--calendar",
                str(calendar),
                "--db",
                f"sqlite:///{tmp_path / 'a.db'}",
            ],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            stdin=subprocess.DEVNULL,
            preexec_fn=_cap_memory,
        )
    try:
        deadline = time.monotonic() + 30
        while not (found := re.search(r"listening on http://127\.0\.0\.1:(\d+)", err.read_text())):
            assert proc.poll() is None, err.read_text()
            assert time.monotonic() < deadline, err.read_text()
            time.sleep(0.05)
        address = ("127.0.0.1", int(found.group(1)))
        before = _peak_rss_kib(proc.pid)
        declared = b"POST /api/v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 314572800\r\n\r\n"
        chunked = b"POST /api/v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n"
        chunk = b"10000\r\n" + b"x" * 65536 + b"\r\n"
        for head, body in ((declared, b"x" * 65536), (chunked, chunk)):
            answer = _send(address, head, body, repeat=4800)
            assert answer.startswith(b"HTTP/1.1 401 "), answer[:200]
        after = _peak_rss_kib(proc.pid)
        assert proc.poll() is None, err.read_text()
        assert after - before < 20 * 1024, f"peak RSS grew from {before} KiB to {after} KiB"
    finally:
        proc.terminate()
        proc.wait(15)

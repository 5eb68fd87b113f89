"""What an operator sees of ``alertd run`` as a process: JSON logs from every writer, signals from the first
instant, and start-up errors in one line, in order."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from e2e.harness import DaemonProcess, Harness

pytestmark = pytest.mark.slow

T0 = datetime(2025, 10, 29, 23, 0, tzinfo=UTC)

# Nothing due while a test runs: the console channel needs no receiver and no secret.
QUIET = """
    version: 1
    timezone: UTC
    channels:
      out: {type: console}
    events:
      - id: expiry
        title: Truce expires
        at: 2025-11-10T00:00
        reminders: [30m]
        notify: [out]
"""


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A port on 127.0.0.1 that another socket is listening on."""
    with socket.create_server(("127.0.0.1", 0)) as taken:
        yield taken.getsockname()[1]


def free_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port: int = probe.getsockname()[1]
    return port


def records(daemon: DaemonProcess) -> list[dict[str, Any]]:
    """Every stderr line parsed on its own; fails naming the first line that is not one JSON object."""
    parsed = []
    for line in daemon.stderr().splitlines():
        try:
            parsed.append(json.loads(line))
        except ValueError:
            pytest.fail(f"not a JSON line on stderr: {line!r}\n{daemon.describe()}")
    return parsed


# --- item 11: ALERTD_LOG_FORMAT=json covers every writer ---


def test_json_logs_make_every_stderr_line_one_object_whoever_writes_it(e2e: Harness) -> None:
    port = free_port()
    # A reload check every 5 ms overlaps itself, so APScheduler logs that it skipped a run.
    env = {"ALERTD_LOG_FORMAT": "json", "ALERTD_HTTP_PORT": str(port), "ALERTD_RELOAD_INTERVAL": "0.005"}
    daemon = e2e.start(e2e.calendar(QUIET), replay_from=T0, env=env, ready=False)
    daemon.wait_for_log(r'"message": "started"')
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        raw.sendall(b"NOT-HTTP \x01\x02\r\n\r\n")
        assert raw.recv(1024).startswith(b"HTTP/1.1 400")
    daemon.wait_for_log(r"Invalid HTTP request received")
    daemon.wait_for_log(r"Execution of job .* skipped")
    assert daemon.stop() == 0

    lines = records(daemon)
    said = {(r["logger"], r["message"].split(" (")[0]) for r in lines}
    assert ("uvicorn.error", "Invalid HTTP request received.") in said
    assert ("alertd.cli", "stopping") in said
    assert ("alertd.daemon", "stopped") in said
    assert any(r["logger"] == "apscheduler.scheduler" and "skipped" in r["message"] for r in lines)
    assert all(set(r) >= {"time", "level", "logger", "message"} for r in lines)


def test_json_logs_make_a_start_up_error_one_object(e2e: Harness, busy_port: int) -> None:
    env = {"ALERTD_LOG_FORMAT": "json", "ALERTD_HTTP_PORT": str(busy_port)}
    daemon = e2e.start(e2e.calendar(QUIET), replay_from=T0, env=env, ready=False)
    assert daemon.proc.wait(30) == 1
    last = records(daemon)[-1]
    assert (last["level"], last["logger"]) == ("error", "alertd.cli")
    assert last["message"].startswith(f"ALERTD_HTTP_HOST/ALERTD_HTTP_PORT: cannot listen on 127.0.0.1:{busy_port}")


def test_json_logs_make_a_settings_error_one_object(e2e: Harness) -> None:
    # The settings themselves are wrong, so the format comes from the environment alone.
    env = {"ALERTD_LOG_FORMAT": "json", "ALERTD_HTTP_PORT": "eighty"}
    daemon = e2e.start(e2e.calendar(QUIET), replay_from=T0, env=env, ready=False)
    assert daemon.proc.wait(30) == 1
    (only,) = records(daemon)
    assert only["level"] == "error"
    assert "ALERTD_HTTP_PORT" in only["message"]


def test_json_logs_make_each_calendar_error_one_object(e2e: Harness) -> None:
    env = {"ALERTD_LOG_FORMAT": "json"}
    broken = e2e.calendar(QUIET.replace("at: 2025-11-10T00:00", "at: someday"))
    daemon = e2e.start(broken, replay_from=T0, env=env, ready=False)
    assert daemon.proc.wait(30) == 1
    lines = records(daemon)
    assert "someday" in " ".join(r["message"] for r in lines)
    assert lines[-1]["message"] == "the calendar has 1 error; nothing was changed"


# --- item 12: signals right after the start ---

# Loaded by Python at start-up (``sitecustomize`` on PYTHONPATH): the process signals itself when it first imports
# the named module, so the signal lands at a known moment of the imports, however loaded the machine is.
_SIGNAL_AT_IMPORT = """
import os, signal, sys

_module, _signal, _times = os.environ["SIGNAL_AT_IMPORT"].split(":")


class _SignalAtImport:
    fired = False

    def find_spec(self, name, path=None, target=None):
        if name == _module and not self.fired:
            self.fired = True
            for _ in range(int(_times)):
                os.kill(os.getpid(), getattr(signal, _signal))
        return None


sys.meta_path.insert(0, _SignalAtImport())
"""

# The moments after spawning at which a signal arrives: during the imports of the settings' library, of the
# storage and of the scheduler (all before the event loop runs), and once the daemon says it is starting.
MOMENTS = ["import:pydantic", "import:sqlalchemy", "import:apscheduler", "log:starting"]


def start_signalled(e2e: Harness, moment: str, sig: signal.Signals, times: int = 1) -> DaemonProcess:
    """``alertd run`` that receives ``sig`` at ``moment`` (``times`` times in a row)."""
    kind, _, what = moment.partition(":")
    env: dict[str, str] = {}
    if kind == "import":
        hook = e2e.dir / "hook"
        hook.mkdir(exist_ok=True)
        (hook / "sitecustomize.py").write_text(_SIGNAL_AT_IMPORT, encoding="utf-8")
        path = os.pathsep.join(p for p in (str(hook), os.environ.get("PYTHONPATH")) if p)
        env = {"PYTHONPATH": path, "SIGNAL_AT_IMPORT": f"{what}:{sig.name}:{times}"}
    daemon = e2e.start(e2e.calendar(QUIET), replay_from=T0, env=env, ready=False)
    if kind == "log":
        daemon.wait_for_log(r"alertd \S+ starting")
        for _ in range(times):
            daemon.signal(sig)
    return daemon


def exit_code(daemon: DaemonProcess, timeout: float = 30.0) -> int:
    try:
        return daemon.proc.wait(timeout)
    except subprocess.TimeoutExpired:
        pytest.fail(f"alertd still running {timeout:g} s after an early signal:\n{daemon.describe()}")


@pytest.mark.parametrize("moment", MOMENTS)
def test_an_early_sighup_is_a_reload_once_the_daemon_runs(e2e: Harness, moment: str) -> None:
    daemon = start_signalled(e2e, moment, signal.SIGHUP)
    daemon.wait_for_log(r"INFO +started$")
    daemon.wait_for_log(r"INFO +calendar reloaded: ")
    assert daemon.proc.poll() is None
    assert daemon.stop() == 0
    assert "Traceback" not in daemon.stderr()


@pytest.mark.parametrize("moment", MOMENTS)
def test_an_early_sigterm_stops_cleanly(e2e: Harness, moment: str) -> None:
    daemon = start_signalled(e2e, moment, signal.SIGTERM)
    assert exit_code(daemon) == 0, daemon.describe()
    errors = daemon.stderr()
    assert re.search(r"^alertd: stopping", errors, re.MULTILINE), daemon.describe()
    assert "Traceback" not in errors
    if re.search(r"INFO +started$", errors, re.MULTILINE):
        # It got as far as starting: it then stops as a running daemon does.
        assert re.search(r"INFO +stopped$", errors.rstrip())
    else:
        # Stopped before the start: nothing was opened, so the database was never created.
        assert not e2e.db.exists()


def test_a_second_early_sigterm_exits_at_once(e2e: Harness) -> None:
    daemon = start_signalled(e2e, "import:sqlalchemy", signal.SIGTERM, times=2)
    assert exit_code(daemon) == 130, daemon.describe()
    assert daemon.stderr() == "alertd: second signal, exiting immediately\n"


# --- item 13: start-up errors are one line, in order ---


def test_a_busy_port_is_refused_in_one_plain_line_before_the_database_is_touched(e2e: Harness, busy_port: int) -> None:
    daemon = e2e.start(e2e.calendar(QUIET), replay_from=T0, env={"ALERTD_HTTP_PORT": str(busy_port)}, ready=False)
    assert daemon.proc.wait(30) == 1
    starting, error = daemon.stderr().splitlines()
    assert re.search(r"INFO +alertd \S+ starting", starting)
    assert error == (
        f"alertd: ALERTD_HTTP_HOST/ALERTD_HTTP_PORT: cannot listen on 127.0.0.1:{busy_port}: Address already in use; "
        "choose another port or stop the process using it"
    )
    # Neither migrated nor synced: the instance lock made the file (it locks the file itself), nothing wrote to it.
    assert e2e.db.stat().st_size == 0


def test_a_daemon_that_never_started_does_not_log_stopped(e2e: Harness) -> None:
    broken = e2e.calendar(QUIET.replace("at: 2025-11-10T00:00", "at: someday"))
    daemon = e2e.start(broken, replay_from=T0, ready=False)
    assert daemon.proc.wait(30) == 1
    errors = daemon.stderr()
    assert "stopped" not in errors
    assert errors.splitlines()[-1] == "alertd: the calendar has 1 error; nothing was changed"


def test_start_up_steps_come_in_order_lock_port_schema_calendar_started(e2e: Harness) -> None:
    port = free_port()
    daemon = e2e.start(e2e.calendar(QUIET), replay_from=T0, env={"ALERTD_HTTP_PORT": str(port)}, ready=False)
    daemon.wait_for_log(r"INFO +started$")
    assert daemon.stop() == 0
    lines = daemon.stderr().splitlines()

    def first(pattern: str) -> int:
        return next(n for n, line in enumerate(lines) if re.search(pattern, line))

    assert (
        first(r" starting;")
        < first(r"calendar \S+: 1 added")
        < first(r"HTTP API listening")
        < first(r"INFO +started$")
        < first(r"INFO +stopped$")
    )

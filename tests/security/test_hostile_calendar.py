"""Hostile calendar files: FIFOs, devices, huge and deeply nested files, secrets in error messages, files outside
the secrets directory. ``alertd check`` and the daemon run as subprocesses under a memory cap (RLIMIT_AS), so a
regression fails fast instead of taking the machine down; a check that never returns fails on its timeout.
"""

from __future__ import annotations

import json
import os
import resource
import socket
import subprocess
import sys
import textwrap
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from e2e.harness import FAST_ENV, DaemonProcess, iso, write_calendar
from reliability.tools import wait_until
from support.receiver import Receiver

pytestmark = pytest.mark.slow

# Enough for alertd and its template worker (about 300 MB of address space each); far below what the hostile
# inputs took before they were bounded (/dev/zero: 2.4 GB and counting).
MEMORY_CAP = 768 * 1024 * 1024
MARK = "Zq7HostileMark"
T0 = datetime(2030, 1, 1, 8, 0, tzinfo=UTC)


def _capped() -> Callable[[], None]:
    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))

    return limit


def _env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALERTD_")}
    env.update(FAST_ENV)
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra or {})
    return env


def check(folder: Path, text: str, env: Mapping[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``alertd check`` on ``text`` written to calendar.yaml in ``folder``, under the memory cap."""
    path = folder / "calendar.yaml"
    if not path.exists() or path.is_file():
        path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return check_path(folder, path, env)


def check_path(folder: Path, path: Path, env: Mapping[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "alertd", "check", os.path.relpath(path, folder)],
        cwd=folder,
        env=_env(env),
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        preexec_fn=_capped(),
        check=False,
    )


def _hook_calendar(extra: str) -> str:
    return f"""
        version: 1
        channels:
          hook: {{type: webhook, url: "http://127.0.0.1:9/hook", {extra}}}
    """


def _one_error(done: subprocess.CompletedProcess[str]) -> str:
    """The single issue line of a failed check (and no traceback)."""
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    lines = [line for line in done.stderr.splitlines() if not line.startswith("alertd: ")]
    assert len(lines) == 1, done.stderr
    return lines[0]


# --- files the calendar names ---------------------------------------------------------------------------------


def test_check_refuses_a_fifo_as_the_calendar_at_once(tmp_path: Path) -> None:
    """A named pipe as the calendar is an error, not a read that waits for a writer forever."""
    fifo = tmp_path / "calendar.yaml"
    os.mkfifo(fifo)
    assert "it is a FIFO (named pipe), not a regular file" in _one_error(check_path(tmp_path, fifo))


def test_secret_file_naming_a_fifo_is_refused(tmp_path: Path) -> None:
    """``secret_file:`` a FIFO is a one-line error at its line."""
    os.mkfifo(tmp_path / "pipe")
    line = _one_error(check(tmp_path, _hook_calendar("secret_file: pipe")))
    assert line.endswith(
        "calendar.yaml:3: channels.hook.secret_file: cannot read secret file 'pipe': "
        "it is a FIFO (named pipe), not a regular file; check the path and permissions"
    )


def test_secret_file_naming_dev_zero_is_refused_within_the_memory_cap(tmp_path: Path) -> None:
    """``/dev/zero`` never ends: it is refused as a device instead of read until memory runs out."""
    line = _one_error(check(tmp_path, _hook_calendar("secret_file: /dev/zero")))
    assert "'/dev/zero': it is a character device, not a regular file" in line


def test_secret_file_naming_a_directory_is_refused(tmp_path: Path) -> None:
    """A directory is named as such."""
    (tmp_path / "secrets").mkdir()
    assert "it is a directory, not a regular file" in _one_error(
        check(tmp_path, _hook_calendar("secret_file: secrets"))
    )


def test_secret_file_larger_than_64_kib_is_refused(tmp_path: Path) -> None:
    """A secret file is small; a big one (a log, a dump) is refused with its size and the limit."""
    (tmp_path / "big.secret").write_bytes(b"x" * (64 * 1024 + 1))
    line = _one_error(check(tmp_path, _hook_calendar("secret_file: big.secret")))
    assert "it is 65537 bytes, more than the limit of 65536" in line


def test_calendar_larger_than_the_bound_is_refused_before_parsing(tmp_path: Path) -> None:
    """A 50 MB calendar is refused by its size (read never starts), within the memory cap."""
    path = tmp_path / "calendar.yaml"
    with path.open("wb") as f:
        f.truncate(50 * 1024 * 1024)
    line = _one_error(check_path(tmp_path, path))
    assert "it is 52428800 bytes, more than the limit of 4194304; raise ALERTD_CALENDAR_MAX_BYTES" in line


def test_calendar_max_bytes_setting_lowers_the_bound(tmp_path: Path) -> None:
    """ALERTD_CALENDAR_MAX_BYTES applies to an otherwise valid calendar."""
    done = check(tmp_path, "version: 1\n" + "# padding\n" * 20, env={"ALERTD_CALENDAR_MAX_BYTES": "100"})
    assert "more than the limit of 100; raise ALERTD_CALENDAR_MAX_BYTES" in _one_error(done)


# --- YAML bounds ---------------------------------------------------------------------------------------------


def test_yaml_nested_500_levels_is_a_one_line_error(tmp_path: Path) -> None:
    """A 1 KB file nested 500 levels deep is refused by depth, not by a RecursionError traceback."""
    line = _one_error(check(tmp_path, "version: 1\nx: " + "[" * 500 + "]" * 500 + "\n"))
    assert "values are nested more than 32 levels deep; flatten the document" in line


def test_yaml_with_more_values_than_the_budget_is_refused(tmp_path: Path) -> None:
    """Two hundred thousand values are far beyond any calendar: refused while composing, in one line."""
    line = _one_error(check(tmp_path, "version: 1\nx: [" + "1," * 200_001 + "1]\n"))
    assert "the document has more than 200000 values; split or shorten it" in line


# --- secrets never quoted, alertd's own settings never readable --------------------------------------------


def test_a_value_from_a_variable_is_never_quoted(tmp_path: Path) -> None:
    """``timezone: "${VAR}"`` with a bad zone names the variable, never its value."""
    done = check(tmp_path, 'version: 1\ntimezone: "${ZONE}"\n', env={"ZONE": f"{MARK}-zone"})
    line = _one_error(done)
    assert "<value of ${ZONE}>" in line
    assert MARK not in done.stdout + done.stderr


def test_the_content_of_a_secret_file_is_never_quoted(tmp_path: Path) -> None:
    """``channel_file:`` naming any file does not print the file in the error about its content."""
    (tmp_path / "notes.txt").write_text(f"#general-{MARK}\n", encoding="utf-8")
    calendar = """
        version: 1
        channels:
          desk: {type: slack, url: "https://slack.example.com/services/x", channel_file: notes.txt}
    """
    done = check(tmp_path, calendar)
    assert "<content of channel_file>" in _one_error(done)
    assert MARK not in done.stdout + done.stderr


@pytest.mark.parametrize("name", ["ALERTD_API_TOKEN", "ALERTD_SMTP_PASSWORD", "ALERTD_DATABASE_URL"])
def test_alertds_own_settings_are_never_interpolated(tmp_path: Path, name: str) -> None:
    """``${ALERTD_API_TOKEN}`` (or any setting) in the calendar is an error naming the variable, not its value."""
    calendar = f"""
        version: 1
        channels:
          desk: {{type: slack, url: "https://slack.example.com/services/x", channel: "${{{name}}}"}}
    """
    done = check(tmp_path, calendar, env={name: f"{MARK}-setting"})
    assert f"${{{name}}} is one of alertd's own settings and is never readable from the calendar" in _one_error(done)
    assert MARK not in done.stdout + done.stderr


# --- ALERTD_SECRETS_DIR --------------------------------------------------------------------------------------


@pytest.fixture
def secrets(tmp_path: Path) -> Path:
    folder = tmp_path / "secrets"
    folder.mkdir()
    (folder / "hook.secret").write_text("s3cret-in-the-folder\n", encoding="utf-8")
    (tmp_path / "outside.secret").write_text("s3cret-outside\n", encoding="utf-8")
    return folder


def test_secrets_dir_allows_files_inside_it(tmp_path: Path, secrets: Path) -> None:
    """A ``*_file`` inside ALERTD_SECRETS_DIR is read as usual."""
    done = check(tmp_path, _hook_calendar("secret_file: secrets/hook.secret"), env={"ALERTD_SECRETS_DIR": str(secrets)})
    assert done.returncode == 0, done.stderr


def test_secrets_dir_refuses_a_file_outside_it(tmp_path: Path, secrets: Path) -> None:
    """A ``*_file`` outside ALERTD_SECRETS_DIR is refused, naming the setting."""
    done = check(tmp_path, _hook_calendar("secret_file: outside.secret"), env={"ALERTD_SECRETS_DIR": str(secrets)})
    assert "it is outside ALERTD_SECRETS_DIR" in _one_error(done)


def test_secrets_dir_refuses_a_symlink_leading_out_of_it(tmp_path: Path, secrets: Path) -> None:
    """A symlink inside the folder to a file outside is judged by where it leads."""
    (secrets / "escape").symlink_to(tmp_path / "outside.secret")
    done = check(tmp_path, _hook_calendar("secret_file: secrets/escape"), env={"ALERTD_SECRETS_DIR": str(secrets)})
    assert "it is outside ALERTD_SECRETS_DIR" in _one_error(done)
    assert "s3cret-outside" not in done.stderr


# --- the daemon under a memory cap ---------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


class CappedDaemon:
    """``alertd run`` with its HTTP API on a free port, under the memory cap; killed at the end of the test."""

    def __init__(self, folder: Path, calendar: Path, env: Mapping[str, str] | None = None) -> None:
        self.port = _free_port()
        args = [sys.executable, "-m", "alertd", "run", "--calendar", str(calendar), "--db", f"sqlite:///{folder}/a.db"]
        args += ["--replay-from", iso(T0), "--speed", "1"]
        out, err = folder / "daemon.out", folder / "daemon.err"
        with out.open("wb") as stdout, err.open("wb") as stderr:
            proc = subprocess.Popen(
                args,
                cwd=folder,
                env=_env({"ALERTD_HTTP_PORT": str(self.port), **(env or {})}),
                stdout=stdout,
                stderr=stderr,
                stdin=subprocess.DEVNULL,
                preexec_fn=_capped(),
            )
        self.process = DaemonProcess(proc, out, err)
        self.process.wait_for_log(r"INFO +calendar \S+: \d+ added", timeout=60)

    def get(self, path: str) -> tuple[int, str]:
        return _get(f"http://127.0.0.1:{self.port}{path}")

    def close(self) -> None:
        self.process.kill()
        print(self.process.describe())


@pytest.fixture
def hook() -> Iterator[Receiver]:
    receiver = Receiver()
    receiver.start_in_thread()
    yield receiver
    receiver.close()


def _delivering_calendar(hook: Receiver, at: datetime, extra_channel: str = "") -> str:
    return f"""
        version: 1
        defaults: {{reminders: [1d], countdown: false}}
        channels:
          hook: {{type: webhook, url: "{hook.url("/hook")}"}}
          {extra_channel}
        events:
          - id: launch
            title: Launch
            at: {at:%Y-%m-%dT%H:%M:%SZ}
            notify: [hook]
    """


@pytest.fixture
def daemon_dir(tmp_path: Path) -> Iterator[list[CappedDaemon]]:
    started: list[CappedDaemon] = []
    yield started
    for daemon in started:
        daemon.close()


def test_a_rejected_deep_yaml_reload_shows_in_readyz_and_metrics(
    tmp_path: Path, hook: Receiver, daemon_dir: list[CappedDaemon]
) -> None:
    """Reloading a 500-level file is rejected: /readyz says so without quoting it, the gauge goes to 0."""
    calendar = write_calendar(tmp_path / "calendar.yaml", _delivering_calendar(hook, T0.replace(year=2031)))
    daemon = CappedDaemon(tmp_path, calendar)
    daemon_dir.append(daemon)
    write_calendar(calendar, "version: 1\nx: " + "[" * 500 + "]" * 500 + "\n")
    daemon.process.wait_for_log("calendar change rejected", timeout=30)
    status, body = daemon.get("/readyz")
    assert (status, json.loads(body)["last_reload_error"]) == (200, "calendar reload rejected: 1 error, see the log")
    assert "alertd_calendar_last_reload_ok 0.0" in daemon.get("/metrics")[1]
    assert "RecursionError" not in daemon.process.stderr()


def test_a_fifo_secret_file_on_reload_freezes_nothing(
    tmp_path: Path, hook: Receiver, daemon_dir: list[CappedDaemon]
) -> None:
    """A reload whose ``secret_file`` is a FIFO or /dev/zero is rejected; probes answer and deliveries go on."""
    os.mkfifo(tmp_path / "pipe")
    calendar = write_calendar(tmp_path / "calendar.yaml", _delivering_calendar(hook, T0.replace(year=2031)))
    daemon = CappedDaemon(tmp_path, calendar, env={"ALERTD_CALENDAR_LOAD_TIMEOUT": "30"})
    daemon_dir.append(daemon)
    bad = "other: {type: webhook, secret_file: pipe, url_file: /dev/zero}"
    write_calendar(calendar, _delivering_calendar(hook, T0.replace(year=2031), bad))
    daemon.process.wait_for_log("calendar change rejected", timeout=30)
    assert daemon.get("/healthz") == (200, '{"status":"ok"}')
    assert "it is a FIFO (named pipe), not a regular file" in daemon.process.stderr()
    assert "it is a character device, not a regular file" in daemon.process.stderr()
    # A good calendar after it applies, and its reminder (due a day before, i.e. at once) is delivered.
    write_calendar(calendar, _delivering_calendar(hook, T0 + timedelta(days=1)))
    assert wait_until(lambda: len(hook.requests) >= 1, timeout=30), daemon.process.describe()


# --- templates -----------------------------------------------------------------------------------------------

LOOP = "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"


def _templated(text: str) -> str:
    return f"""
        version: 1
        channels:
          desk:
            type: console
            templates:
              reminder:
                text: "{text}"
    """


def test_check_reports_a_looping_template_without_hanging(tmp_path: Path) -> None:
    """Two nested range(100000) loops are an error for the sample message after the 2 s budget, not a hang."""
    line = _one_error(check(tmp_path, _templated(LOOP)))
    assert "template fails on a sample message: the template ran longer than 2s and was stopped" in line


def test_check_refuses_a_gigabyte_template_within_the_memory_cap(tmp_path: Path) -> None:
    """``{{ 'a'*10**9 }}`` is refused by its size, far below the memory cap (it took 4 GB before)."""
    line = _one_error(check(tmp_path, _templated("{{ 'a'*10**9 }}")))
    assert "the template went over its budget: a repetition longer than 100000 characters" in line


def test_a_template_that_loops_only_for_a_real_event_fails_that_notification_alone(
    tmp_path: Path, hook: Receiver, daemon_dir: list[CappedDaemon]
) -> None:
    """It passes ``check`` (the sample event is spared), then at send time its notification is dead with a
    one-line reason while the other channel delivers and the probes answer."""
    other = Receiver()
    other.start_in_thread()
    try:
        trap = "{% if event.id != 'sample-summit' %}" + LOOP + "{% endif %}{{ text }}"
        calendar = write_calendar(
            tmp_path / "calendar.yaml",
            f"""
            version: 1
            defaults: {{reminders: [1d], countdown: false}}
            channels:
              trap:
                type: webhook
                url: "{other.url("/trap")}"
                templates: {{reminder: {{text: "{trap}"}}}}
              hook: {{type: webhook, url: "{hook.url("/hook")}"}}
            events:
              - id: launch
                title: Launch
                at: {T0 + timedelta(days=1, seconds=20):%Y-%m-%dT%H:%M:%SZ}
                notify: [trap, hook]
            """,
        )
        daemon = CappedDaemon(tmp_path, calendar)
        daemon_dir.append(daemon)
        found = daemon.process.wait_for_log(r"dead \S+ → trap: (.*)$", timeout=90)
        assert found.group(1) == (
            "template for reminder messages on channel trap: the template ran longer than 2s and was stopped"
        )
        assert daemon.get("/healthz") == (200, '{"status":"ok"}')
        assert wait_until(lambda: len(hook.requests) == 1, timeout=30), daemon.process.describe()
        assert other.requests == []
    finally:
        other.close()

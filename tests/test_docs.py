"""Every shell command in the README and docs/ is followed as written: run here, in a copy of the repository's
example files, or named in the list of CI steps and tests that run it. A new command nobody runs fails this test."""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
_SHELL = {"bash", "sh", "shell", "console"}
_FENCE = re.compile(r"^\s*(```+|~~~+)\s*(\S*)")

# Commands run elsewhere, by the start of the command: (file, text that file must contain to run it).
ELSEWHERE: dict[str, tuple[str, str]] = {
    "./scripts/test": (".ci/run", "bash scripts/test"),
    "docker build -t alertd .": (".ci/container-smoke", "build -q -t alertd:smoke"),
    "docker run -d --name alertd": (".ci/container-smoke", '-v "$work:/etc/alertd:ro" alertd:smoke'),
    "docker kill -s HUP alertd": (".ci/container-smoke", "calendar reloaded"),
    "docker stop alertd": (".ci/container-smoke", "SIGTERM"),
    "curl -s localhost:8080/healthz": (".ci/container-smoke", "/healthz"),
    # The HTTP API walk-through: the same routes over a real socket.
    "ALERTD_HTTP_PORT=8080 ALERTD_API_TOKEN=s3cret .venv/bin/alertd run": ("tests/api/test_server.py", "HttpServer"),
    "curl -s localhost:8080/readyz": ("tests/api/test_health.py", '"/readyz"'),
    'curl -s -H "Authorization: Bearer s3cret" localhost:8080/api/v1/events': (
        "tests/api/test_events.py",
        '"/api/v1/events"',
    ),
    'curl -s -H "Authorization: Bearer s3cret" -X POST localhost:8080/api/v1/events': (
        "tests/api/test_events.py",
        "client.post(",
    ),
    'curl -s -H "Authorization: Bearer s3cret" "localhost:8080/api/v1/notifications?state=dead"': (
        "tests/api/test_notifications.py",
        "def test_list_filters_by_state",
    ),
    "curl -s localhost:8080/metrics | grep alertd_queue_depth": ("tests/api/test_health.py", "alertd_queue_depth"),
    'curl -s "http://localhost:8080/calendar/$ALERTD_FEED_TOKEN.ics"': (
        "tests/api/test_server.py",
        "def test_feed_url_over_tcp_keeps_its_token_out_of_the_access_log",
    ),
    # Long-running: run below by test_the_demo_replays_the_seed_calendar with the script's own arguments.
    "./scripts/demo": ("tests/test_docs.py", "def test_the_demo_replays_the_seed_calendar"),
    # Long-running: run below by test_the_quick_start_daemon_starts_and_stops_cleanly.
    ".venv/bin/alertd run --calendar config/calendar.yaml": (
        "tests/test_docs.py",
        "def test_the_quick_start_daemon_starts_and_stops_cleanly",
    ),
}


@dataclass(frozen=True)
class Command:
    file: str
    line: int
    text: str
    # A console block shows "alertd: …" after a command that fails on purpose.
    fails: bool = False


def shell_commands(path: Path) -> list[Command]:
    """The commands of every bash/sh/console block: continuation lines joined, comments dropped; in a console
    block only ``$ `` lines are commands and the lines after one are its output."""
    found: list[Command] = []
    lang: str | None = None
    pending: list[str] = []
    start = 0
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        fence = _FENCE.match(raw)
        if fence:
            lang = None if lang is not None else fence.group(2) or ""
            continue
        if lang not in _SHELL:
            continue
        line = raw.strip()
        if lang == "console" and not pending:
            if line.startswith("alertd:") and found and found[-1].file == path.relative_to(ROOT).as_posix():
                found[-1] = Command(found[-1].file, found[-1].line, found[-1].text, fails=True)
            if not line.startswith("$ "):
                continue
            line = line[2:]
        if not pending:
            start = number
            if not line or line.startswith("#"):
                continue
        line = re.split(r"\s{2,}#", line)[0].rstrip()
        if line.endswith("\\"):
            pending.append(line[:-1].strip())
            continue
        text = " ".join([*pending, line]).strip()
        if not _complete(text):
            # A quoted JSON body spread over several lines.
            pending.append(line)
            continue
        pending = []
        found.append(Command(path.relative_to(ROOT).as_posix(), start, text))
    return found


def _complete(text: str) -> bool:
    try:
        shlex.split(text)
    except ValueError:
        return False
    return True


ALL = [c for path in DOCS for c in shell_commands(path)]


# Route segments of the HTTP API (the rest of a path is ids), for curl commands against a running daemon.
_ROUTE_WORDS = {"events", "notifications", "plan", "move", "confirm", "cancel", "retry", "tentative", "postpone"}
_ROUTE_WORDS |= {"readyz", "healthz", "metrics", "calendar.ics", "openapi.json"}


def _api_route(command: str) -> str | None:
    """``/events/ID/move`` → ``/move``: the route's last fixed segment, which the API tests must request."""
    found = re.search(r"(?:\$API|localhost:\d+)(/[^\s\"'?]*)", command)
    if not command.startswith("curl ") or found is None:
        return None
    words = [w for w in found.group(1).split("/") if w in _ROUTE_WORDS]
    return "/" + words[-1] if words else None


def _elsewhere(command: str) -> tuple[str, str] | None:
    known = next((where for start, where in ELSEWHERE.items() if command.startswith(start)), None)
    if known is not None:
        return known
    route = _api_route(command)
    if route is not None:
        # Run against a real server by the API tests (tests/api, over a socket in test_server.py).
        tests = sorted((ROOT / "tests" / "api").glob("test_*.py"))
        holder = next((t for t in tests if route in t.read_text(encoding="utf-8")), tests[0])
        return holder.relative_to(ROOT).as_posix(), route
    return None


_SETTING = re.compile(r"(ALERTD_\w+)=(.*)")


def _runs_here(command: str) -> bool:
    return _elsewhere(command) is None and not _SETTING.fullmatch(command)


@pytest.mark.parametrize("command", [c for c in ALL if _SETTING.fullmatch(c.text)], ids=lambda c: f"{c.file}:{c.line}")
def test_a_setting_shown_in_an_env_file_exists_and_works_in_docker(command: Command) -> None:
    """``ALERTD_X=value`` lines are env-file lines: a real setting, without quotes that Docker would keep."""
    from alertd.settings import Settings

    found = _SETTING.fullmatch(command.text)
    assert found is not None
    name, value = found.group(1), found.group(2).strip()
    field = name.removeprefix("ALERTD_").lower()
    assert field in Settings.model_fields or field.removesuffix("_file") in Settings.model_fields, name
    assert not (len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'"), f"{name} is quoted"


def test_the_docs_have_shell_commands() -> None:
    assert len(ALL) > 20
    assert any(c.file == "docs/editing.md" for c in ALL)


@pytest.mark.parametrize("command", [c for c in ALL if _elsewhere(c.text)], ids=lambda c: f"{c.file}:{c.line}")
def test_a_command_run_elsewhere_is_run_by_the_named_step(command: Command) -> None:
    where = _elsewhere(command.text)
    assert where is not None
    file, needle = where
    assert needle in (ROOT / file).read_text(encoding="utf-8"), f"{file} does not run: {command.text}"


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A directory laid out like a clone (config/, seeds/) with the package's interpreter as ``.venv/bin/alertd``."""
    for folder in ("config", "seeds"):
        target = tmp_path / folder
        target.mkdir()
        for item in (ROOT / folder).iterdir():
            (target / item.name).write_bytes(item.read_bytes())
    bin_dir = tmp_path / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    alertd = bin_dir / "alertd"
    alertd.write_text(f'#!/bin/sh\nexec {shlex.quote(sys.executable)} -m alertd "$@"\n', encoding="utf-8")
    alertd.chmod(0o755)
    return tmp_path


def _environ(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALERTD_")}
    # ``alertd`` as the docs write it, and the package itself for the shim's interpreter.
    env["PATH"] = f"{home / '.venv' / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONPATH"] = str(ROOT)
    return env


def test_every_command_run_here_works_as_written_in_order(home: Path) -> None:
    """In document order, in one directory, as a reader following the docs would (docs/editing.md's commands
    build on each other); a command shown failing must fail with one line."""
    calendar = home / "calendar.yaml"
    calendar.write_text((ROOT / "seeds" / "us-china-truce-2025.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    env = _environ(home) | {"ALERTD_CALENDAR": str(calendar)}
    failures = []
    for command in (c for c in ALL if _runs_here(c.text)):
        done = subprocess.run(
            ["bash", "-c", command.text],
            cwd=home,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            stdin=subprocess.DEVNULL,
            check=False,
        )
        ok = done.returncode == 1 and len(done.stderr.splitlines()) == 1 if command.fails else done.returncode == 0
        if not ok or "Traceback" in done.stderr:
            failures.append(f"{command.file}:{command.line}: {command.text}\n  exit {done.returncode}: {done.stderr}")
    assert not failures, "\n".join(failures)
    # The container commands (run by .ci/container-smoke) name files the steps before them create.
    for command in ALL:
        for env_file in re.findall(r"--env-file\s+(\S+)", command.text):
            assert (home / env_file).is_file(), f"{command.file}:{command.line}: nothing before it makes {env_file}"


class _Running:
    """A long-running documented command, its output going to a file that is read while it runs."""

    def __init__(self, args: list[str], home: Path, env: dict[str, str]) -> None:
        self.log = home / "output.log"
        with self.log.open("w", encoding="utf-8") as out:
            self.proc = subprocess.Popen(
                args, cwd=home, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
            )

    def wait_for(self, needle: str, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while needle not in (seen := self.log.read_text(encoding="utf-8")):
            assert self.proc.poll() is None, f"exited {self.proc.returncode} before {needle!r}:\n{seen}"
            assert time.monotonic() < deadline, f"{needle!r} not printed in {timeout}s:\n{seen}"
            time.sleep(0.1)

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=30)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()


def test_the_quick_start_daemon_starts_and_stops_cleanly(home: Path) -> None:
    args = shlex.split(".venv/bin/alertd run --calendar config/calendar.yaml")
    running = _Running([str(home / args[0]), *args[1:]], home, _environ(home))
    try:
        running.wait_for("calendar config/calendar.yaml:")
    finally:
        code = running.stop()
    assert code == 0


def test_the_demo_replays_the_seed_calendar(home: Path) -> None:
    """``./scripts/demo`` installs into .venv (the suite already runs there) and then runs this line of it."""
    script = (ROOT / "scripts" / "demo").read_text(encoding="utf-8")
    line = " ".join(part.strip().rstrip("\\") for part in script.split("exec ", 1)[1].splitlines()[:2])
    expanded = line.replace('"${ALERTD_DEMO_FROM:-2025-10-22T00:00Z}"', "2025-10-22T00:00Z")
    expanded = expanded.replace('"${ALERTD_DEMO_SPEED:-20000}"', "20000").replace('"$@"', "")
    args = shlex.split(expanded)
    assert args[:4] == [".venv/bin/alertd", "run", "--calendar", "seeds/us-china-truce-2025.yaml"]
    # The script's own default: the dashboard on a free loopback port, its URL in the log.
    assert 'export ALERTD_HTTP_PORT="${ALERTD_HTTP_PORT:-0}"' in script
    running = _Running([str(home / args[0]), *args[1:]], home, {**_environ(home), "ALERTD_HTTP_PORT": "0"})
    try:
        running.wait_for("(dashboard: http://127.0.0.1:")
        running.wait_for("US–China framework deal announced in Kuala Lumpur")
    finally:
        code = running.stop()
    assert code == 0

"""Each command imports what it needs and nothing heavy besides, checked on ``sys.modules`` in a fresh interpreter.

Start-up speed itself is measured by ``bench/startup.py``; these tests keep the imports that make it true from
coming back unnoticed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

SEED = Path(__file__).resolve().parents[2] / "seeds" / "us-china-truce-2025.yaml"
# Libraries a command that only reads the calendar never needs.
SERVER = ("fastapi", "uvicorn", "starlette", "apscheduler")
NETWORK = ("aiohttp", "httpx", "aiosmtplib", "apprise")
DATABASE = ("sqlalchemy", "sqlmodel", "alembic", "psycopg")
# holidays: only a calendar naming ``workdays`` loads it (its country modules cost start-up time and memory).
WATCHED = (*SERVER, *NETWORK, *DATABASE, "pydantic", "pydantic_settings", "jinja2", "babel", "asyncio", "holidays")

_PROBE = textwrap.dedent(
    """
    import json, sys
    from alertd.cli.main import main
    try:
        code = main(sys.argv[2:])
    except SystemExit as exc:
        code = exc.code
    watched = json.loads(sys.argv[1])
    loaded = sorted(m for m in watched if m in sys.modules)
    channels = sorted(m for m in sys.modules if m.startswith("alertd.channels."))
    print(json.dumps({"code": code, "loaded": loaded, "channels": channels}), file=sys.stderr)
    """
)


# ``alertd run`` until it settled: one second after "started" the probe reads sys.modules and stops the daemon
# (SIGTERM, as a service manager would).
_DAEMON_PROBE = textwrap.dedent(
    """
    import json, logging, os, signal, sys, threading
    from alertd.cli.main import main
    watched = json.loads(sys.argv[1])
    found = {"loaded": None}

    def settled():
        found["loaded"] = sorted(m for m in watched if m in sys.modules)
        found["channels"] = sorted(m for m in sys.modules if m.startswith("alertd.channels."))
        os.kill(os.getpid(), signal.SIGTERM)

    class Started(logging.Handler):
        def emit(self, record):
            if record.getMessage() == "started":
                threading.Timer(1.0, settled).start()

    logging.getLogger("alertd.daemon").addHandler(Started())
    code = main(sys.argv[2:])
    print(json.dumps({"code": code, **found}), file=sys.stderr)
    """
)
# What a daemon with the HTTP server off and only light channels never needs.
DAEMON_NEVER = (
    "fastapi",
    "uvicorn",
    "starlette",
    "jinja2",
    *NETWORK,
    "alembic",
    "psycopg",
    # Models name no PostgreSQL-only option at import (alertd.storage.models.postgresql_partial_indexes).
    "sqlalchemy.dialects.postgresql",
    "itsdangerous",
    "holidays",
    "icalendar",
    "recurring_ical_events",
)


def imported(*args: str, cwd: Path, probe: str = _PROBE) -> tuple[set[str], set[str]]:
    """Run ``alertd ARGS`` in a fresh interpreter; return the watched libraries and channel modules it imported."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALERTD_")}
    done = subprocess.run(
        [sys.executable, "-c", probe, json.dumps([*WATCHED, *DAEMON_NEVER]), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    report = json.loads(done.stderr.strip().splitlines()[-1])
    assert report["code"] == 0, done.stdout + done.stderr
    return set(report["loaded"]), set(report["channels"])


def test_check_imports_no_server_network_database_templates_or_settings_library(tmp_path: Path) -> None:
    """``alertd check`` on the seed calendar (console only) loads YAML and zones: no pydantic, nothing heavy."""
    loaded, channels = imported("check", str(SEED), cwd=tmp_path)
    assert loaded == set()
    assert channels == {"alertd.channels.base", "alertd.channels.catalog", "alertd.channels.console"}


def test_plan_imports_no_server_network_or_database(tmp_path: Path) -> None:
    """``alertd plan`` renders messages (babel) but opens no database, client or server."""
    loaded, _ = imported("plan", "--calendar", str(SEED), "--now", "2025-10-20T00:00Z", cwd=tmp_path)
    assert loaded & {*SERVER, *NETWORK, *DATABASE, "pydantic_settings", "jinja2"} == set()


def test_help_imports_none_of_the_watched_libraries(tmp_path: Path) -> None:
    """``alertd --help`` builds the parser only."""
    loaded, channels = imported("--help", cwd=tmp_path)
    assert loaded == set()
    assert channels == set()


def test_check_imports_only_the_channel_types_the_calendar_uses(tmp_path: Path) -> None:
    """A webhook channel loads the webhook module and the HTTP client, not Slack's, SMTP's or apprise."""
    calendar = tmp_path / "calendar.yaml"
    calendar.write_text(
        textwrap.dedent(
            """
            version: 1
            timezone: UTC
            channels:
              hook: {type: webhook, url: "https://hooks.example.com/x"}
            events:
              - {id: e, title: E, at: 2030-01-01T09:00}
            """
        ),
        encoding="utf-8",
    )
    loaded, channels = imported("check", str(calendar), cwd=tmp_path)
    assert "alertd.channels.webhook" in channels
    assert not channels & {"alertd.channels.slack", "alertd.channels.email", "alertd.channels.apprise_channel"}
    assert loaded & {*SERVER, *DATABASE, "apprise", "aiosmtplib", "pydantic_settings", "jinja2"} == set()


def test_templates_are_trial_rendered_outside_the_commands_own_process(tmp_path: Path) -> None:
    """A channel's templates are trial-rendered by the budgeted worker process: Jinja2 never loads in the command."""
    calendar = tmp_path / "calendar.yaml"
    calendar.write_text(
        textwrap.dedent(
            """
            version: 1
            timezone: UTC
            channels:
              desk:
                type: console
                templates: {reminder: {title: "{{ event.title }}"}}
            events:
              - {id: e, title: E, at: 2030-01-01T09:00}
            """
        ),
        encoding="utf-8",
    )
    loaded, _ = imported("check", str(calendar), cwd=tmp_path)
    assert "jinja2" not in loaded


def test_a_command_on_a_current_database_does_not_import_alembic(tmp_path: Path) -> None:
    """``alertd history`` on a database already at the newest schema reads it without loading the migrations."""
    url = f"sqlite:///{tmp_path / 'alertd.db'}"
    first, _ = imported("db", "upgrade", "--db", url, cwd=tmp_path)
    assert "alembic" in first
    loaded, _ = imported("history", "--db", url, cwd=tmp_path)
    assert "sqlalchemy" in loaded
    assert loaded & {"alembic", *SERVER, *NETWORK} == set()


def test_check_imports_holidays_only_for_a_calendar_naming_workdays(tmp_path: Path) -> None:
    """The seed calendar (no ``workdays``) loads no holiday data; one with business-day reminders does."""
    calendar = tmp_path / "calendar.yaml"
    text = SEED.read_text(encoding="utf-8").replace("version: 1\n", "version: 1\nworkdays: {country: US}\n", 1)
    calendar.write_text(text, encoding="utf-8")
    loaded, _ = imported("check", str(calendar), cwd=tmp_path)
    assert loaded == {"holidays"}


def test_a_restarted_seed_daemon_loads_no_server_network_template_or_migration_library(tmp_path: Path) -> None:
    """``alertd run`` on the seed calendar (console only, HTTP server off), restarted on its current database: the
    web stack, the HTTP client, Jinja2, alembic, holidays and the iCalendar stack stay out of the settled process."""
    url = f"sqlite:///{tmp_path / 'alertd.db'}"
    args = ("run", "--calendar", str(SEED), "--db", url)
    first, _ = imported(*args, cwd=tmp_path, probe=_DAEMON_PROBE)
    assert "alembic" in first  # the first start creates the schema
    loaded, channels = imported(*args, cwd=tmp_path, probe=_DAEMON_PROBE)
    assert {"sqlalchemy", "apscheduler"} <= loaded
    assert loaded & set(DAEMON_NEVER) == set()
    assert not channels & {"alertd.channels.http", "alertd.channels.client", "alertd.channels.answer"}

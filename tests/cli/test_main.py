"""The ``alertd`` command line: as a real subprocess where output and exit status matter end to end, in process
(``alertd.cli.main.main``) for the rest, both in a clean environment."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from support.receiver import Receiver
from support.unwritable import unwritable_folder

from alertd.cli.main import main

SEED = Path(__file__).resolve().parents[2] / "seeds" / "us-china-truce-2025.yaml"
NEW_YORK = ZoneInfo("America/New_York")


def alertd(*args: str, cwd: Path, env: Mapping[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``python -m alertd ARGS`` without the developer's own ALERTD_* settings."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("ALERTD_")}
    clean.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "alertd", *args],
        cwd=cwd,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        check=False,
    )


@pytest.fixture
def clean_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """For in-process runs: no ALERTD_* variables and no .env file in the working directory."""
    for name in list(os.environ):
        if name.startswith("ALERTD_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run_main(capsys: pytest.CaptureFixture[str], *args: str) -> subprocess.CompletedProcess[str]:
    """``alertd ARGS`` in process, with what it printed."""
    code = main(list(args))
    out, err = capsys.readouterr()
    return subprocess.CompletedProcess(["alertd", *args], code, out, err)


def assert_one_line_failure(done: subprocess.CompletedProcess[str]) -> str:
    """Exit 1 with a single ``alertd: …`` line on stderr and no traceback; return that line."""
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("alertd: ")
    return lines[0]


def write(path: Path, text: str) -> Path:
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


BROKEN = """
    version: 1
    timezone: America/New_York
    channels:
      console: {type: console}
    events:
      - id: one
        title: First
        at: 2025-13-40
      - id: two
        title: Second
        at: 2025-11-10
        timezone: Mars/Olympus_Mons
      - id: three
        title: Third
        at: 2025-11-10
        notify: [pager]
"""


def test_check_reports_every_mistake_with_file_and_line(tmp_path: Path) -> None:
    calendar = write(tmp_path / "calendar.yaml", BROKEN)
    done = alertd("check", str(calendar), cwd=tmp_path)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    located = [line for line in done.stderr.splitlines() if line.startswith(f"{calendar}:")]
    lines = BROKEN.lstrip("\n").splitlines()
    wanted = {
        next(n for n, text in enumerate(lines, 1) if needle in text) for needle in ("2025-13-40", "Mars/", "pager")
    }
    found = {int(line.split(":")[1]) for line in located}
    assert found == wanted
    assert done.stderr.strip().splitlines()[-1].startswith(f"alertd: the calendar has {len(wanted)} errors")


def test_check_accepts_the_seed_calendar(clean_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    done = run_main(capsys, "check", str(SEED))
    assert done.returncode == 0, done.stderr
    assert "OK" in done.stdout


def test_plan_lists_the_truce_reminders_at_their_utc_instants_across_the_dst_change(
    clean_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    done = run_main(
        capsys,
        "plan",
        "--calendar",
        str(SEED),
        "--now",
        "2025-10-20T00:00Z",
        "--until",
        "2025-11-12T00:00Z",
        "--format",
        "json",
    )
    assert done.returncode == 0, done.stderr
    items = json.loads(done.stdout)
    got = {i["offset"]: i["due_at"] for i in items if i["kind"] == "reminder" and i["event_id"] == "truce-expiry"}
    # The seed: an all-day event on Mon 10 Nov 2025 in New York, reminders at 09:00 local (all_day_at),
    # defaults [7d, 3d, 1d, 2h, 0m]. Days are nominal (wall clock); EDT ended on Sun 2 Nov. An all-day event gets
    # one reminder per day, so 2h (the same day as 0m) is not a second "today".
    anchor = datetime(2025, 11, 10, 9, 0, tzinfo=NEW_YORK)

    def z(value: datetime) -> str:
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    expected = {
        "7d": z(datetime(2025, 11, 3, 9, 0, tzinfo=NEW_YORK)),
        "3d": z(datetime(2025, 11, 7, 9, 0, tzinfo=NEW_YORK)),
        "1d": z(datetime(2025, 11, 9, 9, 0, tzinfo=NEW_YORK)),
        "0m": z(anchor),
    }
    assert got == expected
    assert expected["7d"] == "2025-11-03T14:00:00Z"
    dues = [i["due_at"] for i in items]
    assert dues == sorted(dues)


def test_plan_puts_reminders_before_the_dst_change_at_the_summer_offset(
    clean_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    done = run_main(
        capsys, "plan", "--calendar", str(SEED), "--now", "2025-10-20T00:00Z", "--until", "2025-11-12T00:00Z",
        "--format", "json",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    items = json.loads(done.stdout)
    week_before = [
        i for i in items if i["kind"] == "reminder" and i["event_id"] == "us-100pct-tariff" and i["offset"] == "7d"
    ]
    expected = datetime(2025, 10, 25, 9, 0, tzinfo=NEW_YORK).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert [i["due_at"] for i in week_before] == [expected]
    assert week_before[0]["local_due_at"].endswith("-04:00")


def test_plan_includes_events_added_to_the_database(
    clean_env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """An event added with ``alertd events add`` is planned by ``alertd plan`` like the file's, from the configured
    database (ALERTD_DATABASE_URL) or the one given with --db, as /api/v1/plan plans it."""
    db = f"sqlite:///{clean_env / 'events.db'}"
    window = ("--calendar", str(SEED), "--now", "2025-10-20T00:00Z", "--until", "2025-11-30T00:00Z", "--format", "json")
    added = run_main(
        capsys, "events", "add", "follow-up", "--title", "Follow-up talks", "--start", "2025-11-20T10:00",
        "--reminders", "1d", "--calendar", str(SEED), "--db", db, "--now", "2025-10-20T00:00Z",
    )  # fmt: skip
    assert added.returncode == 0, added.stderr

    given = run_main(capsys, "plan", *window, "--db", db)
    monkeypatch.setenv("ALERTD_DATABASE_URL", db)
    configured = run_main(capsys, "plan", *window)

    for done in (given, configured):
        assert (done.returncode, done.stderr) == (0, "")
        follow_up = [(i["offset"], i["due_at"]) for i in json.loads(done.stdout) if i["event_id"] == "follow-up"]
        assert ("1d", "2025-11-19T15:00:00Z") in follow_up
        assert any(i["event_id"] == "truce-expiry" for i in json.loads(done.stdout))


def test_plan_never_creates_a_database(clean_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Without a database file, plan says it plans from the calendar alone and leaves no file behind."""
    missing = clean_env / "nowhere.db"
    done = run_main(
        capsys, "plan", "--calendar", str(SEED), "--now", "2025-10-20T00:00Z", "--db", f"sqlite:///{missing}"
    )
    assert done.returncode == 0
    assert done.stderr == (
        f"alertd: note: no database at {missing}: planning from the calendar alone (events added through the API "
        "or 'alertd events' are in the database; give it with --db)\n"
    )
    assert "truce-expiry" in done.stdout
    assert not missing.exists()
    assert sorted(p.name for p in clean_env.iterdir()) == []


def test_plan_with_an_empty_database_file_plans_the_calendar_and_says_why(
    clean_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A database file without alertd's tables is read, not migrated: one note, the calendar's plan, file unchanged."""
    empty = clean_env / "empty.db"
    empty.touch()
    done = run_main(capsys, "plan", "--calendar", str(SEED), "--now", "2025-10-20T00:00Z", "--db", f"sqlite:///{empty}")
    assert done.returncode == 0
    assert "is not at this version's schema (run 'alertd db upgrade')" in done.stderr
    assert "truce-expiry" in done.stdout
    assert empty.stat().st_size == 0


@pytest.fixture
def hook_calendar(tmp_path: Path, threaded_receiver: Receiver) -> Path:
    return write(
        tmp_path / "calendar.yaml",
        f"""
        version: 1
        timezone: UTC
        channels:
          hook: {{type: webhook, url: "{threaded_receiver.url("/hook")}"}}
        events: []
        """,
    )


def test_send_test_prints_the_services_answer(tmp_path: Path, threaded_receiver: Receiver, hook_calendar: Path) -> None:
    threaded_receiver.reply(202, "queued-for-delivery")
    done = alertd("send-test", "hook", "--calendar", str(hook_calendar), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert len(threaded_receiver.requests) == 1
    assert "send-test hook: delivered" in done.stdout
    assert "202" in done.stdout


def test_history_shows_a_dead_notification_with_its_reason(
    tmp_path: Path, threaded_receiver: Receiver, hook_calendar: Path
) -> None:
    threaded_receiver.reply(410, "gone")
    env = {"ALERTD_DATABASE_URL": f"sqlite:///{tmp_path / 'alertd.db'}"}
    failed = alertd("send-test", "hook", "--calendar", str(hook_calendar), cwd=tmp_path, env=env)
    assert "failed (permanent)" in assert_one_line_failure(failed)

    done = alertd("history", "--state", "dead", cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stderr
    rows = [line for line in done.stdout.splitlines() if line.startswith("20")]
    assert len(rows) == 1
    assert "dead" in rows[0]
    assert "HTTP 410" in rows[0]
    assert "destination refused or gone" in rows[0]


def test_unreachable_database_gives_one_line_and_exit_1(
    clean_env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ALERTD_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:1/x")
    line = assert_one_line_failure(run_main(capsys, "history"))
    assert "127.0.0.1:1" in line


def test_unwritable_sqlite_path_gives_one_line_and_exit_1(clean_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with unwritable_folder(clean_env) as folder:
        db = folder / "alertd.db"
        line = assert_one_line_failure(run_main(capsys, "db", "upgrade", "--db", f"sqlite:///{db}"))
    assert str(db) in line


def test_run_on_an_unwritable_sqlite_path_gives_one_line_and_exit_1(tmp_path: Path) -> None:
    with unwritable_folder(tmp_path) as folder:
        db = folder / "alertd.db"
        done = alertd("run", "--calendar", str(SEED), "--db", f"sqlite:///{db}", cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    messages = [line for line in done.stderr.splitlines() if line.startswith("alertd: ")]
    assert len(messages) == 1
    assert str(db) in messages[0]


def test_version_names_the_time_zone_database(tmp_path: Path) -> None:
    """``alertd --version`` says which zone database plans every instant, and its IANA version."""
    import tzdata

    done = alertd("--version", cwd=tmp_path)
    assert (done.returncode, done.stdout) == (0, f"alertd 0.1.0; tzdata {tzdata.IANA_VERSION} (package)\n")


@pytest.mark.skipif(not Path("/usr/share/zoneinfo/tzdata.zi").is_file(), reason="no system zone files here")
def test_version_names_the_system_database_when_chosen(tmp_path: Path) -> None:
    """With ALERTD_TZDATA=system the version shown is the system's, from its tzdata.zi."""
    version = Path("/usr/share/zoneinfo/tzdata.zi").read_text(encoding="utf-8").split("\n", 1)[0].split()[-1]
    done = alertd("--version", cwd=tmp_path, env={"ALERTD_TZDATA": "system"})
    assert done.stdout == f"alertd 0.1.0; tzdata {version} (system)\n"


def test_check_warns_about_an_email_channel_without_smtp(clean_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    calendar = write(
        clean_env / "calendar.yaml",
        """
        version: 1
        timezone: UTC
        channels: {desk-mail: {type: email, to: [desk@example.com]}}
        events: []
        """,
    )
    done = run_main(capsys, "check", str(calendar))
    assert done.returncode == 0
    assert done.stderr.splitlines() == [
        f"{calendar}: warning: channels.desk-mail: this email channel cannot send yet: ALERTD_SMTP_HOST is not set: "
        "name the SMTP server that sends alertd's mail"
    ]


def test_check_is_quiet_about_email_with_smtp_settings(
    clean_env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ALERTD_SMTP_HOST", "smtp.example.com")
    monkeypatch.setenv("ALERTD_SMTP_FROM", "alertd@example.com")
    calendar = write(
        clean_env / "calendar.yaml",
        """
        version: 1
        timezone: UTC
        channels: {desk-mail: {type: email, to: [desk@example.com]}}
        events: []
        """,
    )
    done = run_main(capsys, "check", str(calendar))
    assert (done.returncode, done.stderr) == (0, "")


def test_check_warns_about_a_zone_abbreviation(clean_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    calendar = write(
        clean_env / "calendar.yaml",
        """
        version: 1
        timezone: EST
        events: []
        """,
    )
    done = run_main(capsys, "check", str(calendar))
    assert done.returncode == 0
    assert done.stderr.splitlines() == [
        f"{calendar}:2: warning: timezone: EST is a legacy abbreviation zone, not a place: a fixed offset all year "
        "that never follows daylight saving time; write a place, e.g. America/New_York or America/Panama"
    ]


def test_check_warns_about_a_quoted_setting_without_showing_it(
    clean_env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """What ``ALERTD_SMTP_FROM="desk@example.com"`` in a Docker env file becomes inside the container."""
    monkeypatch.setenv("ALERTD_SMTP_FROM", '"desk@example.com"')
    done = run_main(capsys, "check", str(SEED))
    assert done.returncode == 0
    assert done.stderr.splitlines() == [
        f"{SEED}: warning: ALERTD_SMTP_FROM is quoted: the quotes are part of its value (Docker's --env-file keeps "
        "them); remove them"
    ]


@pytest.mark.parametrize("command", [("check", str(SEED)), ("plan", "--calendar", str(SEED))])
def test_calendar_commands_explain_a_bad_setting_they_read_like_every_command(
    command: tuple[str, ...], tmp_path: Path
) -> None:
    """``check`` and ``plan`` read their few settings lightly, yet a bad one gets Settings' own one-line error."""
    done = alertd(*command, cwd=tmp_path, env={"ALERTD_TZDATA": "latest"})
    line = assert_one_line_failure(done)
    assert line.startswith("alertd: ALERTD_TZDATA: Input should be 'package' or 'system'")


def test_check_reads_the_calendar_named_in_the_env_file(tmp_path: Path) -> None:
    """``alertd check`` without a path checks ALERTD_CALENDAR from ``.env``, as the daemon would read it."""
    (tmp_path / ".env").write_text(f"ALERTD_CALENDAR={SEED}\n", encoding="utf-8")
    done = alertd("check", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"{SEED}: OK")


def test_plan_speaks_of_the_occurrences_of_a_recurring_event(
    clean_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``alertd plan`` lists each occurrence's reminders under its id, the moved one at its new time, the dropped
    one not at all."""
    (clean_env / "calendar.yaml").write_text(
        textwrap.dedent(
            """\
            version: 1
            timezone: America/New_York
            defaults: {reminders: [1h], countdown: false}
            events:
              - id: weekly
                title: Weekly sync
                at: 2025-10-21T10:00
                repeat: FREQ=WEEKLY
                except: [2025-11-04]
                occurrences:
                  2025-10-28: {at: 2025-10-29T11:00}
            """
        ),
        encoding="utf-8",
    )
    window = ("--now", "2025-10-20T00:00Z", "--until", "2025-11-12T00:00Z", "--format", "json")
    done = run_main(capsys, "plan", "--calendar", "calendar.yaml", *window)
    assert done.returncode == 0, done.stderr
    assert [(i["event_id"], i["due_at"]) for i in json.loads(done.stdout)] == [
        ("weekly@20251021", "2025-10-21T13:00:00Z"),
        ("weekly@20251028", "2025-10-29T14:00:00Z"),
        ("weekly@20251111", "2025-11-11T14:00:00Z"),  # 10:00 EST after the clocks went back on 2 Nov
    ]

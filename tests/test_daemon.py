"""The daemon in process: it sleeps until the next due instant (capped), and applies or rejects calendar edits."""

from __future__ import annotations

import asyncio
import io
import logging
import os
import textwrap
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from support.waiting import clear_alertd_environ, until

from alertd.calendar import load_calendar
from alertd.clock import FixedClock, wall_now
from alertd.daemon import Daemon
from alertd.settings import Settings
from alertd.storage.outbox import NOTIFICATION

T0 = datetime(2025, 10, 30, 11, 0, tzinfo=UTC)

# One reminder, due 60 s after T0.
CALENDAR = """
    version: 1
    timezone: UTC
    channels:
      out: {type: console}
    events:
      - id: expiry
        title: Truce expires
        at: 2025-10-30T12:00
        reminders: [59m]
        notify: [out]
"""

EMPTY = """
    version: 1
    timezone: UTC
    channels:
      out: {type: console}
    events: []
"""


def write(path: Path, text: str) -> None:
    scratch = path.with_name(path.name + ".tmp")
    scratch.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    os.replace(scratch, path)


class Running:
    """A started daemon, its console output and how many dispatcher steps it has run."""

    def __init__(self, daemon: Daemon, out: io.StringIO) -> None:
        self.daemon = daemon
        self.out = out
        self.steps = 0
        step = daemon.dispatcher.step

        async def counted() -> tuple[int, datetime | None]:
            self.steps += 1
            return await step()

        daemon.dispatcher.step = counted  # type: ignore[method-assign]

    def wake_in(self) -> float:
        """Real seconds until the armed wake-up."""
        job = self.daemon.scheduler.get_job("wake")
        assert job is not None, "no wake-up armed"
        delay: float = (job.next_run_time - wall_now()).total_seconds()
        return delay


Starter = Callable[..., Awaitable[Running]]


async def wake_a_minute_later(running: Running, clock: FixedClock) -> None:
    """Once the wake is armed (nothing sent yet), move the clock a minute on and fire the wake at once."""
    await until(lambda: running.daemon.scheduler.get_job("wake") is not None)
    assert running.out.getvalue() == ""
    clock.advance(60)
    job = running.daemon.scheduler.get_job("wake")
    assert job is not None
    job.modify(next_run_time=wall_now())


@pytest.fixture
async def start_daemon(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Starter]:
    clear_alertd_environ(monkeypatch)
    monkeypatch.chdir(tmp_path)
    started: list[Running] = []

    async def start(text: str, clock: FixedClock, **settings: Any) -> Running:
        path = tmp_path / "calendar.yaml"
        write(path, text)
        out = io.StringIO()
        values: dict[str, Any] = {"max_sleep": 30.0, "reload_interval": 3600.0, "drain_timeout": 1.0} | settings
        daemon = Daemon(
            Settings(**values),
            clock=clock,
            calendar_path=path,
            db_url=f"sqlite:///{tmp_path / 'alertd.db'}",
            out=out,
        )
        await daemon.start()
        running = Running(daemon, out)
        started.append(running)
        return running

    yield start
    for running in started:
        await running.daemon.shutdown()


async def test_with_nothing_due_the_wake_is_at_most_max_sleep_away_and_no_step_runs_meanwhile(
    start_daemon: Starter,
) -> None:
    running = await start_daemon(EMPTY, FixedClock(T0), max_sleep=30.0)
    await until(lambda: running.daemon.scheduler.get_job("wake") is not None)
    steps = running.steps
    assert 0 < running.wake_in() <= 30.0
    await asyncio.sleep(0.5)
    assert running.steps == steps


async def test_the_wake_is_armed_for_the_next_due_notification(start_daemon: Starter) -> None:
    clock = FixedClock(T0)
    running = await start_daemon(CALENDAR, clock, max_sleep=600.0)
    await until(lambda: running.daemon.scheduler.get_job("wake") is not None)
    due = clock.real_delay(datetime(2025, 10, 30, 11, 1, tzinfo=UTC))
    assert due - 1.0 <= running.wake_in() <= due


async def test_the_wake_sends_what_became_due(start_daemon: Starter) -> None:
    clock = FixedClock(T0)
    running = await start_daemon(CALENDAR, clock)
    await wake_a_minute_later(running, clock)
    await until(lambda: "Truce expires" in running.out.getvalue())


async def test_an_edited_calendar_is_applied_on_reload(start_daemon: Starter, tmp_path: Path) -> None:
    running = await start_daemon(CALENDAR, FixedClock(T0))
    write(tmp_path / "calendar.yaml", CALENDAR.replace("2025-10-30T12:00", "2025-10-30T12:30"))
    running.daemon.request_reload()
    await until(lambda: running.daemon.calendar.events[0].starts_at == datetime(2025, 10, 30, 12, 30, tzinfo=UTC))
    assert running.daemon.reload_error is None
    n = NOTIFICATION.c
    with running.daemon.engine.connect() as conn:
        reminders = conn.execute(sa.select(n.due_at, n.state).where(n.kind == "reminder")).all()
    assert sorted((r.due_at, r.state) for r in reminders) == [
        (datetime(2025, 10, 30, 11, 1, tzinfo=UTC), "cancelled"),
        (datetime(2025, 10, 30, 11, 31, tzinfo=UTC), "pending"),
    ]


async def test_a_reload_rebuilds_only_the_edited_event_and_reads_no_stored_event_back(
    start_daemon: Starter, tmp_path: Path
) -> None:
    """The other events are the last load's objects (not checked or digested again), and the sync starts from what
    the daemon's last sync left in the event table."""
    text = CALENDAR + "      - {id: talks, title: Trade talks, at: 2025-11-03T09:00, notify: [out]}\n"
    running = await start_daemon(text, FixedClock(T0))
    before = {e.id: e for e in running.daemon.calendar.events}
    write(tmp_path / "calendar.yaml", text.replace("Truce expires", "Truce extended"))
    running.daemon.request_reload()
    await until(lambda: running.daemon.calendar.events[0].title == "Truce extended")
    after = {e.id: e for e in running.daemon.calendar.events}
    assert after["talks"] is before["talks"]
    assert after["expiry"] is not before["expiry"]
    assert running.daemon._stored.reads == 1  # the start's sync only


async def test_a_reload_that_cancels_reminders_counts_them(start_daemon: Starter, tmp_path: Path) -> None:
    """Re-planned reminders cancelled by a reload show in outcomes{state="cancelled"}."""
    running = await start_daemon(CALENDAR, FixedClock(T0))
    write(tmp_path / "calendar.yaml", CALENDAR.replace("2025-10-30T12:00", "2025-10-30T12:30"))
    running.daemon.request_reload()
    await until(lambda: running.daemon.calendar.events[0].starts_at == datetime(2025, 10, 30, 12, 30, tzinfo=UTC))
    labels = {"kind": "reminder", "channel": "out", "state": "cancelled"}
    assert running.daemon.metrics.registry.get_sample_value("alertd_notification_outcomes_total", labels) == 1.0


async def test_an_edited_calendar_is_noticed_without_a_signal(start_daemon: Starter, tmp_path: Path) -> None:
    running = await start_daemon(CALENDAR, FixedClock(T0), reload_interval=0.1)
    write(tmp_path / "calendar.yaml", CALENDAR.replace("Truce expires", "Truce extended"))
    await until(lambda: running.daemon.calendar.events[0].title == "Truce extended")
    assert running.daemon.reload_error is None


async def test_an_invalid_edit_keeps_the_last_good_calendar_and_logs_every_error(
    start_daemon: Starter, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    running = await start_daemon(CALENDAR, FixedClock(T0))
    before = running.daemon.calendar
    broken = CALENDAR.replace("at: 2025-10-30T12:00", "at: 2025-13-40").replace("[out]", "[pager]")
    path = tmp_path / "calendar.yaml"
    write(path, broken)
    with caplog.at_level(logging.ERROR, logger="alertd.daemon"):
        running.daemon.request_reload()
        await until(lambda: running.daemon.reload_error is not None)
    assert running.daemon.calendar is before
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert any("still running the last good version" in e for e in errors)
    lines = textwrap.dedent(broken).lstrip().splitlines()
    for needle in ("2025-13-40", "[pager]"):
        line = next(n for n, text in enumerate(lines, 1) if needle in text)
        assert any(f"{path}:{line}:" in e for e in errors), (needle, errors)


async def test_start_logs_the_time_zone_database(start_daemon: Starter, caplog: pytest.LogCaptureFixture) -> None:
    """The first line a daemon logs names its version and the zone database it plans with."""
    import tzdata

    with caplog.at_level(logging.INFO, logger="alertd.daemon"):
        await start_daemon(EMPTY, FixedClock(T0))
    first = next(r.getMessage() for r in caplog.records if r.name == "alertd.daemon")
    assert first == f"alertd 0.1.0 starting; time zones from tzdata {tzdata.IANA_VERSION} (package)"


async def test_renaming_an_events_id_in_the_file_tells_the_channel_it_is_still_there(
    start_daemon: Starter, tmp_path: Path
) -> None:
    """Editing only an event's id prints one change notice naming both ids, and never "removed"."""
    running = await start_daemon(CALENDAR, FixedClock(T0))
    write(tmp_path / "calendar.yaml", CALENDAR.replace("id: expiry", "id: truce-expiry"))
    running.daemon.request_reload()
    await until(lambda: "now listed as" in running.out.getvalue())
    await asyncio.sleep(0.2)  # anything else queued would be printed by now
    out = running.out.getvalue()
    assert out.count("] change → out: ") == 1
    assert "Truce expires: now listed as “truce-expiry” (was “expiry”), at the same time." in out
    assert "removed" not in out


async def test_start_says_so_when_nothing_is_scheduled(start_daemon: Starter, caplog: pytest.LogCaptureFixture) -> None:
    """Every event in the past (last year's example calendar): a warning, not a silent daemon."""
    past = """
        version: 1
        timezone: UTC
        channels: {out: {type: console}}
        events:
          - {id: old, title: Old summit, at: 2024-10-30T12:00, reminders: [1d]}
    """
    with caplog.at_level(logging.WARNING, logger="alertd.daemon"):
        await start_daemon(past, FixedClock(T0))
    (warning,) = [r.getMessage() for r in caplog.records if r.name == "alertd.daemon"]
    assert warning.startswith("nothing is scheduled: every event of ")
    assert warning.endswith(
        "(1) is in the past or has no reminders; alertd waits for calendar changes (see 'alertd plan')"
    )


async def test_start_is_quiet_about_the_schedule_when_something_is_due(
    start_daemon: Starter, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="alertd.daemon"):
        await start_daemon(CALENDAR, FixedClock(T0))
    assert not [r for r in caplog.records if "nothing is scheduled" in r.getMessage()]


async def test_a_calendar_load_past_its_time_bound_is_a_rejected_reload(
    start_daemon: Starter, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reload slower than ALERTD_CALENDAR_LOAD_TIMEOUT is rejected with that reason; the old calendar runs on."""
    running = await start_daemon(CALENDAR, FixedClock(T0))
    before = running.daemon.calendar

    def slow(*args: Any, **kwargs: Any) -> Any:
        time.sleep(1.0)  # a file system that hangs for a while
        return load_calendar(*args, **kwargs)

    monkeypatch.setattr("alertd.daemon.load_calendar", slow)
    running.daemon.settings.calendar_load_timeout = 0.2
    write(tmp_path / "calendar.yaml", CALENDAR.replace("Truce expires", "Truce extended"))
    running.daemon.request_reload()
    await until(lambda: running.daemon.reload_error is not None)
    assert running.daemon.calendar is before
    assert running.daemon.reload_error == "calendar reload rejected: 1 error, see the log"
    [issue] = running.daemon.reload_issues
    assert issue.message.startswith("reading and checking the calendar took longer than 0.2s")


async def test_a_calendar_of_console_channels_builds_no_http_client(start_daemon: Starter, tmp_path: Path) -> None:
    """The HTTP client is built with the first HTTP channel: none for console only, one once a webhook is added."""
    running = await start_daemon(CALENDAR, FixedClock(T0))
    assert running.daemon.ctx.built_client() is None
    write(
        tmp_path / "calendar.yaml",
        CALENDAR.replace(
            "out: {type: console}", 'out: {type: console}\n      hook: {type: webhook, url: "http://127.0.0.1:9/x"}'
        ),
    )
    running.daemon.request_reload()
    await until(lambda: running.daemon.ctx.built_client() is not None)


async def test_a_business_day_reminder_is_sent_when_it_falls_due(start_daemon: Starter) -> None:
    """1bd before Monday 2025-12-01 17:00 New York is Friday 2025-11-28 17:00 (22:00Z): sent then, not before."""
    calendar = """
        version: 1
        timezone: America/New_York
        workdays: {country: US}
        channels:
          out: {type: console}
        events:
          - id: filing
            title: Annual filing
            at: 2025-12-01T17:00
            reminders: [1bd]
            notify: [out]
    """
    clock = FixedClock(datetime(2025, 11, 28, 21, 59, tzinfo=UTC))
    running = await start_daemon(calendar, clock)
    await wake_a_minute_later(running, clock)
    await until(lambda: "Annual filing" in running.out.getvalue())
    n = NOTIFICATION.c
    with running.daemon.engine.connect() as conn:
        sent = conn.execute(sa.select(n.offset, n.due_at, n.state).where(n.kind == "reminder")).one()
    assert (sent.offset, sent.due_at.replace(tzinfo=UTC), sent.state) == (
        "1bd",
        datetime(2025, 11, 28, 22, 0, tzinfo=UTC),
        "sent",
    )


MONTH_CLOSE = """
    version: 1
    timezone: America/New_York
    workdays: {country: US}
    defaults: {countdown: false}
    channels:
      out: {type: console}
    events:
      - id: close
        title: Month-end close
        at: 2025-11-30T17:00
        if_closed: previous
        reminders: [3bd]
        notify: [out]
        repeat: FREQ=MONTHLY;BYMONTHDAY=-1
"""


async def test_a_closed_date_added_to_the_file_moves_one_occurrence_with_one_change_notice(
    start_daemon: Starter, tmp_path: Path
) -> None:
    """Closing Wed 2025-12-31 moves that occurrence of a last-business-day rule to Tuesday: the running daemon
    delivers exactly one change notice, and the occurrence keeps its id and its 3bd is counted from Tuesday."""
    running = await start_daemon(MONTH_CLOSE, FixedClock(T0))
    before = running.out.getvalue()
    write(tmp_path / "calendar.yaml", MONTH_CLOSE.replace("{country: US}", "{country: US, closed: [2025-12-31]}"))
    running.daemon.request_reload()
    await until(lambda: "Month-end close" in running.out.getvalue()[len(before) :])
    await asyncio.sleep(0.5)  # anything more would have been sent by now
    sent = running.out.getvalue()[len(before) :]
    assert sent.count("change → out") == 1, sent
    assert "moved from Wed 31 Dec 2025 17:00 to Tue 30 Dec 2025 17:00" in sent
    n = NOTIFICATION.c
    query = sa.select(n.due_at).where(n.event_id == "close@20251231", n.kind == "reminder", n.state == "pending")
    with running.daemon.engine.connect() as conn:
        # Mon 29, Fri 26, (Christmas Thu 25 closed), Wed 24: 17:00 EST.
        assert conn.execute(query).scalar() == datetime(2025, 12, 24, 22, 0, tzinfo=UTC)

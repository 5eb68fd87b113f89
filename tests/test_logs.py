"""alertd's logs: readable text by default, one JSON object per line with ``ALERTD_LOG_FORMAT=json``, always
stamped with alertd's own clock (virtual, and labelled, in a replay)."""

from __future__ import annotations

import io
import json
import logging
import sys
import threading
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from alertd.clock import FixedClock, ReplayClock
from alertd.logs import log_uncaught, say, setup_logging

T0 = datetime(2025, 11, 10, 5, 1, 30, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """setup_logging reconfigures process-wide logging; put it back for the other tests."""
    root, ours, scheduler = logging.getLogger(), logging.getLogger("alertd"), logging.getLogger("apscheduler")
    saved = (list(root.handlers), root.level, list(ours.handlers), ours.level, ours.propagate, scheduler.level)
    hooks = (sys.excepthook, threading.excepthook)
    yield
    root.handlers[:], root.level = saved[0], saved[1]
    ours.handlers[:] = saved[2]
    ours.setLevel(saved[3])
    ours.propagate = saved[4]
    scheduler.setLevel(saved[5])
    logging.captureWarnings(False)
    sys.excepthook, threading.excepthook = hooks


def _boom() -> None:
    raise ValueError("the receiver said no")


def log_text(**kwargs: Any) -> io.StringIO:
    stream = io.StringIO()
    setup_logging(kwargs.pop("clock", FixedClock(T0)), fmt="text", stream=stream, **kwargs)
    return stream


def log_json(**kwargs: Any) -> io.StringIO:
    stream = io.StringIO()
    setup_logging(kwargs.pop("clock", FixedClock(T0)), fmt="json", stream=stream, **kwargs)
    return stream


def json_lines(stream: io.StringIO) -> list[dict[str, Any]]:
    """Every line of the stream parsed on its own: the format is one JSON object per line."""
    return [json.loads(line) for line in stream.getvalue().splitlines()]


# --- text ---


def test_text_line_is_clock_time_level_then_message() -> None:
    stream = log_text()
    logging.getLogger("alertd.dispatcher").warning("channel %s failing: %s", "desk-slack", "HTTP 404 no_service")
    assert stream.getvalue() == "2025-11-10T05:01:30Z WARNING channel desk-slack failing: HTTP 404 no_service\n"


def test_text_levels_are_padded_so_messages_line_up() -> None:
    stream = log_text()
    logging.getLogger("alertd").info("one")
    logging.getLogger("alertd").warning("two")
    first, second = stream.getvalue().splitlines()
    assert first.index("one") == second.index("two")


def test_text_indents_continuation_lines_so_outside_text_cannot_forge_a_log_line() -> None:
    stream = log_text()
    title = "Summit\n2025-11-10T05:01:30Z INFO    sent everything"
    logging.getLogger("alertd").warning("event %s moved", title)
    lines = stream.getvalue().splitlines()
    assert lines == [
        "2025-11-10T05:01:30Z WARNING event Summit",
        "    2025-11-10T05:01:30Z INFO    sent everything moved",
    ]


def test_text_in_a_replay_shows_virtual_time_and_says_so() -> None:
    # At 3600x a real second is a virtual hour: the stamp stays on the replay's day, far from today's date.
    start = datetime(2025, 11, 2, 1, 0, tzinfo=UTC)
    stream = log_text(clock=ReplayClock(start, speed=3600))
    logging.getLogger("alertd.daemon").info("sent reminder")
    stamp, _, rest = stream.getvalue().partition(" ")
    assert stamp.startswith("2025-11-02T")
    assert rest == "[replay x3600] INFO    sent reminder\n"


def test_text_shows_the_traceback_after_the_message() -> None:
    stream = log_text()
    try:
        _boom()
    except ValueError:
        logging.getLogger("alertd.daemon").exception("delivery worker crashed")
    first, *rest = stream.getvalue().splitlines()
    assert first == "2025-11-10T05:01:30Z ERROR   delivery worker crashed"
    assert rest[0] == "Traceback (most recent call last):"
    assert rest[-1] == "ValueError: the receiver said no"


# --- JSON ---


def test_json_record_has_time_level_logger_and_message() -> None:
    stream = log_json()
    logging.getLogger("alertd.dispatcher").info("sent %d notifications", 3)
    assert json_lines(stream) == [
        {
            "time": "2025-11-10T05:01:30Z",
            "level": "info",
            "logger": "alertd.dispatcher",
            "message": "sent 3 notifications",
        }
    ]


def test_json_is_one_object_per_line_even_for_multi_line_messages() -> None:
    stream = log_json()
    logging.getLogger("alertd").warning("first line\nsecond line")
    logging.getLogger("alertd").info("next record")
    first, second = json_lines(stream)
    assert first["message"] == "first line\nsecond line"
    assert second["message"] == "next record"


def test_json_keeps_the_traceback_in_one_string_field() -> None:
    stream = log_json()
    try:
        _boom()
    except ValueError:
        logging.getLogger("alertd.daemon").exception("delivery worker crashed")
    (record,) = json_lines(stream)
    assert record["message"] == "delivery worker crashed"
    assert record["level"] == "error"
    assert record["exception"].startswith("Traceback (most recent call last):")
    assert record["exception"].endswith("ValueError: the receiver said no")


def test_json_without_an_exception_has_no_exception_field() -> None:
    stream = log_json()
    logging.getLogger("alertd").info("quiet")
    (record,) = json_lines(stream)
    assert "exception" not in record


def test_json_in_a_replay_carries_the_clock_label() -> None:
    stream = log_json(clock=ReplayClock(datetime(2025, 11, 2, 1, 0, tzinfo=UTC), speed=3600))
    logging.getLogger("alertd").info("replaying")
    (record,) = json_lines(stream)
    assert record["clock"] == "[replay x3600]"
    assert record["time"].startswith("2025-11-02T")


def test_json_keeps_non_ascii_readable() -> None:
    stream = log_json()
    logging.getLogger("alertd").info("US–China truce, Zürich")
    assert "US–China truce, Zürich" in stream.getvalue()


# --- setup ---


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_records_below_the_level_are_dropped(fmt: str) -> None:
    stream = io.StringIO()
    setup_logging(FixedClock(T0), fmt=fmt, level="warning", stream=stream)
    logging.getLogger("alertd.planner").info("planned 12 notifications")
    logging.getLogger("alertd.planner").warning("event moved")
    assert "planned" not in stream.getvalue()
    assert "event moved" in stream.getvalue()


def test_setting_up_twice_does_not_duplicate_lines() -> None:
    # The daemon sets logging up again on reload; each record must still appear once.
    log_text()
    stream = log_text()
    logging.getLogger("alertd").info("once")
    assert stream.getvalue().count("once") == 1


def test_a_handler_a_library_installed_is_replaced_so_no_line_is_printed_twice() -> None:
    stray = io.StringIO()
    logging.getLogger().addHandler(logging.StreamHandler(stray))
    stream = log_text()
    logging.getLogger("alertd").warning("only ours")
    logging.getLogger("uvicorn.error").warning("theirs")
    assert stray.getvalue() == ""
    assert stream.getvalue().count("only ours") == 1


def test_scheduler_job_chatter_is_silenced_but_its_problems_are_not() -> None:
    log_text()
    scheduler = logging.getLogger("apscheduler")
    assert not scheduler.isEnabledFor(logging.INFO)
    assert scheduler.isEnabledFor(logging.WARNING)


# --- every line on stderr, whoever writes it ---


def test_json_formats_other_libraries_records_too() -> None:
    # uvicorn logs a malformed request on its own logger; with JSON logs that line must be JSON as well.
    stream = log_json()
    logging.getLogger("uvicorn.error").warning("Invalid HTTP request received.")
    logging.getLogger("apscheduler.scheduler").warning('Execution of job "reload" skipped')
    assert [(r["logger"], r["level"], r["message"]) for r in json_lines(stream)] == [
        ("uvicorn.error", "warning", "Invalid HTTP request received."),
        ("apscheduler.scheduler", "warning", 'Execution of job "reload" skipped'),
    ]


def test_other_libraries_info_records_are_dropped() -> None:
    # httpx logs each request's URL at INFO; a webhook URL is a credential.
    stream = log_json(level="DEBUG")
    logging.getLogger("httpx").info("HTTP Request: POST https://hooks.slack.com/services/" + "T0/B0/secret")
    logging.getLogger("alertd.daemon").debug("wake: timer fired")
    assert [r["message"] for r in json_lines(stream)] == ["wake: timer fired"]


def test_python_warnings_become_log_records() -> None:
    stream = log_json()
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.warn("this call is deprecated", DeprecationWarning, stacklevel=1)
    (record,) = json_lines(stream)
    assert record["logger"] == "py.warnings"
    assert record["level"] == "warning"
    assert "DeprecationWarning: this call is deprecated" in record["message"]


def test_an_uncaught_exception_is_one_json_record() -> None:
    stream = log_json()
    log_uncaught()
    try:
        _boom()
    except ValueError as exc:
        sys.excepthook(type(exc), exc, exc.__traceback__)
    (record,) = json_lines(stream)
    assert (record["level"], record["message"]) == ("critical", "alertd crashed: the receiver said no")
    assert record["exception"].endswith("ValueError: the receiver said no")


def test_an_exception_that_ends_a_thread_is_one_json_record() -> None:
    stream = log_json()
    log_uncaught()
    worker = threading.Thread(target=_boom, name="listener")
    worker.start()
    worker.join()
    (record,) = json_lines(stream)
    assert record["message"] == "thread listener crashed: the receiver said no"


def test_the_commands_own_lines_are_json_with_json_logs_whatever_the_level() -> None:
    stream = log_json(level="ERROR")
    say("stopping (signal again to exit immediately)")
    (record,) = json_lines(stream)
    assert (record["logger"], record["message"]) == ("alertd.cli", "stopping (signal again to exit immediately)")


def test_the_commands_own_lines_are_plain_with_text_logs(capsys: pytest.CaptureFixture[str]) -> None:
    stream = log_text()
    say("stopping (signal again to exit immediately)")
    assert capsys.readouterr().err == "alertd: stopping (signal again to exit immediately)\n"
    assert stream.getvalue() == ""


def test_uvicorns_own_handlers_are_replaced_so_its_lines_are_json_too() -> None:
    """A uvicorn server started with its default log config gives its loggers handlers of their own."""
    error = logging.getLogger("uvicorn.error")
    error.addHandler(logging.StreamHandler(io.StringIO()))
    error.propagate = False
    stream = log_json()
    error.warning("Invalid HTTP request received.")
    assert [(r["logger"], r["message"]) for r in json_lines(stream)] == [
        ("uvicorn.error", "Invalid HTTP request received.")
    ]

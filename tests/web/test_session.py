"""Session cookies: what they carry, when they stop working, and the guard's decision on form posts."""

from __future__ import annotations

from typing import Any

from pydantic import SecretStr

from alertd.settings import Settings
from alertd.web.session import COOKIE, Sessions, role_for_token

WRITE = "dashw-" + "9f3b1c7a2e"
READ = "dashr-" + "4d8e6a0b5c"


def _settings(**values: Any) -> Settings:
    return Settings(_env_file=None, **values)


def _sessions(key: bytes = b"k" * 32, **values: Any) -> Sessions:
    values.setdefault("api_token", SecretStr(WRITE))
    values.setdefault("api_read_token", SecretStr(READ))
    return Sessions(_settings(**values), lambda: key)


def test_a_token_maps_to_its_role_and_anything_else_to_none() -> None:
    s = _settings(api_token=SecretStr(WRITE), api_read_token=SecretStr(READ))
    assert (role_for_token(s, WRITE), role_for_token(s, READ), role_for_token(s, "guess")) == ("write", "read", None)


def test_an_issued_cookie_loads_back_with_its_role_and_a_csrf_value() -> None:
    sessions = _sessions()
    session = sessions.load(sessions.issue("write"))
    assert session is not None
    assert session.can_write
    assert len(session.csrf) >= 24


def test_a_cookie_signed_with_another_key_is_refused() -> None:
    other = _sessions(key=b"x" * 32).issue("write")
    assert _sessions().load(other) is None


def test_a_tampered_cookie_is_refused() -> None:
    cookie = _sessions().issue("read")
    assert _sessions().load(cookie[:-2] + ("A" if cookie[-2] != "A" else "B") + cookie[-1]) is None


def test_an_expired_cookie_is_refused() -> None:
    sessions = _sessions()
    sessions.max_age = -1
    assert sessions.load(sessions.issue("write")) is None


def test_a_huge_cookie_is_refused_without_parsing() -> None:
    assert _sessions().load("a" * 100_000) is None


def test_a_write_session_stops_working_once_the_write_token_is_unset() -> None:
    cookie = _sessions().issue("write")
    assert _sessions(api_token=None).load(cookie) is None


def test_with_no_token_configured_everyone_reads_and_nobody_writes() -> None:
    sessions = Sessions(_settings(), lambda: b"k" * 32)
    session = sessions.load(None)
    assert session is not None
    assert not session.can_write
    refusal = sessions.write_refusal("/events/x/move", {})
    assert refusal is not None
    assert refusal.status == 403


def test_the_guard_lets_a_write_session_post_and_refuses_a_read_session() -> None:
    sessions = _sessions()
    write = {"cookie": f"{COOKIE}={sessions.issue('write')}"}
    read = {"cookie": f"{COOKIE}={sessions.issue('read')}"}
    assert sessions.write_refusal("/history/x/cancel", write) is None
    refusal = sessions.write_refusal("/history/x/cancel", read)
    assert refusal is not None
    assert refusal.status == 403


def test_the_guard_refuses_a_post_without_a_session_but_lets_anyone_log_in() -> None:
    sessions = _sessions()
    refusal = sessions.write_refusal("/history/x/cancel", {"cookie": "garbage;;=="})
    assert refusal is not None
    assert refusal.status == 401
    assert sessions.write_refusal("/login", {}) is None


def test_csrf_must_match_the_sessions_own_value() -> None:
    sessions = _sessions()
    session = sessions.load(sessions.issue("write"))
    assert session is not None
    assert Sessions.csrf_ok(session, session.csrf)
    assert not Sessions.csrf_ok(session, None)
    assert not Sessions.csrf_ok(session, "")
    assert not Sessions.csrf_ok(session, session.csrf + "x")

"""The server key: the configured one, or one kept in the database that every replica and restart shares."""

from __future__ import annotations

from pydantic import SecretStr
from sqlalchemy.engine import Engine

from alertd.storage.keys import purpose_key, server_key

CONFIGURED = SecretStr("k" * 16 + "-configured-for-tests-" + "0123456789")


def test_a_configured_key_is_used_as_is(engine: Engine) -> None:
    with engine.begin() as conn:
        assert server_key(conn, CONFIGURED) == CONFIGURED.get_secret_value().encode()


def test_an_unset_key_is_made_once_and_kept(engine: Engine) -> None:
    """Two connections (a restart, another replica) get the same generated key."""
    with engine.begin() as conn:
        first = server_key(conn, None)
    with engine.begin() as conn:
        second = server_key(conn, None)
    assert first == second
    assert len(first) >= 32


def test_purposes_get_unrelated_keys() -> None:
    """A key derived for links cannot verify sessions, and the derivation is stable across processes."""
    key = b"x" * 32
    assert purpose_key(key, "session") != purpose_key(key, "ack-link")
    assert purpose_key(key, "session") == purpose_key(key, "session")
    assert key not in purpose_key(key, "session")

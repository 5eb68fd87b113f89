"""Secure defaults: SMTP TLS verified, API tokens compared in constant time, private targets opt-out."""

from __future__ import annotations

import hmac
from typing import Any

import pytest
from pydantic import SecretStr

from alertd.api import auth
from alertd.settings import Settings


@pytest.fixture
def settings(monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings from defaults only: no ALERTD_* variable, no .env file."""
    for name in ("ALERTD_SMTP_TLS", "ALERTD_SMTP_VERIFY", "ALERTD_SMTP_CA_FILE"):
        monkeypatch.delenv(name, raising=False)
    return Settings(_env_file=None)


def test_smtp_uses_starttls_by_default(settings: Settings) -> None:
    """Mail is encrypted unless the operator says otherwise."""
    assert settings.smtp_tls == "starttls"


def test_smtp_verifies_certificates_by_default(settings: Settings) -> None:
    """Certificate and host name verification is on, against the system CAs."""
    assert (settings.smtp_verify, settings.smtp_ca_file) == (True, None)


def test_api_tokens_are_compared_in_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """The bearer token check goes through hmac.compare_digest, never ``==``."""
    calls: list[tuple[Any, Any]] = []
    real = hmac.compare_digest

    def spy(a: Any, b: Any) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)  # auth looks it up on the module at each call
    assert auth._matches("tok-1", SecretStr("tok-1"))
    assert not auth._matches("tok-2", SecretStr("tok-1"))
    assert len(calls) == 2

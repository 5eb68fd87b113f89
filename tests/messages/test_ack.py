"""The words of acknowledgement notices and escalation steps, in every shipped locale."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
from support.factories import make_channel, make_event

from alertd.domain import Kind, Message
from alertd.messages.i18n import LOCALES
from alertd.messages.rendering import render

NOW = datetime(2025, 11, 8, 14, 0, tzinfo=UTC)
EVENT = make_event("truce-expiry", title="Truce expires")
ACKED = {"action": "acknowledged", "by": "ana", "via": "link", "note": "filed", "event_id": "truce-expiry"}


def message(kind: Kind, locale: str = "en", payload: dict[str, Any] | None = None) -> Message:
    channel = replace(make_channel("console", id="desk"), locale=locale)
    return render(id="x", kind=kind, channel=channel, due_at=NOW, now=NOW, event=EVENT, payload=payload)


def test_an_ack_notice_says_who_how_and_the_note() -> None:
    found = message("ack", payload=ACKED)
    assert found.title == "Acknowledged: Truce expires"
    assert found.text.startswith("Truce expires: acknowledged by ana (link).\nNote: filed\n")


def test_a_withdrawal_says_who_withdrew_it_and_that_reminders_resume() -> None:
    found = message("ack", payload=ACKED | {"action": "revoked", "by": "bo"})
    assert found.title == "No longer acknowledged: Truce expires"
    assert "bo withdrew the acknowledgement" in found.text
    assert "filed" not in found.text


def test_an_escalation_says_nobody_has_acknowledged_it() -> None:
    found = message("escalation")
    assert found.title == "Not acknowledged: Truce expires — in 2 days"
    assert found.text.startswith("Truce expires in 2 days, and nobody has acknowledged it yet.")


@pytest.mark.parametrize("locale", LOCALES)
def test_every_locale_words_both_kinds_with_the_name_and_title(locale: str) -> None:
    ack, escalation = message("ack", locale, ACKED), message("escalation", locale)
    assert "ana" in ack.text
    assert "Truce expires" in ack.title
    assert "Truce expires" in escalation.title
    assert ack.title != escalation.title


def test_a_name_with_markup_is_kept_as_text() -> None:
    """Names are free text (a link's form): rendering keeps them as given; each channel escapes its own format."""
    found = message("ack", payload=ACKED | {"by": "<b>ana</b> {x}"})
    assert "<b>ana</b> {x}" in found.text

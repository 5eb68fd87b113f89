from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
from support.factories import make_channel, make_event

from alertd.domain import KINDS, ChannelSpec, EventSpec, Kind, event_snapshot
from alertd.messages.context import sample_message
from alertd.messages.i18n import LOCALES
from alertd.messages.rendering import render

DUE = datetime(2025, 11, 9, 14, 0, tzinfo=UTC)
NB = "\u00a0"


def channel(locale: str, timezone: str = "America/New_York", **extra: Any) -> ChannelSpec:
    return replace(make_channel(id="desk", timezone=timezone), locale=locale, **extra)


def summit() -> EventSpec:
    """11:00 KST on 30 Oct 2025, tentative."""
    return make_event(
        "trump-xi-summit",
        title="Trump–Xi meeting",
        local_start=datetime(2025, 10, 30, 11, 0),
        timezone="Asia/Seoul",
        all_day=False,
        status="tentative",
    )


def test_a_chinese_reminder_is_worded_and_dated_in_chinese() -> None:
    """Title, sentence, both zones' times, status and source are all in the channel's locale."""
    now = datetime(2025, 10, 29, 2, 0, tzinfo=UTC)
    message = render(
        id="rem:1", kind="reminder", channel=channel("zh", "Asia/Shanghai"), due_at=now, now=now, event=summit()
    )
    assert message.title == "Trump–Xi meeting — 明天"
    assert message.text.splitlines() == [
        "Trump–Xi meeting：明天。",
        "2025年10月30日周四 11:00 KST (Asia/Seoul) = 2025年10月30日周四 10:00 CST (Asia/Shanghai)",
        "状态：待定",
        "来源：https://example.org/truce",
    ]
    assert message.countdown is not None
    assert message.countdown.text == "明天"
    assert message.locale == "zh"


def test_a_german_countdown_digest() -> None:
    """The digest title names the channel's local day; each line its distance and date."""
    far = make_event("far", title="Far deadline", local_start=datetime(2025, 11, 20))
    near = make_event("near", title="Near deadline", local_start=datetime(2025, 11, 10))
    message = render(id="cd:1", kind="countdown", channel=channel("de"), due_at=DUE, now=DUE, digest=[far, near])
    assert message.title == "Countdown für So., 9. Nov. 2025"
    assert message.text.splitlines() == [
        "• Near deadline — morgen (Mo., 10. Nov. 2025)",
        "• Far deadline — in 11 Tagen (Do., 20. Nov. 2025)",
    ]
    assert [line.text for line in message.lines] == ["morgen", "in 11 Tagen"]


def test_a_french_change_notice() -> None:
    """A move reads ``déplacé du … au …`` with French punctuation spacing."""
    before, after = make_event(local_start=datetime(2025, 11, 1)), make_event()
    change = {"type": "changed", "before": event_snapshot(before), "after": event_snapshot(after)}
    message = render(id="chg:1", kind="change", channel=channel("fr"), due_at=DUE, now=DUE, event=after, payload=change)
    assert message.title == f"Déplacé{NB}: Trade truce expires"
    assert message.text.splitlines()[0] == (
        f"Trade truce expires{NB}: déplacé du sam. 1 nov. 2025 au lun. 10 nov. 2025."
    )
    assert message.text.splitlines()[1] == "lun. 10 nov. 2025 (toute la journée, America/New_York)"


def test_a_spanish_status_change_translates_the_statuses() -> None:
    """Status names are words of the locale, not the calendar's keywords."""
    before, after = summit(), replace(summit(), status="confirmed")
    change = {"type": "changed", "before": event_snapshot(before), "after": event_snapshot(after)}
    message = render(id="chg:2", kind="change", channel=channel("es"), due_at=DUE, now=DUE, event=after, payload=change)
    assert message.text.splitlines()[0] == "Trump–Xi meeting: estado cambiado de provisional a confirmado."


def test_a_japanese_test_notification() -> None:
    """``send-test`` speaks the channel's language too."""
    message = render(id="test:1", kind="test", channel=channel("ja"), due_at=DUE, now=DUE)
    assert message.title == "alertd テスト通知"
    assert message.text == "alertd からチャンネル「desk」へのテストです。これが読めれば配信は正常です。"


def test_the_default_locale_is_english() -> None:
    """A channel without ``locale`` gets the English wording."""
    message = render(id="rem:1", kind="reminder", channel=make_channel(), due_at=DUE, now=DUE, event=make_event())
    assert message.title == "Trade truce expires — tomorrow"
    assert message.locale == "en"


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("locale", LOCALES)
def test_every_kind_renders_in_every_locale(locale: str, kind: Kind) -> None:
    """No kind is missing a phrase in any locale, and no placeholder is left unfilled."""
    message = sample_message(kind, channel(locale))
    assert message.title
    assert message.text
    assert "{" not in message.title + message.text

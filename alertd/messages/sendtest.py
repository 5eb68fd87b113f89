"""The default words of ``alertd send-test``: no event, just proof that delivery works."""

from __future__ import annotations

from alertd.messages.i18n import phrases

__all__ = ["sendtest_words"]


def sendtest_words(channel_id: str, locale: str) -> tuple[str, str]:
    p = phrases(locale)
    return p.test_title, p.test_text.format(channel=channel_id)

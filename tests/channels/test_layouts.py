"""Every channel's own layout dates an event the way the message does: the distance ("today") and the date beside
it come from one computation in the reader's zone, with the event's own date where it differs."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from email.headerregistry import Address
from typing import Any

import pytest
from support.factories import make_channel, make_event

from alertd.channels import discord, mattermost, slack_blocks, teams, telegram, webhook
from alertd.channels.email import build_message
from alertd.domain import Message
from alertd.messages import render

NY = "America/New_York"
# The Seoul summit, 11:00 KST on Thu 30 Oct 2025, is 22:00 EDT on Wed 29 Oct in New York.
SUMMIT = make_event(
    "summit", title="Trump–Xi meeting", local_start=datetime(2025, 10, 30, 11), timezone="Asia/Seoul", all_day=False
)
DIGEST_AT = datetime(2025, 10, 29, 13, 0, tzinfo=UTC)  # 09:00 EDT on Wed 29 Oct
EXPECTED = "today (Wed 29 Oct 2025; Thu 30 Oct 2025 in Asia/Seoul)"


def _email(message: Message) -> str:
    mail = build_message(message, sender=Address("alertd", "alertd", "example.org"), to=["desk@example.org"])
    return "\n".join(str(part.get_content()) for part in mail.iter_parts())


LAYOUTS: dict[str, Callable[[Message], Any]] = {
    "slack": lambda m: slack_blocks.payload(m, channel_timezone=NY),
    "discord": lambda m: discord.payload(m, channel_timezone=NY),
    "teams": lambda m: teams.payload(m, channel_timezone=NY),
    "telegram": lambda m: telegram.message_html(m, channel_timezone=NY),
    "mattermost": lambda m: mattermost.payload(m, channel_timezone=NY),
    "webhook": webhook.payload,
    "email": _email,
}


@pytest.mark.parametrize("name", sorted(LAYOUTS))
def test_a_digest_row_counts_to_the_readers_date_and_names_the_events_own(name: str) -> None:
    """New York's digest for Wed 29 Oct says the Seoul summit is today, beside Wed 29 Oct (and Thu 30 in Seoul)."""
    message = render(
        id="cd:desk:20251029",
        kind="countdown",
        channel=make_channel(timezone=NY),
        due_at=DIGEST_AT,
        now=DIGEST_AT,
        digest=[SUMMIT],
    )
    shown = LAYOUTS[name](message)
    text = shown if isinstance(shown, str) else json.dumps(shown, ensure_ascii=False)
    assert EXPECTED in text
    assert "today (Thu 30 Oct 2025)" not in text

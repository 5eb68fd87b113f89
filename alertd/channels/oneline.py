"""A receiver's text as alertd shows it: one line, no terminal controls, bounded.

Kept apart from :mod:`alertd.channels.http` so that the secret scrubber every channel is wrapped in can use it
without loading the HTTP stack (a calendar of console channels never needs aiohttp or httpx).
"""

from __future__ import annotations

import re

__all__ = ["EXCERPT", "one_line"]

# How much of a service's answer a message, log line or history row quotes by default.
EXCERPT = 200

# Characters a terminal acts on (ESC starts a control sequence, BEL rings, BS erases…) and the bidirectional
# overrides that reorder what is shown: a receiver's text must never drive the reader's terminal.
_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def one_line(text: str, limit: int = EXCERPT) -> str:
    """A service's text as alertd shows it: one line, control characters replaced, at most ``limit`` characters.

    Every text that came from a receiver (a body excerpt, a JSON ``description`` or ``message``) goes through it
    before it reaches a message, the log, history or a terminal.
    """
    text = _CONTROLS.sub("\ufffd", " ".join(text.split()))
    return text if len(text) <= limit else text[: limit - 1] + "…"

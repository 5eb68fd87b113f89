"""The calendar feeds' health for ``/channels``: each source of the loaded calendar with its stored fetch state.

Read from the shared ``feed_state`` rows, so every replica shows the same; a feed's URL is cut to its host (the
source's ``where``), since a feed URL often carries a private token.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from alertd.domain import Calendar
from alertd.storage import feed_statuses

__all__ = ["FeedRow", "feed_rows"]


@dataclass(frozen=True, slots=True)
class FeedRow:
    id: str
    where: str
    # None while the feed answers; the first failure of the current run of failures otherwise.
    failing_since: datetime | None
    # One line: a feed's error can quote a server's multi-line answer.
    last_error: str
    # When the copy alertd plans from was last fetched good (None: never, nothing planned from it yet).
    fetched_at: datetime | None


def _one_line(text: str | None) -> str:
    return " ".join((text or "").split())[:300]


def feed_rows(engine: sa.Engine, calendar: Calendar) -> list[FeedRow]:
    """One row per source of ``calendar``, failing ones first, then by id."""
    with engine.connect() as conn:
        states = feed_statuses(conn)
    rows: list[FeedRow] = []
    for source in calendar.sources:
        state = states.get(source.id)
        failing = state is not None and state.failing
        rows.append(
            FeedRow(
                id=source.id,
                where=source.where,
                failing_since=(state.failing_since if failing and state else None),
                last_error=_one_line(state.last_error) if failing and state else "",
                fetched_at=state.fetched_at if state else None,
            )
        )
    return sorted(rows, key=lambda r: (not r.last_error, r.id))

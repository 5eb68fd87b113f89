"""Acknowledgements: who said an event (or one occurrence) is handled, and what that does to its notifications.

An acknowledgement is a row; at most one unrevoked row per event id (a partial unique index). Recording one, in
the caller's transaction: marks the event row, cancels its pending escalation steps and (``after_ack: stop``) its
reminders and countdown lines, and queues one "acknowledged by …" notice per channel. Revoking it restores the
plan. Both take the planning lock, so two replicas acknowledging at once record one row and send one notice.

The escalation check at send time is :func:`drop_acknowledged`, run inside the claim's transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import date, datetime
from typing import Any, NamedTuple

import sqlalchemy as sa

from alertd.domain import Calendar, EventSpec, Planned
from alertd.errors import ConflictError, NotFoundError, UsageError
from alertd.planning import series_id
from alertd.storage.ackrows import ACK
from alertd.storage.eventrows import EVENT, event_from_row
from alertd.storage.outbox import NOTIFICATION, OPERATOR_CANCEL, Claimed, cancel, enqueue
from alertd.storage.pglocks import PLANNING, lock_for_transaction
from alertd.storage.sync import SyncReport, bump_events_revision, planned_for, refresh_countdowns

__all__ = [
    "ACK",
    "ACK_CANCEL",
    "LINK_USED",
    "VIAS",
    "AckRecord",
    "ack_event",
    "ack_json",
    "acknowledge",
    "acknowledgements",
    "active_acks",
    "drop_acknowledged",
    "link_target",
    "occurrence_id",
    "unack_event",
    "unacknowledge",
]

# The paths an acknowledgement can come by.
VIAS = ("cli", "api", "link", "slack", "dashboard")
# Rows an acknowledgement cancelled carry this reason: a re-plan never revives them (it is an operator's cancel),
# and revoking the acknowledgement revives exactly these.
ACK_CANCEL = f"{OPERATOR_CANCEL}: acknowledged"
_MAX_BY, _MAX_NOTE = 200, 2000
LINK_USED = "this acknowledgement link was already used; links work once"


class AckRecord(NamedTuple):
    id: int
    event_id: str
    by: str
    at: datetime
    via: str
    note: str | None
    revoked_at: datetime | None = None
    revoked_by: str | None = None


def ack_json(record: AckRecord) -> dict[str, Any]:
    """An acknowledgement as the API and ``--format json`` show it."""

    def stamp(at: datetime | None) -> str | None:
        return None if at is None else at.strftime("%Y-%m-%dT%H:%M:%SZ")

    return {
        "event_id": record.event_id,
        "by": record.by,
        "at": stamp(record.at),
        "via": record.via,
        "note": record.note,
        "revoked_at": stamp(record.revoked_at),
        "revoked_by": record.revoked_by,
    }


def _record(row: Any) -> AckRecord:
    return AckRecord(
        id=row.id,
        event_id=row.event_id,
        by=row.by,
        at=row.at,
        via=row.via,
        note=row.note,
        revoked_at=row.revoked_at,
        revoked_by=row.revoked_by,
    )


def _clean(text: str | None, what: str, limit: int) -> str | None:
    if text is None:
        return None
    text = " ".join(text.split())
    if len(text) > limit:
        raise UsageError(f"{what} is {len(text)} characters long; keep it to {limit}")
    return text or None


def _event(conn: sa.Connection, event_id: str, calendar: Calendar | None = None, *, now: datetime) -> EventSpec:
    """The stored event an id names: an ordinary event, a feed event, or one occurrence (``x@20260331``).

    A recurring event as a whole has no row and no acknowledgement of its own: each occurrence is handled on its
    own, so its id is refused with a message naming the occurrence form (and the next occurrence).
    """
    row = conn.execute(sa.select(EVENT).where(EVENT.c.id == event_id, EVENT.c.removed.is_(False))).first()
    if row is not None:
        return event_from_row(row)
    repeating = {s.event.id for s in calendar.series} if calendar is not None else set()
    if event_id in repeating:
        raise UsageError(
            f"{event_id} repeats: acknowledge one occurrence, e.g. {_next(conn, event_id, now)} "
            f"(alertd ack {event_id} --occurrence DATE)"
        )
    series = series_id(event_id)
    if series is not None and series in repeating:
        raise NotFoundError(
            f"no occurrence {event_id!r} in the stored window; the next is {_next(conn, series, now)}: "
            "see 'alertd events list'"
        )
    if series is not None and conn.execute(sa.select(EVENT.c.id).where(EVENT.c.id == series)).first():
        raise UsageError(f"{series!r} does not repeat; acknowledge it as {series!r}, without a date")
    raise NotFoundError(f"no event {event_id!r}: see 'alertd events list'")


def _next(conn: sa.Connection, series: str, now: datetime) -> str:
    """The id of the series' next stored occurrence, or the id form when none is stored."""
    e = EVENT.c
    query = (
        sa.select(e.id)
        .where(e.id.startswith(f"{series}@", autoescape=True), e.removed.is_(False))
        .order_by(e.starts_at)
    )
    upcoming = conn.execute(query.where(e.starts_at >= now).limit(1)).scalar()
    return upcoming or conn.execute(query.limit(1)).scalar() or f"{series}@YYYYMMDD"


def active_acks(conn: sa.Connection, event_ids: Iterable[str] | None = None) -> dict[str, AckRecord]:
    """The unrevoked acknowledgement of each event that has one (of ``event_ids``, or all)."""
    query = sa.select(ACK).where(ACK.c.revoked_at.is_(None))
    if event_ids is not None:
        ids = list(dict.fromkeys(event_ids))
        if not ids:
            return {}
        query = query.where(ACK.c.event_id.in_(ids))
    return {row.event_id: _record(row) for row in conn.execute(query)}


def acknowledgements(conn: sa.Connection, event_id: str) -> list[AckRecord]:
    """Every acknowledgement of ``event_id``, revoked ones included, oldest first (its history)."""
    rows = conn.execute(sa.select(ACK).where(ACK.c.event_id == event_id).order_by(ACK.c.at, ACK.c.id))
    return [_record(row) for row in rows]


def _notice(event: EventSpec, event_id: str, record: AckRecord, action: str, now: datetime) -> list[Planned]:
    prefix = "ack" if action == "acknowledged" else "unack"
    who = record.by if action == "acknowledged" else (record.revoked_by or record.by)
    payload = {"action": action, "by": who, "via": record.via, "note": record.note, "event_id": event_id}
    return [
        Planned(
            id=f"{prefix}:{event_id}:{record.id}:{channel}",
            kind="ack",
            channel=channel,
            due_at=now,
            event_id=event.id,
            payload=payload,
        )
        for channel in event.notify
    ]


def acknowledge(
    conn: sa.Connection,
    calendar: Calendar,
    *,
    event_id: str,
    by: str,
    via: str,
    now: datetime,
    note: str | None = None,
    link_nonce: str | None = None,
) -> tuple[AckRecord, bool, SyncReport]:
    """Record that ``by`` acknowledged ``event_id``; returns the acknowledgement, whether it is new, and what it
    cancelled. Acknowledging an acknowledged event changes nothing and returns the existing row.

    ``link_nonce`` is the nonce of the one-click link used: a link already used is refused (ConflictError).
    """
    if via not in VIAS:
        raise UsageError(f"unknown acknowledgement path {via!r}: one of {', '.join(VIAS)}")
    who = _clean(by, "the name given with --by", _MAX_BY)
    if who is None:
        raise UsageError("say who acknowledges: --by NAME (an empty name is refused)")
    note = _clean(note, "the note", _MAX_NOTE)
    lock_for_transaction(conn, PLANNING)
    report = SyncReport()
    event = _event(conn, event_id, calendar, now=now)
    if link_nonce is not None and conn.execute(sa.select(ACK.c.id).where(ACK.c.link_nonce == link_nonce)).first():
        raise ConflictError(LINK_USED)
    existing = active_acks(conn, [event_id]).get(event_id)
    if existing is not None:
        return existing, False, report
    values = {"event_id": event_id, "by": who, "at": now, "via": via, "note": note, "link_nonce": link_nonce}
    new_id = conn.execute(ACK.insert().values(**values).returning(ACK.c.id)).scalar_one()
    record = AckRecord(id=new_id, event_id=event_id, by=who, at=now, via=via, note=note)
    conn.execute(EVENT.update().where(EVENT.c.id == event_id).values(acknowledged=True))
    kinds = ("reminder", "escalation") if event.after_ack == "stop" else ("escalation",)
    reason = f"{ACK_CANCEL} by {who} ({via})"
    n = NOTIFICATION.c
    report.count_cancelled(cancel(conn, sa.and_(n.event_id == event_id, n.kind.in_(kinds)), reason=reason, now=now))
    report.queued += enqueue(conn, _notice(event, event_id, record, "acknowledged", now), now=now)
    if event.after_ack == "stop":
        report.count_cancelled(refresh_countdowns(conn, calendar, now=now).cancelled_by)
    bump_events_revision(conn)
    return record, True, report


def unacknowledge(
    conn: sa.Connection, calendar: Calendar, *, event_id: str, by: str, now: datetime
) -> tuple[AckRecord, SyncReport]:
    """Revoke the acknowledgement of ``event_id``: its reminders and escalation steps still ahead come back."""
    who = _clean(by, "the name given with --by", _MAX_BY) or "unknown"
    lock_for_transaction(conn, PLANNING)
    report = SyncReport()
    event = _event(conn, event_id, calendar, now=now)
    existing = active_acks(conn, [event_id]).get(event_id)
    if existing is None:
        raise ConflictError(f"event {event_id!r} is not acknowledged; nothing to undo")
    conn.execute(ACK.update().where(ACK.c.id == existing.id).values(revoked_at=now, revoked_by=who))
    conn.execute(EVENT.update().where(EVENT.c.id == event_id).values(acknowledged=False))
    record = existing._replace(revoked_at=now, revoked_by=who)
    n = NOTIFICATION.c
    wanted = [p for p in planned_for(_unacked(event)) if p.due_at > now]
    ids = [p.id for p in wanted]
    for start in range(0, len(ids), 500):
        report.queued += _revive(conn, n.id.in_(ids[start : start + 500]), now=now)
    report.queued += enqueue(conn, wanted, now=now)
    report.count_cancelled(refresh_countdowns(conn, calendar, now=now).cancelled_by)
    # Not counted in ``queued``: that says how many of the event's own notifications came back.
    enqueue(conn, _notice(event, event_id, record, "revoked", now), now=now)
    bump_events_revision(conn)
    return record, report


def _revive(conn: sa.Connection, where: sa.ColumnElement[bool], *, now: datetime) -> int:
    """Make pending again the rows matching ``where`` that an acknowledgement cancelled; how many."""
    n = NOTIFICATION.c
    result = conn.execute(
        NOTIFICATION.update()
        .where(where, n.state == "cancelled", n.last_error.startswith(ACK_CANCEL))
        .values(state="pending", next_at=n.due_at, attempts=0, last_error=None, updated_at=now)
    )
    return result.rowcount or 0


def _unacked(event: EventSpec) -> EventSpec:
    return replace(event, acknowledged=False)


def drop_acknowledged(conn: sa.Connection, claimed: Sequence[Claimed], *, now: datetime) -> list[Claimed]:
    """Of rows just claimed, cancel the escalation steps whose event is acknowledged; return the rest.

    Runs in the claim's transaction: a row another replica claimed is not in ``claimed``, and an acknowledgement
    committed before this claim is seen here, so an escalation is never sent for an event acked before its instant.
    """
    escalations = [c for c in claimed if c.kind == "escalation" and c.event_id]
    if not escalations:
        return list(claimed)
    acked = active_acks(conn, (c.event_id for c in escalations if c.event_id))
    gone: set[str] = set()
    for item in escalations:
        record = acked.get(item.event_id or "")
        if record is None:
            continue
        conn.execute(
            NOTIFICATION.update()
            .where(NOTIFICATION.c.id == item.id)
            .values(
                state="cancelled",
                locked_by=None,
                locked_until=None,
                last_error=f"{ACK_CANCEL} by {record.by} ({record.via}) before this step was due",
                updated_at=now,
            )
        )
        gone.add(item.id)
    return [c for c in claimed if c.id not in gone] if gone else list(claimed)


def ack_event(
    engine: sa.Engine,
    calendar: Calendar,
    *,
    event_id: str,
    by: str,
    via: str,
    now: datetime,
    note: str | None = None,
    link_nonce: str | None = None,
) -> tuple[AckRecord, bool, SyncReport]:
    """:func:`acknowledge` in a transaction of its own."""
    with engine.begin() as conn:
        return acknowledge(conn, calendar, event_id=event_id, by=by, via=via, now=now, note=note, link_nonce=link_nonce)


def unack_event(
    engine: sa.Engine, calendar: Calendar, *, event_id: str, by: str, now: datetime
) -> tuple[AckRecord, SyncReport]:
    """:func:`unacknowledge` in a transaction of its own."""
    with engine.begin() as conn:
        return unacknowledge(conn, calendar, event_id=event_id, by=by, now=now)


def occurrence_id(event_id: str, occurrence: date | None) -> str:
    """The id of one occurrence of a recurring event (``x@20260331``), or the event's own id."""
    return event_id if occurrence is None else f"{event_id}@{occurrence:%Y%m%d}"


def link_target(
    conn: sa.Connection, event_id: str, nonce: str, *, now: datetime
) -> tuple[EventSpec, AckRecord | None, bool]:
    """What a link's page shows: the event, its current acknowledgement, and whether this link was used."""
    event = _event(conn, event_id, now=now)
    used = conn.execute(sa.select(ACK.c.id).where(ACK.c.link_nonce == nonce)).first() is not None
    return event, active_acks(conn, [event_id]).get(event_id), used

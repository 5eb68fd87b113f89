"""The only writer of notification rows: enqueue, cancel, claim, record outcomes, reclaim leases."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from operator import attrgetter
from typing import Any, NamedTuple

import sqlalchemy as sa

from alertd.domain import Planned
from alertd.storage.bulk import (
    driver_execute,
    driver_sql,
    execute_cells,
    insert_ignoring_duplicates,
    insert_sql,
    instant_writer,
    read_instant,
)
from alertd.storage.models import ACTIVE_STATES, Attempt, Notification

__all__ = [
    "ATTEMPT",
    "DUE_CHANNEL",
    "NOTIFICATION",
    "Claimed",
    "Outcome",
    "cancel",
    "cancel_one",
    "claim",
    "enqueue",
    "hold",
    "next_due",
    "notify_due",
    "reclaim",
    "record",
    "requeue",
    "retry_dead",
    "supersede_countdowns",
]

NOTIFICATION = Notification.__table__  # type: ignore[attr-defined]
ATTEMPT = Attempt.__table__  # type: ignore[attr-defined]
_CHUNK = 500
# The reason recorded when a person cancels one notification; enqueue never revives such a row.
OPERATOR_CANCEL = "cancelled by an operator"
# The PostgreSQL NOTIFY channel on which replicas hear of new due instants (alertd.delivery.wakeup listens).
DUE_CHANNEL = "alertd_due"


def notify_due(conn: sa.Connection, due_at: datetime) -> None:
    """Tell listening replicas (after commit) that something is due at ``due_at``; a no-op outside PostgreSQL."""
    if conn.dialect.name != "postgresql":
        return
    conn.execute(sa.select(sa.func.pg_notify(DUE_CHANNEL, due_at.astimezone(UTC).isoformat())))


def enqueue(conn: sa.Connection, planned: Iterable[Planned], *, now: datetime) -> int:
    """Insert the planned notifications due after ``now``; ids already present are left alone (idempotent).

    A wanted id that was cancelled by a re-plan (an event moved away and back) becomes pending again; one that an
    operator cancelled stays cancelled, however often the event is re-planned.
    """
    # Change and admin notices are about what just happened: due now, never "in the past".
    wanted = [p for p in planned if p.due_at > now or p.kind in ("change", "admin", "ack")]
    rows = [
        {
            "id": p.id,
            "kind": p.kind,
            "event_id": p.event_id,
            "channel": p.channel,
            "offset": p.offset,
            "due_at": p.due_at,
            "next_at": p.due_at,
            "expires_at": p.expires_at,
            "state": "pending",
            "attempts": 0,
            "late": False,
            "payload": dict(p.payload) if p.payload is not None else None,
            "created_at": now,
            "updated_at": now,
        }
        for p in wanted
    ]
    inserted = insert_ignoring_duplicates(conn, NOTIFICATION, rows)
    revived = 0
    if inserted < len(rows):
        ids = [r["id"] for r in rows]
        for start in range(0, len(ids), _CHUNK):
            revived += (
                conn.execute(
                    NOTIFICATION.update()
                    .where(
                        NOTIFICATION.c.id.in_(ids[start : start + _CHUNK]),
                        NOTIFICATION.c.state == "cancelled",
                        sa.or_(
                            NOTIFICATION.c.last_error.is_(None),
                            ~NOTIFICATION.c.last_error.startswith(OPERATOR_CANCEL),
                        ),
                    )
                    .values(state="pending", next_at=NOTIFICATION.c.due_at, attempts=0, last_error=None, updated_at=now)
                ).rowcount
                or 0
            )
    if inserted or revived:
        # Other replicas may sleep past the earliest new row; the message reaches them only if this commits.
        notify_due(conn, min(p.due_at for p in wanted))
    return inserted


def cancel(
    conn: sa.Connection,
    where: sa.ColumnElement[bool],
    *,
    keep: Sequence[str] = (),
    reason: str,
    now: datetime,
) -> Counter[tuple[str, str]]:
    """Cancel active notifications matching ``where`` except the ids in ``keep``; how many, by (kind, channel)."""
    cond = sa.and_(where, NOTIFICATION.c.state.in_(ACTIVE_STATES))
    if keep:
        cond = sa.and_(cond, NOTIFICATION.c.id.not_in(list(keep)))
    # Which kinds and channels were cancelled is what the outcome metric needs, hence RETURNING, not rowcount.
    result = conn.execute(
        NOTIFICATION.update()
        .where(cond)
        .values(state="cancelled", last_error=reason, updated_at=now)
        .returning(NOTIFICATION.c.kind, NOTIFICATION.c.channel)
    )
    return Counter((kind, channel) for kind, channel in result)


class Claimed(NamedTuple):
    """A row taken for sending, with what sending it needs (a tuple: thousands are built per second)."""

    id: str
    kind: str
    event_id: str | None
    channel: str
    offset: str | None
    due_at: datetime
    expires_at: datetime | None
    attempts: int
    payload: dict[str, Any] | None
    held_until: datetime | None = None


# SQLite only uses the partial index ix_notification_due_active when a query spells its condition with the same
# literals, and even then its planner prefers ix_notification_state_due and reads every pending row (~0.3 s per
# 200k pending rows, on every claim and every idle step). INDEXED BY pins the index: ~1 ms at any size.
_ACTIVE = ", ".join(f"'{s}'" for s in ACTIVE_STATES)
_SQLITE_DUE = f"FROM notification INDEXED BY ix_notification_due_active WHERE state IN ({_ACTIVE})"
_DUE = f"FROM notification WHERE state IN ({_ACTIVE})"
_CLAIMED_COLUMNS = ", ".join(f'"{name}"' for name in Claimed._fields)


def _sqlite_min_due(skip_channels: Sequence[str]) -> sa.TextualSelect:
    sql = f"SELECT min(next_at) AS due {_SQLITE_DUE}"
    params: list[sa.BindParameter[Any]] = []
    if skip_channels:
        sql += " AND channel NOT IN :due_skip"
        params.append(sa.bindparam("due_skip", list(skip_channels), expanding=True))
    return sa.text(sql).bindparams(*params).columns(sa.column("due", NOTIFICATION.c.next_at.type))


def claim(
    conn: sa.Connection,
    *,
    now: datetime,
    worker: str,
    lease_until: datetime,
    limit: int,
    skip_channels: Sequence[str] = (),
    only_channel: str | None = None,
) -> list[Claimed]:
    """Atomically take up to ``limit`` due rows: one UPDATE…RETURNING (SQLite) or SKIP LOCKED (PostgreSQL).

    ``only_channel`` claims for one channel alone (a rate-limited one, up to its tokens).
    """
    # Straight through the driver: the claim runs on every round under load, and building, compiling and reading
    # it through SQLAlchemy cost as much as the database work itself.
    sqlite = conn.dialect.name == "sqlite"
    instant = instant_writer(sqlite)
    args: list[Any] = [worker, instant(lease_until), instant(now)]
    due = f"SELECT id {_SQLITE_DUE if sqlite else _DUE} AND next_at <= ?"
    args.append(instant(now))
    if skip_channels:
        due += f" AND channel NOT IN ({', '.join(['?'] * len(skip_channels))})"
        args.extend(skip_channels)
    if only_channel is not None:
        due += " AND channel = ?"
        args.append(only_channel)
    due += f" ORDER BY next_at LIMIT {int(limit)}" + ("" if sqlite else " FOR UPDATE SKIP LOCKED")
    sql = (
        "UPDATE notification SET state = 'sending', locked_by = ?, locked_until = ?, attempts = attempts + 1, "
        f"updated_at = ? WHERE id IN ({due}) RETURNING {_CLAIMED_COLUMNS}"
    )
    rows = driver_execute(conn, driver_sql(conn, sql), tuple(args), rows=True)[1]
    claimed = [_claimed(row, sqlite) for row in rows]
    claimed.sort(key=_DUE_AT)
    return claimed


def _claimed(row: Sequence[Any], sqlite: bool) -> Claimed:
    """A claimed row from the driver's cells, converted as the column types would (SQLite: instants and JSON as
    text); built as the tuple it is, without the named tuple's own constructor (a few hundred rows a round)."""
    id, kind, event_id, channel, offset, due_at, expires_at, attempts, payload, held_until = row
    if sqlite and payload is not None:
        payload = json.loads(payload)
    claimed: Claimed = _tuple_new(
        Claimed,
        (
            id,
            kind,
            event_id,
            channel,
            offset,
            read_instant(due_at),
            read_instant(expires_at),
            attempts,
            payload,
            read_instant(held_until),
        ),
    )
    return claimed


_tuple_new = tuple.__new__
_DUE_AT = attrgetter("due_at")


class Outcome(NamedTuple):
    """How one claimed notification ended this time: ``state`` is sent, retrying, dead or missed."""

    id: str
    state: str
    at: datetime
    detail: str = ""
    next_at: datetime | None = None
    late: bool = False
    duration_ms: float = 0.0
    attempted: bool = True
    # Sent, but not to everyone (e.g. "refused: a@x (550 …)"): kept as the sent row's last_error.
    note: str | None = None


def record(conn: sa.Connection, outcomes: Sequence[Outcome], *, worker: str) -> int:
    """Store outcomes of rows this worker still holds; a row whose lease another worker took is not touched."""
    if not outcomes:
        return 0
    # Straight through the driver, each row built once in the driver's terms: with SQLAlchemy's per-row parameter
    # processing, storing outcomes cost more CPU than sending them. An outcome's instant fills three columns of two
    # tables: it is converted once.
    instant = instant_writer(conn.dialect.name == "sqlite")
    rows: list[tuple[Any, ...]] = []
    attempts: list[tuple[Any, ...]] = []
    for o in outcomes:
        at = instant(o.at)
        sent = o.state == "sent"
        # In the order of _RECORD_NAMES and _ATTEMPT_NAMES.
        rows.append(
            (o.state, instant(o.next_at), at if sent else None, o.late, o.note if sent else o.detail, at, o.id, worker)
        )
        if o.attempted:
            attempts.append((o.id, at, o.state, o.detail, worker, o.duration_ms))
    updated = execute_cells(conn, NOTIFICATION, _RECORD_SQL, _RECORD_NAMES, rows, len(rows))
    execute_cells(conn, ATTEMPT, insert_sql(conn, ATTEMPT, _ATTEMPT_NAMES), _ATTEMPT_NAMES, attempts, len(attempts))
    return updated


_ATTEMPT_NAMES = ("notification_id", "at", "outcome", "detail", "worker", "duration_ms")
_RECORD_NAMES = ("state", "next_at", "sent_at", "late", "last_error", "updated_at", "id", "locked_by")
_RECORD_SQL = (
    "UPDATE notification SET state = v.state, next_at = coalesce(v.next_at, notification.next_at), "
    "sent_at = v.sent_at, late = v.late, last_error = v.last_error, locked_by = NULL, locked_until = NULL, "
    "updated_at = v.updated_at FROM (SELECT "
    # Both databases name the columns of a VALUES list column1, column2…; a CTE would name them more plainly, but
    # Python's sqlite3 reports no rowcount for a statement that does not start with UPDATE.
    + ", ".join(f"column{i} AS {name}" for i, name in enumerate(_RECORD_NAMES, 1))
    + " FROM (VALUES {values}) AS t) AS v "
    "WHERE notification.id = v.id AND notification.locked_by = v.locked_by AND notification.state = 'sending'"
)


def reclaim(conn: sa.Connection, *, now: datetime, everything: bool = False) -> int:
    """Put rows whose lease ran out (or, with ``everything``, every row in flight) back in the queue.

    Their send may have happened: the retry carries the same id, so receivers can deduplicate.
    """
    n = NOTIFICATION.c
    cond = n.state == "sending"
    if not everything:
        cond = sa.and_(cond, n.locked_until < now)
    result = conn.execute(
        NOTIFICATION.update()
        .where(cond)
        .values(
            state="retrying",
            next_at=now,
            locked_by=None,
            locked_until=None,
            last_error="interrupted while sending; resending with the same id",
            updated_at=now,
        )
    )
    return result.rowcount or 0


def supersede_countdowns(conn: sa.Connection, *, now: datetime) -> int:
    """Of several overdue digests for one channel only the newest is sent; older ones become ``missed``."""
    n = NOTIFICATION.c
    newer = NOTIFICATION.alias("newer")
    exists = (
        sa.select(newer.c.id)
        .where(
            newer.c.kind == "countdown",
            newer.c.channel == n.channel,
            newer.c.state.in_(ACTIVE_STATES),
            newer.c.due_at <= now,
            newer.c.due_at > n.due_at,
        )
        .exists()
    )
    result = conn.execute(
        NOTIFICATION.update()
        .where(n.kind == "countdown", n.state.in_(ACTIVE_STATES), n.due_at <= now, n.attempts == 0, exists)
        .values(state="missed", last_error="superseded by a newer countdown digest", updated_at=now)
    )
    return result.rowcount or 0


def next_due(conn: sa.Connection, *, skip_channels: Sequence[str] = ()) -> datetime | None:
    """The earliest instant at which a notification wants an attempt, or None when nothing is queued.

    ``skip_channels`` (failing or rate-limited ones) are left out: their due rows would otherwise ask for a wake-up
    right now, again and again, while the dispatcher may not claim them.
    """
    n = NOTIFICATION.c
    query = sa.select(sa.func.min(n.next_at)).where(n.state.in_(ACTIVE_STATES))
    if skip_channels:
        query = query.where(n.channel.not_in(list(skip_channels)))
    statement: sa.Executable = _sqlite_min_due(skip_channels) if conn.dialect.name == "sqlite" else query
    value: datetime | None = conn.execute(statement).scalar_one()
    if value is not None and value.tzinfo is None:
        # Aggregates bypass the column type on some backends.
        from datetime import UTC

        value = value.replace(tzinfo=UTC)
    return value


def hold(conn: sa.Connection, channel: str, *, until: datetime, detail: str, now: datetime) -> int:
    """Move ``channel``'s due queued rows to ``until`` (quiet hours): still pending, marked held, never dropped."""
    n = NOTIFICATION.c
    result = conn.execute(
        NOTIFICATION.update()
        .where(n.channel == channel, n.state.in_(ACTIVE_STATES), n.next_at <= now)
        .values(next_at=until, held_until=until, last_error=detail, updated_at=now)
    )
    return result.rowcount or 0


def retry_dead(conn: sa.Connection, id: str, *, now: datetime) -> bool:
    """Queue one ``dead`` notification for an attempt now; False when it is not dead or its moment has passed.

    ``attempts`` is kept: the retry budget is not refilled, and the catch-up rule (first attempts only) does not
    turn a manual retry into ``missed``. A reminder past its event's start is refused: it would die unsent.
    """
    n = NOTIFICATION.c
    result = conn.execute(
        NOTIFICATION.update()
        .where(n.id == id, n.state == "dead", sa.or_(n.expires_at.is_(None), n.expires_at > now))
        .values(state="retrying", next_at=now, updated_at=now)
    )
    if result.rowcount == 1:
        notify_due(conn, now)
    return (result.rowcount or 0) == 1


def cancel_one(conn: sa.Connection, id: str, *, now: datetime, reason: str = "") -> bool:
    """Cancel one notification that has not been sent yet (pending or retrying); False otherwise.

    The reason starts with :data:`OPERATOR_CANCEL`, which keeps a later re-plan of the event from reviving it.
    """
    text = f"{OPERATOR_CANCEL}: {reason}" if reason else OPERATOR_CANCEL
    return cancel(conn, NOTIFICATION.c.id == id, reason=text, now=now).total() == 1


def requeue(conn: sa.Connection, id: str, *, now: datetime) -> bool:
    """Queue one ``dead`` or ``missed`` notification for an attempt now (an operator's retry); False otherwise.

    ``attempts`` becomes at least 1, so the catch-up rule (first attempts only) does not turn the retry straight
    back into ``missed``. A notification whose moment has passed (a reminder after its event started) is refused.
    """
    n = NOTIFICATION.c
    result = conn.execute(
        NOTIFICATION.update()
        .where(n.id == id, n.state.in_(("dead", "missed")), sa.or_(n.expires_at.is_(None), n.expires_at > now))
        .values(
            state="pending",
            next_at=now,
            attempts=sa.func.max(n.attempts, 1) if conn.dialect.name == "sqlite" else sa.func.greatest(n.attempts, 1),
            locked_by=None,
            locked_until=None,
            updated_at=now,
        )
    )
    if result.rowcount == 1:
        notify_due(conn, now)
    return (result.rowcount or 0) == 1

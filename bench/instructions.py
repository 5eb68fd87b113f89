"""Dispatch cost in CPU instructions per notification, counted by valgrind: ``python -m bench.instructions``.

The throughput benchmark (:mod:`bench.dispatch`) measures seconds, and on a shared machine its baseline alone moves
by half from one run to the next. Instructions do not depend on what else the machine is doing, so this counts
them for the same three sides: the bare aiohttp loop, alertd's HTTP client alone and the whole dispatcher.

Each side runs twice under ``valgrind --tool=callgrind``, with N1 and N2 notifications; the difference divided by
N2 − N1 is the cost of one more notification, without interpreter start-up and imports. The sink runs outside
valgrind and the outbox is filled before valgrind starts. Under valgrind everything runs about fifty times slower
while the sink does not, so fewer sends finish between two database rounds: a round holds fewer rows and its fixed
cost weighs more per row than at full speed. The dispatcher's figure is therefore pessimistic, never optimistic.

alertd's own work per notification is the dispatcher's count less its HTTP client's (claim, render, record: the
request excluded); the target is at most the bare aiohttp request's count. The throughput ratio is printed for
information.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from alertd.channels.http import json_bytes
from alertd.channels.webhook import payload
from alertd.messages.rendering import render
from alertd.planning.planner import plan_reminders
from bench import dispatch
from bench.common import SinkProcess, Workspace, db_events, fresh_db, seed_db_events

SIDES = ("bare", "client", "alertd")
_COLLECTED = re.compile(r"Collected\s*:\s*(\d+)")


def _side(side: str, url: str, n: int, db: str | None) -> None:
    """One side, in the process valgrind watches."""
    if side == "alertd":
        assert db is not None
        from alertd.storage.db import create_engine

        engine = create_engine(f"sqlite:///{db}")
        _elapsed, sent = asyncio.run(dispatch._alertd(engine, url, n))
        if sent != n:
            raise SystemExit(f"alertd sent {sent} of {n}")
        return
    run = dispatch._bare if side == "bare" else dispatch._client_only
    asyncio.run(run(url, n, _body()))


def _body() -> bytes:
    """A body the size of the webhook payload the dispatcher sends for one of these reminders."""
    now = datetime.now(UTC)
    event = db_events([now + timedelta(minutes=30)], offset="1h", channels=("hook",), prefix="i")[0]
    channel = dispatch._calendar("http://127.0.0.1/hook").channels["hook"]
    planned = next(plan_reminders(event, ["hook"]))
    message = render(
        id=planned.id, kind="reminder", channel=channel, due_at=now, now=now, event=event, offset=planned.offset
    )
    size = len(json_bytes(payload(message)))
    return b'{"pad":"' + b"x" * (size - 10) + b'"}'


def _outbox(n: int, ws: Workspace) -> str:
    """A SQLite file holding ``n`` overdue reminders, as :mod:`bench.dispatch` fills it."""
    path = ws.file(f"instructions-{n}.db")
    engine = fresh_db(path)
    now = datetime.now(UTC)
    starts = [now + timedelta(minutes=30, milliseconds=i) for i in range(n)]
    seed_db_events(engine, db_events(starts, offset="1h", channels=("hook",), prefix="i"), now=now - timedelta(hours=2))
    engine.dispose()
    return str(path)


def _count(side: str, url: str, n: int, ws: Workspace, keep: Path | None = None) -> int:
    db = _outbox(n, ws) if side == "alertd" else None
    # Kept, one file per thread, for callgrind_annotate: where the instructions of a side go.
    out = "/dev/null" if keep is None else str(keep / f"callgrind.{side}-{n}.out")
    command = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}"]
    command += ["--separate-threads=yes"] if keep is not None else []
    command += [sys.executable, "-m"]
    command += ["bench.instructions", "--side", side, "--url", url, "-n", str(n)] + (["--db", db] if db else [])
    done = subprocess.run(command, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    found = _COLLECTED.search(done.stderr)
    if done.returncode != 0 or found is None:
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise SystemExit(f"{side} with {n} notifications failed under valgrind: {tail}")
    return int(found.group(1))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.instructions", description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs=2, default=(1000, 3000), metavar=("N1", "N2"))
    parser.add_argument(
        "--only",
        choices=SIDES,
        nargs="+",
        help="count these sides alone (e.g. the dispatcher while changing it); the ratios need all three",
    )
    parser.add_argument("--keep", type=Path, metavar="DIR", help="keep callgrind's output in DIR, one file per thread")
    parser.add_argument("--side", choices=SIDES, help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("-n", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.side is not None:
        _side(args.side, args.url, args.n, args.db)
        return 0
    if shutil.which("valgrind") is None:
        print("valgrind is not installed: this benchmark counts instructions with valgrind's callgrind tool")
        return 1
    small, large = sorted(args.sizes)
    sides = [side for side in SIDES if args.only is None or side in args.only]
    if args.keep is not None:
        args.keep.mkdir(parents=True, exist_ok=True)
    ws = Workspace()
    sink = SinkProcess()
    per: dict[str, float] = {}
    try:
        for side in sides:
            print(f"… {side} ({small} and {large} notifications under valgrind)", file=sys.stderr, flush=True)
            url = sink.url("/services/T0/B0/hook")
            counts = [_count(side, url, n, ws, args.keep) for n in (small, large)]
            per[side] = (counts[1] - counts[0]) / (large - small)
    finally:
        sink.close()
        ws.close()
    if len(per) < len(SIDES):
        print("side   | instructions per notification")
        print("-------+-------------------------------")
        for side, count in per.items():
            print(f"{side:<6} | {count:>29,.0f}")
        return 0
    bare = per["bare"]
    print("side   | instructions per notification | × bare loop")
    print("-------+-------------------------------+------------")
    for side in SIDES:
        print(f"{side:<6} | {per[side]:>29,.0f} | {per[side] / bare:>10.2f}")
    print(f"dispatch throughput ratio on one core (bare / alertd), for information: {bare / per['alertd']:.3f}")
    own = (per["alertd"] - per["client"]) / bare
    verdict = "PASS" if own <= 1.0 else "FAIL"
    print(f"alertd's own work per notification (claim to record less the client): {own:.2f}× bare (≤ 1.0): {verdict}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

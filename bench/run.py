"""Run alertd's benchmarks and print a table: ``python -m bench.run [--quick] [--only NAME,...] [--runs N]``.

Each benchmark measures alertd and its baseline in the same run, on this machine; with ``--runs N`` the whole
selection runs N times and the table shows medians. Results go to ``bench/results/latest.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import dashboard, dispatch, feeds, lateness, memory, planning, recurrence, startup, templates
from bench.common import Result, SinkProcess, Workspace, median

NAMES = (
    "startup",
    "planning",
    "recurrence",
    "dispatch",
    "lateness",
    "burst",
    "memory",
    "templates",
    "feeds",
    "dashboard",
    "idle",
)
RESULTS = Path(__file__).with_name("results")


def _one_run(names: Sequence[str], *, quick: bool, repeat: int, keep: bool) -> list[Result]:
    ws = Workspace(keep=keep)
    sink = SinkProcess()
    idle: memory.IdleWatch | None = None
    results: list[Result] = []
    failures: list[str] = []

    def attempt(name: str, fn: Callable[[], Result | list[Result]]) -> None:
        print(f"… {name}", file=sys.stderr, flush=True)
        started = time.monotonic()
        try:
            found = fn()
            results.extend(found if isinstance(found, list) else [found])
        except Exception:
            failures.append(name)
            traceback.print_exc()
            results.append(
                Result(name, float("nan"), float("nan"), "", "error", False, details={"error": True}, correct=False)
            )
        print(f"  {name} took {time.monotonic() - started:.1f}s", file=sys.stderr, flush=True)

    try:
        if "idle" in names:
            # Started first: its window of real time overlaps the other benchmarks (it only waits).
            idle = memory.IdleWatch(ws, sink, quick=quick)
        steps: dict[str, Callable[[], Result | list[Result]]] = {
            "startup": lambda: startup.run(ws, quick=quick),
            "planning": lambda: planning.run(ws, quick=quick, repeat=repeat),
            "recurrence": lambda: recurrence.run(ws, quick=quick),
            "dispatch": lambda: dispatch.run(ws, sink, quick=quick, repeat=repeat),
            "lateness": lambda: lateness.run_lateness(ws, sink, quick=quick),
            "burst": lambda: lateness.run_burst(ws, sink, quick=quick),
            "memory": lambda: memory.run_memory(ws, sink, quick=quick),
            "templates": lambda: templates.run(quick=quick),
            "dashboard": lambda: dashboard.run(quick=quick),
            "feeds": lambda: feeds.run(ws, quick=quick),
        }
        for name in NAMES:
            if name in names and name in steps:
                attempt(name, steps[name])
        if idle is not None:
            watch = idle
            attempt("idle", watch.finish)
    finally:
        if idle is not None:
            idle.close()
        sink.close()
        ws.close()
    return results


def _merge(runs: list[list[Result]]) -> list[Result]:
    """Medians over runs of every benchmark's figure, baseline and ratio; every run is kept in the details.

    A benchmark passes when more than half of its runs pass (with an odd number of runs: when its median run does,
    as the targets are read on medians), and only if every notification arrived once in every run.
    """
    merged: list[Result] = []
    # A benchmark may give several rows (startup): rows are merged by their own name, in the order first seen.
    for name in dict.fromkeys(r.name for run in runs for r in run):
        same = [r for run in runs for r in run if r.name == name]
        if not same:
            continue
        if len(same) == 1:
            merged.append(same[0])
            continue
        first = same[0]
        ratio = median(r.ratio for r in same if r.ratio is not None)
        merged.append(
            Result(
                name=name,
                figure=median(r.figure for r in same),
                baseline=median(r.baseline for r in same),
                unit=first.unit,
                target=first.target,
                passed=2 * sum(r.passed for r in same) > len(same) and all(r.correct for r in same),
                correct=all(r.correct for r in same),
                ratio=ratio,
                details={"runs": [asdict(r) for r in same]},
            )
        )
    return merged


def _fmt(value: float | None) -> str:
    if value is None or value != value:
        return "-"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.3g}"


def table(results: Sequence[Result]) -> str:
    rows = [("name", "alertd", "baseline", "unit", "ratio", "target", "result")]
    for r in results:
        verdict = "PASS" if r.passed else "FAIL"
        rows.append((r.name, _fmt(r.figure), _fmt(r.baseline), r.unit, _fmt(r.ratio), r.target, verdict))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [" | ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in rows]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    return "\n".join(lines)


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    p.add_argument("--quick", action="store_true", help="scaled-down sizes and windows (well under a minute)")
    p.add_argument("--only", default=",".join(NAMES), help=f"comma-separated subset of: {', '.join(NAMES)}")
    p.add_argument("--runs", type=int, default=1, help="run the selection this many times; report medians")
    p.add_argument("--repeat", type=int, default=1, help="repetitions inside one run (planning, dispatch)")
    p.add_argument("--keep", action="store_true", help="keep the scratch databases and daemon logs")
    p.add_argument("--output", type=Path, default=RESULTS / "latest.json")
    args = p.parse_args(argv)
    args.names = [n.strip() for n in args.only.split(",") if n.strip()]
    unknown = sorted(set(args.names) - set(NAMES))
    if unknown:
        p.error(f"unknown benchmark(s) {', '.join(unknown)}; choose from {', '.join(NAMES)}")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse(argv)
    runs: list[list[Result]] = []
    load: list[dict[str, list[float]]] = []
    for n in range(args.runs):
        if args.runs > 1:
            print(f"run {n + 1} of {args.runs}", file=sys.stderr, flush=True)
        before = list(os.getloadavg())
        results = _one_run(args.names, quick=args.quick, repeat=args.repeat, keep=args.keep)
        load.append({"start": before, "end": list(os.getloadavg())})
        runs.append(results)
        if args.runs > 1:
            print(table(results), file=sys.stderr, flush=True)
    merged = _merge(runs)
    print(table(merged))
    report: dict[str, Any] = {
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "quick": args.quick,
        "runs": args.runs,
        "python": platform.python_version(),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
        "load_average_1_5_15min": load,
        "results": [asdict(r) for r in merged],
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2, default=str) + "\n", encoding="utf-8")
    errors = [r.name for r in merged if r.details.get("error")]
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())

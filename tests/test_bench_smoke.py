"""The benchmark runner works end to end in its quick mode (timings are not checked: the machine may be busy)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench import instructions, run
from bench.common import Result, SinkProcess, Workspace

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_quick_planning_and_burst_run_and_print_a_table(tmp_path: Path) -> None:
    """``python -m bench.run --quick --only planning,burst`` exits 0, prints the table and writes the JSON."""
    output = tmp_path / "bench.json"
    done = subprocess.run(
        [sys.executable, "-m", "bench.run", "--quick", "--only", "planning,burst", "--output", str(output)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=540,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].split(" | ")[0].strip() == "name"
    for column in ("alertd", "baseline", "ratio", "target", "result"):
        assert column in lines[0]
    names = {line.split(" | ")[0].strip() for line in lines[2:]}
    assert names == {"planning", "burst"}
    report = json.loads(output.read_text(encoding="utf-8"))
    assert [r["name"] for r in report["results"]] == ["planning", "burst"]
    burst = report["results"][1]["details"]
    assert burst["received_distinct"] == burst["notifications"]


@pytest.mark.parametrize("side", ["bare", "client", "alertd"])
def test_each_side_counted_in_instructions_delivers_every_notification(side: str) -> None:
    """What ``bench.instructions`` runs under valgrind, run here without it: every notification reaches the sink."""
    ws, sink = Workspace(), SinkProcess()
    try:
        db = instructions._outbox(40, ws) if side == "alertd" else None
        instructions._side(side, sink.url("/services/T0/B0/hook"), 40, db)
        stats = sink.stats()
    finally:
        sink.close()
        ws.close()
    assert stats["count"] == stats["unique"] == 40


def _result(ratio: float, *, correct: bool = True) -> Result:
    return Result("dispatch", ratio * 100, 100.0, "req/s", "ratio ≥ 0.5", ratio >= 0.5 and correct, correct=correct)


def test_a_benchmark_passes_when_its_median_run_does() -> None:
    """Targets are read on medians: two runs of three at target pass, one of three does not."""
    [passing] = run._merge([[_result(0.55)], [_result(0.46)], [_result(0.52)]])
    [failing] = run._merge([[_result(0.55)], [_result(0.46)], [_result(0.41)]])
    assert passing.passed
    assert passing.ratio == pytest.approx(0.52)
    assert not failing.passed
    assert failing.ratio == pytest.approx(0.46)


def test_a_lost_notification_in_any_run_fails_the_benchmark() -> None:
    """Speed may miss in a minority of runs; delivering every notification once may not."""
    [merged] = run._merge([[_result(0.6)], [_result(0.6)], [_result(0.6, correct=False)]])
    assert not merged.passed
    assert not merged.correct


def test_startup_measures_each_childs_own_peak_memory_and_cpu(tmp_path: Path) -> None:
    """A child that holds 64 MiB peaks above it, a bare interpreter well below, whatever this process holds."""
    from bench import startup

    ballast = b"x" * (96 * 1024 * 1024)  # resident in this process: its children must not inherit the figure
    bare, big = startup.measure(
        [
            [sys.executable, "-c", "pass"],
            [sys.executable, "-c", "b = bytearray(64 * 1024 * 1024); b[::4096] = b'x' * len(b[::4096])"],
        ],
        tmp_path,
    )
    assert len(ballast) > 0
    assert (bare.status, big.status) == (0, 0)
    assert bare.peak_mib < 40 < 64 < big.peak_mib
    assert 0 < bare.cpu < big.cpu


def test_recurrence_bench_keeps_an_unending_rule_to_its_horizon() -> None:
    """``bench.recurrence`` in its quick mode: three simulated years of a daily rule never exceed the bound."""
    from bench import recurrence

    ws = Workspace()
    try:
        rows = recurrence.run_rows(ws, quick=True)
    finally:
        ws.close()
    assert rows.passed, rows.details
    assert rows.figure <= recurrence.HORIZON + 2


def test_the_feed_benchmark_syncs_every_occurrence_and_answers_the_unchanged_feed_from_a_304() -> None:
    """``bench.feeds`` in quick mode: both rows come back, the sync stored every occurrence (1,000 events, 100 weekly
    series of 10), and the unchanged feed cost a 304 (no second sync)."""
    from bench import feeds

    ws = Workspace()
    try:
        sync, unchanged = feeds.run(ws, quick=True)
    finally:
        ws.close()
    assert (sync.name, unchanged.name) == ("feed sync", "feed 304")
    assert sync.details["occurrences"] == 1000 - 100 + 100 * 10
    assert unchanged.figure > 0

"""Reliability suite fixtures: a fresh PostgreSQL database per test and the figures each test reports.

Select the suite with ``pytest -m reliability``. Each test records its figures with the ``figures`` fixture; they
are written to the terminal at the end of the test and again as one table at the end of the run, with or without
``-s``, so CI logs always show what was measured.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from e2e.harness import Harness

# The figures of every reliability test run in this session, in order: (test name, [(figure, value)]).
_REPORTS: list[tuple[str, list[tuple[str, str]]]] = []


class Figures:
    """Named measurements of one test, shown as a two-column table."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.rows: list[tuple[str, str]] = []

    def add(self, figure: str, value: object) -> None:
        text = f"{value:.2f}" if isinstance(value, float) else str(value)
        self.rows.append((figure, text))

    def table(self) -> str:
        width = max([len(f) for f, _ in self.rows] + [6])
        lines = [f"reliability figures: {self.name}"]
        lines += [f"  {figure:<{width}}  {value}" for figure, value in self.rows]
        return "\n".join(lines)


@pytest.fixture
def figures(request: pytest.FixtureRequest) -> Iterator[Figures]:
    """Collects the test's figures; prints them when the test ends (passed or failed)."""
    found = Figures(request.node.name)
    yield found
    if not found.rows:
        return
    _REPORTS.append((found.name, found.rows))
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line("")
        reporter.write_line(found.table())


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not _REPORTS:
        return
    terminalreporter.section("reliability figures")
    for name, rows in _REPORTS:
        found = Figures(name)
        found.rows = rows
        terminalreporter.write_line(found.table())


PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


@pytest.fixture
def fresh_pg(pg_url: str) -> Iterator[str]:
    """A new, empty PostgreSQL database for one test (replicas must migrate it themselves), dropped afterwards.

    Depends on ``pg_url`` for its reachability rule: skipped locally without a server, a failure under CI=true.
    """
    admin = sa.create_engine(PG_SERVER, isolation_level="AUTOCOMMIT")
    name = f"alertd_rel_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield sa.make_url(PG_SERVER).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture
def rel(tmp_path: Path) -> Iterator[Harness]:
    """The end-to-end harness (daemons as subprocesses); every daemon still running is killed at the end."""
    harness = Harness(tmp_path)
    yield harness
    harness.close()

"""Which events carry an unrevoked acknowledgement, read from the acknowledgement rows themselves."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.engine import Engine

from alertd.storage.ackrows import ACK, acked_ids

NOW = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize("many", [1200, 5000])
def test_only_unrevoked_acknowledgements_count_across_many_ids(engine: Engine, many: int) -> None:
    """Many ids asked at once (several IN lists, or one read of every acknowledgement); a revoked row does not
    count."""
    with engine.begin() as conn:
        conn.execute(
            ACK.insert(),
            [
                {"event_id": "s@20260130", "by": "ana", "at": NOW, "via": "cli", "revoked_at": None},
                {"event_id": "s@20260227", "by": "ana", "at": NOW, "via": "cli", "revoked_at": NOW},
                {"event_id": "s@21000101", "by": "ana", "at": NOW, "via": "api", "revoked_at": None},
            ],
        )
        asked = [f"x{i}" for i in range(many)] + ["s@20260130", "s@20260227", "s@21000101"]
        assert acked_ids(conn, asked) == {"s@20260130", "s@21000101"}
        assert acked_ids(conn, []) == set()

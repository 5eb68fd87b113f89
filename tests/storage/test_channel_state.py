"""Channel state in the ``meta`` table: shared by replicas, first writer wins, compare-and-set replace."""

from __future__ import annotations

import asyncio

from sqlalchemy.engine import Engine

from alertd.storage.channel_state import MetaState


async def test_get_of_a_missing_key_is_none(engine: Engine) -> None:
    """Nothing stored yet: None."""
    assert await MetaState(engine).get("slack:card:x") is None


async def test_put_if_absent_keeps_the_first_value(engine: Engine) -> None:
    """The second writer is told the first writer's value and stores nothing."""
    one, two = MetaState(engine), MetaState(engine)
    assert await one.put_if_absent("k", "ts-1") == "ts-1"
    assert await two.put_if_absent("k", "ts-2") == "ts-1"
    assert await two.get("k") == "ts-1"


async def test_racing_writers_agree_on_one_winner(engine: Engine) -> None:
    """Many concurrent put_if_absent calls (as replicas would) all return the same stored value."""
    states = [MetaState(engine) for _ in range(8)]
    results = await asyncio.gather(*(s.put_if_absent("race", f"ts-{i}") for i, s in enumerate(states)))
    assert len(set(results)) == 1
    assert await states[0].get("race") == results[0]


async def test_put_overwrites(engine: Engine) -> None:
    """``put`` stores whatever was there."""
    state = MetaState(engine)
    await state.put("k", "a")
    await state.put("k", "b")
    assert await state.get("k") == "b"


async def test_replace_is_compare_and_set(engine: Engine) -> None:
    """Replacing a stale value loses to whoever replaced it first."""
    state = MetaState(engine)
    await state.put("k", "old")
    assert await state.replace("k", "old", "new-1") == "new-1"
    assert await state.replace("k", "old", "new-2") == "new-1"
    assert await state.replace("gone", "old", "fresh") == "fresh"

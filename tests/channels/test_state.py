"""Channel state keys fit the database column, and the in-process store keeps the same rules as the database's."""

from __future__ import annotations

from alertd.channels.state import KEY_MAX, MemoryState, state_key


def test_long_keys_are_hashed_to_fit_the_column() -> None:
    """A key wider than meta.key becomes its first part and a SHA-256, distinct per input."""
    short = state_key("slack", "card", "desk", "C0123", "vote")
    assert short == "slack:card:desk:C0123:vote"
    long_a = state_key("slack", "card", "desk", "C0123", "e" * 200)
    long_b = state_key("slack", "card", "desk", "C0123", "f" * 200)
    assert long_a.startswith("slack:sha256:")
    assert len(long_a) <= KEY_MAX
    assert long_a != long_b


async def test_memory_state_behaves_the_same() -> None:
    """The in-process state follows the same rules."""
    state = MemoryState()
    assert await state.put_if_absent("k", "a") == "a"
    assert await state.put_if_absent("k", "b") == "a"
    assert await state.replace("k", "x", "c") == "a"
    assert await state.replace("k", "a", "c") == "c"

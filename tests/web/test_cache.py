"""The page cache: bounded, least recently used out first."""

from __future__ import annotations

from alertd.web.cache import PageCache


def test_the_least_recently_used_page_is_dropped_beyond_the_bound() -> None:
    cache = PageCache(size=2)
    cache.put("a", "A")
    cache.put("b", "B")
    assert cache.get("a") == "A"  # now "b" is the least recently used
    cache.put("c", "C")
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == ("A", None, "C")


def test_a_key_put_again_replaces_its_page() -> None:
    cache = PageCache(size=2)
    cache.put("a", "old")
    cache.put("a", "new")
    assert cache.get("a") == "new"

"""The viewer's language and zone, from headers and cookies anyone can send."""

from __future__ import annotations

import httpx
import pytest

from alertd.web.viewer import pick_locale, pick_zone

from .conftest import WRITE_TOKEN, log_in


@pytest.mark.parametrize(
    ("header", "locale"),
    [
        (None, "en"),
        ("", "en"),
        ("de-DE,de;q=0.9,en;q=0.8", "de"),
        ("pt-BR, ja;q=0.4, fr;q=0.6", "fr"),
        ("zh-Hant-TW", "zh"),
        ("fr;q=0, es", "es"),
        ("de;q=banana, ja", "ja"),
        ("xx, yy, *", "en"),
    ],
)
def test_the_best_shipped_locale_is_picked_from_accept_language(header: str | None, locale: str) -> None:
    assert pick_locale(header) == locale


def test_a_huge_accept_language_is_read_only_up_to_its_bound() -> None:
    assert pick_locale("xx," * 100_000 + "de") == "en"


@pytest.mark.parametrize(
    "name", ["../../etc/passwd", "/etc/localtime", "Europe/../../x", "Mars/Olympus", "A" * 10_000, "", None]
)
def test_a_zone_not_in_the_tz_database_is_ignored(name: str | None) -> None:
    assert pick_zone(name) is None


def test_the_first_valid_zone_wins() -> None:
    assert pick_zone("nowhere", "Asia/Seoul", "Europe/Berlin") == "Asia/Seoul"


async def test_a_form_flooded_with_fields_is_refused_not_crashed(client: httpx.AsyncClient) -> None:
    await log_in(client, WRITE_TOKEN)
    body = "&".join(f"f{i}=x" for i in range(5000))
    answer = await client.post(
        "/history/x/cancel", content=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert answer.status_code == 403
    assert "CSRF token is missing" in answer.text


async def test_a_form_larger_than_the_body_bound_is_refused_before_it_is_read(client: httpx.AsyncClient) -> None:
    await log_in(client, WRITE_TOKEN)
    answer = await client.post("/history/x/cancel", content=b"a=" + b"x" * 2_000_000)
    assert answer.status_code == 413


async def test_a_garbled_tz_cookie_falls_back_to_the_events_zone(client: httpx.AsyncClient) -> None:
    await log_in(client, WRITE_TOKEN)
    client.cookies.set("alertd_tz", "%00%ff../../")
    assert "each event&#39;s own zone" in (await client.get("/")).text

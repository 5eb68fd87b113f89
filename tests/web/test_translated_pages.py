"""The history, timeline, channels and event pages speak the viewer's language, not only the board."""

from __future__ import annotations

import httpx
import pytest

from .conftest import READ_TOKEN, SEED, WebDaemon, client_for, log_in

GERMAN = {"Accept-Language": "de-DE,de;q=0.9"}


@pytest.mark.parametrize(
    ("path", "german", "english"),
    [
        ("/history", "Letzter Fehler", "Last error"),
        ("/plan", "Tage voraus", "Days ahead"),
        ("/channels", "Letzte Zustellung (UTC)", "Last delivery (UTC)"),
        ("/events/truce-expiry", "Festgelegt in der Kalenderdatei", "Defined in the calendar file"),
    ],
)
async def test_a_page_reads_in_the_viewers_language(
    client: httpx.AsyncClient, path: str, german: str, english: str
) -> None:
    await log_in(client, READ_TOKEN)
    html = (await client.get(path, headers=GERMAN)).text
    assert german in html
    assert english not in html


async def test_a_japanese_viewer_gets_japanese_labels_on_the_timeline(client: httpx.AsyncClient) -> None:
    await log_in(client, READ_TOKEN)
    html = (await client.get("/plan", headers={"Accept-Language": "ja"})).text
    assert "先の日数" in html


async def test_the_channels_pacing_is_worded_in_the_viewers_language(start_web: WebDaemon) -> None:
    calendar = SEED.read_text(encoding="utf-8").replace(
        "console: {type: console}", "console: {type: console, rate_limit: {per_minute: 1, burst: 2}}", 1
    )
    daemon = await start_web(calendar=calendar, api_read_token=READ_TOKEN)
    async with client_for(daemon) as http:
        await log_in(http, READ_TOKEN)
        assert "1 per 60 s, bursts of 2" in (await http.get("/channels")).text
        assert "1 alle 60 s, Schübe bis 2" in (await http.get("/channels", headers=GERMAN)).text

"""The dashboard's pages through the daemon's whole app (API and pages), in memory: login, board, live, refusals."""

from __future__ import annotations

import httpx

from alertd.daemon import Daemon

from .conftest import READ_TOKEN, WRITE_TOKEN, WebDaemon, client_for, log_in, post_login

SECRET_PATH = "hook-" + "s3cr3t-path"
WEBHOOK_CALENDAR = f"""\
version: 1
timezone: America/New_York
defaults: {{reminders: [1d], notify: [hook], countdown: false}}
channels:
  hook: {{type: webhook, url: "https://hooks.example.net/{SECRET_PATH}"}}
events:
  - {{id: launch, title: Launch day, at: 2025-11-10}}
"""


async def test_a_page_without_a_session_sends_the_browser_to_the_login_form(client: httpx.AsyncClient) -> None:
    answer = await client.get("/history?state=dead")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login?next=%2Fhistory%3Fstate%3Ddead"


async def test_a_wrong_token_is_refused_beside_the_field_and_sets_no_cookie(client: httpx.AsyncClient) -> None:
    answer = await post_login(client, token="not-" + "the-right-one-at-all")
    assert answer.status_code == 401
    assert 'aria-invalid="true"' in answer.text
    assert "neither ALERTD_API_TOKEN nor ALERTD_API_READ_TOKEN" in answer.text
    assert "set-cookie" not in answer.headers


async def test_logging_in_sets_an_httponly_strict_expiring_cookie(client: httpx.AsyncClient) -> None:
    answer = await post_login(client, token=WRITE_TOKEN, next="/history")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/history"
    cookie = answer.headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "samesite=strict" in cookie
    assert "max-age=43200" in cookie
    # Plain HTTP here; behind an HTTPS proxy uvicorn reports https and the cookie is marked Secure.
    assert "secure" not in cookie.replace("samesite", "")


async def test_login_never_redirects_to_another_site(client: httpx.AsyncClient) -> None:
    answer = await post_login(client, token=WRITE_TOKEN, next="//evil.example/")
    assert answer.headers["location"] == "/"


async def test_the_board_lists_the_seed_events_with_countdowns_in_the_viewers_zone(
    client: httpx.AsyncClient,
) -> None:
    await log_in(client, READ_TOKEN)
    html = (await client.get("/?tz=Europe/Berlin")).text
    assert "US–China tariff truce expires" in html
    assert "in 10 days" in html
    assert "06:00 CET" in html
    assert "Times counted in your zone, Europe/Berlin." in html


async def test_an_unknown_zone_falls_back_to_each_events_own(client: httpx.AsyncClient) -> None:
    await log_in(client, READ_TOKEN)
    html = (await client.get("/?tz=Mars/Olympus_Mons")).text
    assert "each event&#39;s own zone" in html


async def test_the_board_follows_accept_language(client: httpx.AsyncClient) -> None:
    await log_in(client, READ_TOKEN)
    html = (await client.get("/", headers={"Accept-Language": "fr-CH, de;q=0.5"})).text
    assert '<html lang="fr">' in html
    assert "demain" in html


async def test_pages_carry_a_content_security_policy_without_inline_script(client: httpx.AsyncClient) -> None:
    await log_in(client, READ_TOKEN)
    answer = await client.get("/")
    assert "default-src 'self'" in answer.headers["content-security-policy"]
    assert "<script>" not in answer.text


async def test_the_live_revision_changes_when_an_event_changes(daemon: Daemon, client: httpx.AsyncClient) -> None:
    await log_in(client, WRITE_TOKEN)
    before = (await client.get("/live")).json()["rev"]
    assert (await client.get("/live")).json()["rev"] == before
    bearer = {"Authorization": f"Bearer {WRITE_TOKEN}"}
    body = {"id": "extra", "title": "Extra", "start": "2025-12-01T10:00", "timezone": "America/New_York"}
    assert (await client.post("/api/v1/events", json=body, headers=bearer)).status_code == 201
    assert (await client.get("/live")).json()["rev"] != before


async def test_live_without_a_session_is_refused(client: httpx.AsyncClient) -> None:
    assert (await client.get("/live")).status_code == 401


async def test_with_no_token_configured_pages_read_without_login_and_writes_are_refused(
    start_web: WebDaemon,
) -> None:
    daemon = await start_web()
    async with client_for(daemon) as http:
        page = await http.get("/")
        assert page.status_code == 200
        assert "No token configured: read only" in page.text
        refused = await http.post("/history/anything/cancel", data={"csrf": "x"})
        assert refused.status_code == 403
        assert "read-only" in refused.json()["error"]


async def test_no_page_shows_a_channels_url(start_web: WebDaemon) -> None:
    daemon = await start_web(calendar=WEBHOOK_CALENDAR, api_token=WRITE_TOKEN)
    async with client_for(daemon) as http:
        await log_in(http, WRITE_TOKEN)
        for path in ("/", "/history", "/history?q=hook"):
            assert SECRET_PATH not in (await http.get(path)).text, path


async def test_the_static_files_are_served_from_the_package(client: httpx.AsyncClient) -> None:
    css = await client.get("/static/alertd.css")
    assert css.status_code == 200
    assert "text/css" in css.headers["content-type"]
    assert (await client.get("/static/alertd.js")).status_code == 200


async def test_the_board_for_a_hundred_events_weighs_under_150_kb_with_its_css_and_script(
    start_web: WebDaemon,
) -> None:
    from bench.dashboard import calendar_text

    daemon = await start_web(calendar=calendar_text(100))
    async with client_for(daemon) as http:
        html = (await http.get("/?tz=Europe/Paris")).content
        assert html.count(b"<article") == 100
        assets = [(await http.get(f"/static/alertd.{ext}")).content for ext in ("css", "js")]
    assert len(html) + sum(len(a) for a in assets) <= 150 * 1024


async def test_the_board_is_served_again_from_its_cache_until_something_changes(
    daemon: Daemon, client: httpx.AsyncClient
) -> None:
    await log_in(client, WRITE_TOKEN)
    first = (await client.get("/")).text
    assert (await client.get("/")).text == first
    bearer = {"Authorization": f"Bearer {WRITE_TOKEN}"}
    body = {"id": "extra", "title": "Extra talks", "start": "2025-12-01T10:00", "timezone": "America/New_York"}
    assert (await client.post("/api/v1/events", json=body, headers=bearer)).status_code == 201
    assert "Extra talks" in (await client.get("/")).text


async def test_the_boards_labels_follow_the_language_too(client: httpx.AsyncClient) -> None:
    await log_in(client, READ_TOKEN)
    html = (await client.get("/?tz=Europe/Berlin", headers={"Accept-Language": "de"})).text
    assert "Zeiten in Ihrer Zone gezählt, Europe/Berlin." in html
    assert ">Abmelden<" in html


async def test_the_live_revision_is_the_same_on_every_replica_of_one_database(daemon: Daemon) -> None:
    from dataclasses import replace

    from alertd.web.queries import live_revision

    # Another replica holds an equal calendar in another object.
    copy = replace(daemon.calendar)
    assert copy is not daemon.calendar
    assert live_revision(daemon.read_engine, copy) == live_revision(daemon.read_engine, daemon.calendar)


async def test_a_calendar_file_reload_moves_the_live_revision_and_shows_on_the_board(
    daemon: Daemon, client: httpx.AsyncClient
) -> None:
    import asyncio

    await log_in(client, READ_TOKEN)
    before = (await client.get("/live")).json()["rev"]
    text = daemon.calendar_path.read_text(encoding="utf-8")
    daemon.calendar_path.write_text(text.replace("US–China tariff truce expires", "Truce expiry, renamed"), "utf-8")
    daemon.request_reload()
    for _ in range(100):
        await asyncio.sleep(0.05)
        if (await client.get("/live")).json()["rev"] != before:
            break
    else:
        raise AssertionError("the live revision did not move within 5 s of the reload")
    assert "Truce expiry, renamed" in (await client.get("/")).text

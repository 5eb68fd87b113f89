"""The dashboard in headless Chromium against a daemon this module starts (seed calendar, fixed clock), with a
webhook receiver on 127.0.0.1. Few tests, each a user's path through the pages; the rest is unit-tested."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page
from support.daemons import ServedDaemon
from support.receiver import Receiver

from alertd.clock import FixedClock

from .conftest import AXE, NOW, READ_TOKEN, SEED, WRITE_TOKEN

Served = tuple[str, Receiver]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    receiver = Receiver().start_in_thread()
    calendar = (
        SEED.read_text(encoding="utf-8")
        .replace("defaults:\n", "defaults:\n  notify: [console, hook]\n", 1)
        .replace(
            "  console: {type: console}\n",
            f'  console: {{type: console}}\n  hook: {{type: webhook, url: "{receiver.url("/hook")}"}}\n',
            1,
        )
    )
    daemon = ServedDaemon(
        tmp_path_factory.mktemp("web"),
        calendar,
        FixedClock(NOW),
        api_token=WRITE_TOKEN,
        api_read_token=READ_TOKEN,
        allow_private_targets=True,
    )
    base = daemon.start()
    summit = {"id": "follow-up", "title": "Follow-up talks", "start": "2025-11-20T10:00", "timezone": "Asia/Seoul"}
    added = httpx.post(f"{base}/api/v1/events", json=summit, headers={"Authorization": "Bearer " + WRITE_TOKEN})
    assert added.status_code == 201, added.text
    yield base, receiver
    daemon.stop()
    receiver.close()


class Console:
    """Every console error and uncaught exception of a page."""

    def __init__(self, page: Page) -> None:
        self.errors: list[str] = []
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(str(e)))


def _context(browser: Browser, zone: str = "Europe/Berlin", **options: Any) -> BrowserContext:
    return browser.new_context(timezone_id=zone, locale="en-GB", **options)


def _log_in(page: Page, base: str, token: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("API token").fill(token)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base}/")


def _axe_problems(page: Page) -> list[str]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def test_login_then_the_board_counts_down_in_the_browsers_own_zone(browser: Browser, served: Served) -> None:
    base, _ = served
    for zone, countdown, shown in (
        ("Europe/Berlin", "in 10 days", "06:00 CET"),
        # 10 Nov begins at 21:00 on 9 Nov in Los Angeles: a viewer there counts nine days.
        ("America/Los_Angeles", "in 9 days", "21:00 PST"),
    ):
        context = _context(browser, zone)
        page = context.new_page()
        console = Console(page)
        _log_in(page, base, READ_TOKEN)
        page.wait_for_selector(f"text=Times counted in your zone, {zone}.")
        card = page.locator("article[data-event=truce-expiry]")
        assert card.locator(".countdown").inner_text() == countdown
        assert shown in card.locator(".when-viewer").inner_text()
        assert "America/New_York" in card.locator(".when-own").inner_text()
        assert console.errors == []
        context.close()


def test_every_page_passes_axe_without_serious_or_critical_violations(browser: Browser, served: Served) -> None:
    base, _ = served
    # The pages forbid inline script (CSP); axe is injected as one, so this context alone bypasses the policy.
    context = _context(browser, bypass_csp=True)
    page = context.new_page()
    console = Console(page)
    page.goto(f"{base}/login")
    assert _axe_problems(page) == [], "/login"
    _log_in(page, base, WRITE_TOKEN)
    for path in ("/", "/plan", "/history", "/channels", "/events/new", "/events/follow-up", "/events/truce-expiry"):
        page.goto(base + path)
        page.wait_for_load_state("networkidle")
        assert _axe_problems(page) == [], path
    assert console.errors == []
    context.close()


def test_history_filters_and_pages_older_rows(browser: Browser, served: Served) -> None:
    base, _ = served
    context = _context(browser)
    page = context.new_page()
    _log_in(page, base, READ_TOKEN)
    page.goto(f"{base}/history?limit=5")
    first = page.locator("tbody tr").all_inner_texts()
    assert len(first) == 5
    page.get_by_role("link", name="Older").click()
    second = page.locator("tbody tr").all_inner_texts()
    assert second
    assert not set(first) & set(second)
    page.get_by_label("Event").fill("truce-expiry")
    page.get_by_label("State").select_option("pending")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url("**/history?*event=truce-expiry*")
    rows = page.locator("tbody tr").all_inner_texts()
    assert rows
    assert all("truce-expiry" in r and "pending" in r for r in rows)
    context.close()


def test_a_read_token_sees_no_action_and_a_form_without_its_csrf_field_is_refused(
    browser: Browser, served: Served
) -> None:
    base, _ = served
    reader = _context(browser)
    page = reader.new_page()
    _log_in(page, base, READ_TOKEN)
    page.goto(f"{base}/history?state=pending")
    assert page.get_by_role("button", name="Cancel").count() == 0
    assert "Signed in: read only" in page.inner_text("header")
    reader.close()

    writer = _context(browser)
    page = writer.new_page()
    _log_in(page, base, WRITE_TOKEN)
    page.goto(f"{base}/history?state=pending")
    form = page.locator("form[action$='/cancel']").first
    form.locator("input[name=csrf]").evaluate("e => e.remove()")
    form.get_by_role("button").click()
    page.wait_for_selector("text=CSRF token is missing or stale")
    assert page.locator("h1").inner_text() == "Refused"
    writer.close()


def _change_notices(receiver: Receiver, event_id: str) -> int:
    return sum(
        1
        for r in list(receiver.requests)
        if r.json().get("kind") == "change" and (r.json().get("event") or {}).get("id") == event_id
    )


def test_moving_an_event_sends_one_change_notice_and_the_open_board_updates(browser: Browser, served: Served) -> None:
    base, receiver = served
    context = _context(browser)
    board = context.new_page()
    console = Console(board)
    _log_in(board, base, WRITE_TOKEN)
    card = board.locator("article[data-event=follow-up]")
    assert "20 Nov 2025" in card.locator(".when-own").inner_text()
    before = _change_notices(receiver, "follow-up")

    editor = context.new_page()
    editor.goto(f"{base}/events/follow-up")
    editor.get_by_label("New start").fill("2025-11-21T10:00")
    editor.get_by_role("button", name="Preview change").click()
    editor.wait_for_selector("text=A change notice to: console, hook.")
    editor.get_by_role("button", name="Save change").click()
    editor.wait_for_selector("text=Saved: the change is stored")

    # The board, left open in the other tab, picks the change up by itself within two seconds.
    board.wait_for_function(
        "() => document.querySelector('article[data-event=follow-up] .when-own').textContent.includes('21 Nov 2025')",
        timeout=2500,
    )
    deadline = time.monotonic() + 5
    while _change_notices(receiver, "follow-up") < before + 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)  # long enough for a duplicate to show up, were one sent
    assert _change_notices(receiver, "follow-up") == before + 1
    assert console.errors == []
    context.close()


def test_a_file_owned_event_has_no_edit_form_but_its_file_and_line(browser: Browser, served: Served) -> None:
    base, _ = served
    context = _context(browser)
    page = context.new_page()
    _log_in(page, base, WRITE_TOKEN)
    page.get_by_role("link", name="US–China tariff truce expires", exact=True).click()
    page.wait_for_url(f"{base}/events/truce-expiry")
    assert page.locator("form#change-form").count() == 0
    assert "calendar.yaml:" in page.locator("#file-owned").inner_text()
    context.close()


def test_send_test_from_the_channels_page_shows_the_receivers_answer(browser: Browser, served: Served) -> None:
    base, receiver = served
    context = _context(browser)
    page = context.new_page()
    _log_in(page, base, WRITE_TOKEN)
    page.goto(f"{base}/channels")
    count = len(receiver.requests)
    page.get_by_role("button", name="Send test to hook").click()
    page.wait_for_selector("#test-result")
    assert page.locator("#test-result").inner_text().startswith("Send-test hook: delivered")
    assert len(receiver.requests) == count + 1
    assert receiver.requests[-1].json()["kind"] == "test"
    context.close()


def test_acknowledging_from_the_event_page_shows_the_chip_and_withdrawing_brings_the_form_back(
    browser: Browser, served: Served
) -> None:
    base, receiver = served
    # axe is injected as an inline script: this context alone bypasses the pages' CSP.
    context = _context(browser, bypass_csp=True)
    page = context.new_page()
    console = Console(page)
    _log_in(page, base, WRITE_TOKEN)
    before = sum(1 for r in list(receiver.requests) if r.json().get("kind") == "ack")
    page.goto(f"{base}/events/truce-expiry")
    page.get_by_label("Your name").fill("ana")
    page.get_by_label("Note for the team (optional)").fill("extension announced")
    page.get_by_role("button", name="Acknowledge").click()
    page.wait_for_selector("text=Acknowledged: its remaining reminders")
    assert "acknowledged by ana at 2025-10-31 12:00 UTC via dashboard" in page.locator("#ack").inner_text()
    assert _axe_problems(page) == []
    page.goto(f"{base}/")
    assert page.locator("article[data-event=truce-expiry] .chip-acknowledged").count() == 1

    page.goto(f"{base}/events/truce-expiry")
    page.get_by_label("Your name").fill("ana")
    page.get_by_role("button", name="Withdraw").click()
    page.wait_for_selector("text=Acknowledgement withdrawn")
    assert page.locator("form#ack-form").count() == 1
    deadline = time.monotonic() + 5
    while sum(1 for r in list(receiver.requests) if r.json().get("kind") == "ack") < before + 2:
        assert time.monotonic() < deadline, "the webhook got no acknowledged and withdrawn notices"
        time.sleep(0.05)
    assert console.errors == []
    context.close()


GOOGLE = SEED.parents[1] / "tests" / "calendar" / "feeds" / "google.ics"
SERIES_CALENDAR = """\
version: 1
timezone: America/New_York
defaults: {{reminders: [1d], notify: [console], countdown: false}}
channels:
  console: {{type: console}}
sources:
  - {{id: desk, path: "{feed}", refresh: 1h}}
events:
  - id: standup
    title: Daily stand-up
    at: 2025-10-01T09:00
    repeat: FREQ=DAILY
"""


@pytest.fixture(scope="module")
def served_series(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("series")
    feed = folder / "google.ics"
    feed.write_bytes(GOOGLE.read_bytes())
    daemon = ServedDaemon(folder, SERIES_CALENDAR.format(feed=feed), FixedClock(NOW), api_token=WRITE_TOKEN)
    base = daemon.start()
    yield base
    daemon.stop()


def test_a_daily_series_is_one_card_that_opens_every_occurrence_and_feed_events_are_read_only(
    browser: Browser, served_series: str
) -> None:
    base = served_series
    # axe is injected as an inline script, so this context bypasses the pages' CSP (as the axe test above does).
    context = _context(browser, zone="America/New_York", bypass_csp=True)
    page = context.new_page()
    console = Console(page)
    _log_in(page, base, WRITE_TOKEN)
    deadline = time.monotonic() + 10
    while page.locator(".chip-feed").count() == 0 and time.monotonic() < deadline:
        time.sleep(0.2)  # the feed is read in the background after the start
        page.reload()
    cards = page.locator('ul.cards[aria-label] article[data-event^="standup@"]')
    assert cards.count() == 1
    assert cards.locator(".chip-repeats").inner_text() == "repeats"
    assert _axe_problems(page) == [], "/ with a series and a feed"
    cards.get_by_role("link", name="All ").click()
    page.wait_for_url(f"{base}/?series=standup")
    assert page.locator('article[data-event^="standup@"]').count() > 300
    page.goto(f"{base}/")
    page.locator("article:has(.chip-feed) h2 a").first.click()
    page.wait_for_selector("#feed-owned")
    assert "calendar feed 'desk'" in page.locator("#feed-owned").inner_text()
    assert page.locator("form#change-form").count() == 0
    assert console.errors == []
    context.close()

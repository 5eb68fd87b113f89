"""Screenshots of every dashboard page at desktop and phone widths, for docs/dashboard/ and the README.

Run from the repository root: ``PYTHONPATH=tests .venv/bin/python -m web.screenshots docs/dashboard``. The daemon
serves the seed calendar at a fixed instant (31 Oct 2025 12:00 UTC) with one database-owned event, so the pictures
only change when the pages do.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import httpx
from playwright.sync_api import sync_playwright
from support.daemons import ServedDaemon

from alertd.clock import FixedClock

from .conftest import CHROMIUM, NOW, READ_TOKEN, SEED, WRITE_TOKEN

SIZES = {"desktop": (1280, 860), "phone": (390, 844)}


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        daemon = ServedDaemon(
            Path(folder),
            SEED.read_text(encoding="utf-8"),
            FixedClock(NOW),
            api_token=WRITE_TOKEN,
            api_read_token=READ_TOKEN,
        )
        base = daemon.start()
        summit = {
            "id": "follow-up",
            "title": "Follow-up talks on the truce",
            "start": "2025-11-20T10:00",
            "timezone": "Asia/Seoul",
            "status": "tentative",
            "tags": ["trade", "talks"],
        }
        httpx.post(f"{base}/api/v1/events", json=summit, headers={"Authorization": "Bearer " + WRITE_TOKEN})
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
                for label, (width, height) in SIZES.items():
                    context = browser.new_context(
                        viewport={"width": width, "height": height}, timezone_id="Europe/Berlin", locale="en-GB"
                    )
                    page = context.new_page()
                    page.goto(f"{base}/login")
                    page.screenshot(path=str(out / f"login-{label}.png"))
                    page.get_by_label("API token").fill(WRITE_TOKEN)
                    page.get_by_role("button", name="Log in").click()
                    page.wait_for_url(f"{base}/")
                    page.wait_for_selector("text=Times counted in your zone")
                    for name, path in (
                        ("board", "/"),
                        ("plan", "/plan"),
                        ("history", "/history"),
                        ("channels", "/channels"),
                    ):
                        page.goto(base + path)
                        page.wait_for_load_state("networkidle")
                        page.screenshot(path=str(out / f"{name}-{label}.png"))
                    page.goto(f"{base}/events/follow-up")
                    page.get_by_label("New start").fill("2025-11-21T10:00")
                    page.get_by_role("button", name="Preview change").click()
                    page.wait_for_selector("text=What saving will send")
                    page.screenshot(path=str(out / f"edit-{label}.png"), full_page=label == "desktop")
                    context.close()
                browser.close()
        finally:
            daemon.stop()


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/dashboard"))

"""Open luigid's visualiser in Debian's headless chromium, driven by Playwright.

The browser is /usr/bin/chromium (installed by .ci/run), never a downloaded one,
started with a fresh profile and no background traffic. Without it the browser
tests skip locally, but fail on CI (``CI=true``), where .ci/run must have installed it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
PAGE_TIMEOUT_MS = 20_000


def require_chromium() -> None:
    if CHROMIUM.exists():
        return
    message = f"{CHROMIUM} is missing: install Debian's chromium (see .ci/run)"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


@contextmanager
def visualiser_page(scheduler_url: str, profile_dir: Path, fragment: str = "") -> Iterator:
    """A Playwright page showing ``<scheduler_url>/static/visualiser/index.html#<fragment>``."""
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            user_data_dir=str(profile_dir),  # fresh per test: no state from earlier runs
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_FLAGS,
            viewport={"width": 1400, "height": 900},
        )
        try:
            page = context.new_page()
            page.set_default_timeout(PAGE_TIMEOUT_MS)
            page.goto(f"{scheduler_url}/static/visualiser/index.html#{fragment}")
            yield page
        finally:
            context.close()

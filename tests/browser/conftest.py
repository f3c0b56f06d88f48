"""One headless Chromium (Debian's /usr/bin/chromium, driven by Playwright) for the
browser tests, and the gateway's URL, where the web client is served."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
# Debian's Chromium, headless and quiet: no sandbox (root in CI), no GPU, no background
# traffic to Google, no first-run UI. Playwright gives each launch a fresh profile
# (user-data-dir); never `playwright install`: the browser comes from apt.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def missing_chromium_reason() -> str | None:
    if CHROMIUM.exists():
        return None
    return f"{CHROMIUM} is missing (Debian: apt-get install -y chromium)"


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[object]:
    reason = missing_chromium_reason()
    if reason is not None:
        pytest.fail(f"{reason}; make test installs it (as root) or says how", pytrace=False)
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        await browser.close()


@pytest.fixture
def web_url(stack: object) -> str:
    """The gateway serves the pages, so page and WebSocket share one (allowed) origin."""
    gateway = stack.endpoints["gateway"]  # type: ignore[attr-defined]
    return f"http://127.0.0.1:{gateway.port}"


@pytest.fixture
async def js_errors() -> AsyncIterator[list[str]]:
    """Uncaught script errors on any page of the test: there must be none."""
    errors: list[str] = []
    yield errors
    assert errors == []

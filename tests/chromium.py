"""Headless Chromium (Debian's `chromium` and `chromium-driver`) driven by Selenium.

Selenium calls block: a test whose server runs on its own event loop calls them through
`asyncio.to_thread`. The tests skip without Chromium, and fail instead under CI.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

CHROMIUM_FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--no-first-run",
    "--window-size=1280,900",
]
# No name resolves but loopback's: nothing the page asks for can leave this machine.
OFFLINE_FLAG = "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"


def _binaries() -> tuple[str, str] | None:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    return (browser, driver) if browser and driver else None


def require_chromium() -> tuple[str, str]:
    found = _binaries()
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail("chromium and chromedriver are required under CI (.ci/run installs them)")
        pytest.skip("chromium and chromedriver are not installed")
    return found


@contextmanager
def chromium(*, offline: bool = False) -> Iterator[Any]:
    """A fresh headless Chromium (own profile), logging the page's network requests."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    browser, driver_path = require_chromium()
    os.environ.setdefault("SE_OFFLINE", "true")  # Selenium Manager must not download drivers
    with tempfile.TemporaryDirectory(prefix="chatgql-chromium-") as profile:
        options = webdriver.ChromeOptions()
        options.binary_location = browser
        for flag in [*CHROMIUM_FLAGS, f"--user-data-dir={profile}"]:
            options.add_argument(flag)
        if offline:
            options.add_argument(OFFLINE_FLAG)
        options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
        driver = webdriver.Chrome(options=options, service=Service(executable_path=driver_path))
        try:
            driver.set_page_load_timeout(30)
            driver.set_script_timeout(30)
            yield driver
        finally:
            driver.quit()


def requested_urls(driver: Any) -> list[str]:
    """Every URL the browser asked for since the last call (Chrome's performance log)."""
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
        elif message["method"] == "Network.webSocketCreated":
            urls.append(message["params"]["url"])
    return urls

"""Headless Chromium for the browser tests, driven with Selenium through Debian's chromedriver.

`make browser` installs chromium, chromium-driver and a CJK font. The flags keep Chromium from
phoning home (on a closed network those connections are refused and slow everything down) and give
every session a fresh profile. Screenshots go to test-output/screenshots/ (git-ignored).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import pytest
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, TimeoutException
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from tests.conftest import REPO

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
SCREENSHOTS = REPO / "test-output" / "screenshots"
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1400,1000",
    "--lang=en-US",
)

T = TypeVar("T")


@contextmanager
def chromium() -> Iterator[WebDriver]:
    """A headless Chromium with a new temporary profile; quit (and the profile removed) afterwards."""
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        pytest.fail("headless Chromium is not installed: `make browser` installs it")
    with tempfile.TemporaryDirectory(prefix="newsflow-chromium-") as profile:
        options = Options()
        options.binary_location = str(CHROMIUM)
        for flag in (*FLAGS, f"--user-data-dir={profile}"):
            options.add_argument(flag)
        driver = webdriver.Chrome(options=options, service=Service(executable_path=str(CHROMEDRIVER)))
        try:
            driver.set_page_load_timeout(60)
            yield driver
        finally:
            driver.quit()


def wait_for(driver: WebDriver, what: str, condition: Callable[[WebDriver], T | None], timeout_s: float = 60) -> T:
    """What `condition` returns once it is truthy; fails the test, naming `what`, after `timeout_s`."""
    try:
        waiting = WebDriverWait(
            driver, timeout_s, poll_frequency=0.5, ignored_exceptions=[StaleElementReferenceException]
        )
        return waiting.until(lambda d: condition(d) or False)
    except TimeoutException:
        screenshot(driver, "timeout")
        raise AssertionError(f"timed out after {timeout_s:.0f}s waiting for {what} on {driver.current_url}") from None


def screenshot(driver: WebDriver, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    assert driver.save_screenshot(str(path)), f"could not save {path}"
    return path

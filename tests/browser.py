"""Debian's chromium, headless, driven through chromedriver (selenium), for the tests that look
at a page the way a user does. ``scripts/test.sh`` installs both; without them these tests skip
and say why. Screenshots go to ``test-output/`` (gitignored) and their paths are printed."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service

OUTPUT = Path(__file__).resolve().parent.parent / "test-output"
# The closed network refuses chromium's background connections: switch them off.
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--window-size=1100,1400")


@contextmanager
def chromium() -> Iterator[webdriver.Chrome]:
    binary = shutil.which("chromium")
    driver = shutil.which("chromedriver")
    if binary is None or driver is None:
        pytest.skip("Debian's chromium and chromium-driver are not installed "
                    "(scripts/test.sh installs them with apt-get when run as root)")
    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
        options = webdriver.ChromeOptions()
        options.binary_location = binary
        for flag in (*FLAGS, f"--user-data-dir={profile}"):
            options.add_argument(flag)
        try:
            browser = webdriver.Chrome(options=options, service=Service(executable_path=driver))
        except WebDriverException:  # chromium slow to start on a loaded machine: once more
            browser = webdriver.Chrome(options=options, service=Service(executable_path=driver))
        browser.set_page_load_timeout(30)
        try:
            yield browser
        finally:
            browser.quit()


def screenshot(browser: webdriver.Chrome, name: str) -> Path:
    """The whole page as a PNG in test-output/; the path is printed (pytest -s shows it)."""
    OUTPUT.mkdir(exist_ok=True)
    height = browser.execute_script("return document.documentElement.scrollHeight")
    browser.set_window_size(1100, min(int(height) + 40, 8000))
    path = OUTPUT / f"{name}.png"
    browser.save_screenshot(str(path))
    print(f"screenshot: {path}")
    return path

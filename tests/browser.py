"""Headless Chromium for page tests: the DOM after the page's scripts ran, and a screenshot.

scripts/install-test-deps.sh installs Debian's chromium; where it cannot be installed the tests that need
it are skipped with that reason (never silently passed).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

WIDTH, HEIGHT = 1280, 900
RUN_SECONDS = 90


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    pytest.skip("chromium is not installed (scripts/install-test-deps.sh installs it with apt-get); "
                "the page was not checked in a browser")
    raise AssertionError("unreachable")


def _run(url: str, *flags: str, profile: Path) -> str:
    command = [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
               "--no-first-run", f"--user-data-dir={profile}", f"--window-size={WIDTH},{HEIGHT}",
               "--virtual-time-budget=4000", *flags, url]
    result = subprocess.run(command, capture_output=True, text=True, timeout=RUN_SECONDS)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def rendered_dom(url: str, profile: Path) -> str:
    """The document as the browser has it once the page's scripts ran (a 1280 px wide window)."""
    return _run(url, "--dump-dom", profile=profile)


def screenshot(url: str, path: Path, profile: Path) -> Path:
    _run(url, f"--screenshot={path}", profile=profile)
    assert path.stat().st_size > 10_000  # a real picture, not a blank page
    return path


def scroll_width(dom: str) -> int:
    """What the page wrote into <html data-scroll-width>: its full width in px after rendering."""
    match = re.search(r'<html[^>]*data-scroll-width="(\d+)"', dom)
    assert match, "the page did not render (no data-scroll-width on <html>)"
    return int(match.group(1))

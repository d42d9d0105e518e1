"""Headless Chromium for the report tests: dump the rendered DOM and take a screenshot.

The flags keep Chromium off the network (this machine has none) and sandbox-free
as root. A page whose scripts fail still renders its static parts, so the
tests check both the DOM after scripts ran and a screenshot a person can read.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)


def chromium() -> str:
    """The browser binary; in CI its absence is a failure, elsewhere a skip with the fix."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    if os.environ.get("CI"):
        pytest.fail("chromium is not installed (apt-get install chromium chromium-driver)", pytrace=False)
    pytest.skip("chromium is not installed here (apt-get install chromium)")


def render(page: Path, screenshot: Path, profile: Path) -> str:
    """The page's DOM after its scripts ran; also writes a full-length screenshot."""
    browser = chromium()
    common = [browser, *FLAGS, f"--user-data-dir={profile}", "--virtual-time-budget=3000"]
    subprocess.run(
        [*common, "--window-size=1280,3000", f"--screenshot={screenshot}", page.as_uri()],
        check=True, capture_output=True, timeout=120,
    )
    dumped = subprocess.run([*common, "--dump-dom", page.as_uri()], check=True, capture_output=True, timeout=120)
    keep = os.environ.get("PRODREADY_SCREENSHOT_DIR")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(screenshot, Path(keep) / screenshot.name)
    return dumped.stdout.decode("utf-8", "replace")

"""Headless Chromium for the console tests: Debian's `chromium` through Playwright for Python.

Playwright's own browser download is not reachable here, so the tests drive the system browser
(`executable_path`). `make test` installs it (Makefile: `chromium`); a test skips only when the
browser or Playwright really is missing, and says why.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from infra import config

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
AXE = config.REPO_ROOT / "console" / "node_modules" / "axe-core" / "axe.min.js"


def chromium_path() -> str | None:
    if CHROMIUM.exists():
        return str(CHROMIUM)
    return shutil.which("chromium")


def require_browser() -> str:
    path = chromium_path()
    if path is None:
        pytest.skip("Debian's chromium is not installed (make install-browser / apt-get install chromium)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        pytest.skip("playwright (Python) is not installed")
    return path

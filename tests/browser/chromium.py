"""Debian's Chromium driven by Playwright (Playwright's own browser download is not used)."""

from __future__ import annotations

import os
from pathlib import Path

CHROMIUM = Path(os.environ.get("MEDIALIB_CHROMIUM", "/usr/bin/chromium"))
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
MISSING = (
    f"Chromium is not installed at {CHROMIUM} (set MEDIALIB_CHROMIUM to another path): "
    "the browser tests need it. Install it with `sudo apt-get install -y chromium chromium-driver` "
    "(.ci/run does this on CI machines)."
)


def launch(playwright):
    """A headless Chromium; raises FileNotFoundError with MISSING when there is none."""
    if not CHROMIUM.is_file():
        raise FileNotFoundError(MISSING)
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)

"""Playwright from PyPI driving Debian's chromium (never a downloaded browser), failing on any
console error the page logs, with a screenshot per step kept as a test artifact."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

CHROMIUM_PATHS = ("/usr/bin/chromium", "/usr/bin/chromium-browser")


def chromium_path() -> str:
    for candidate in (os.environ.get("FJORD_CHROMIUM"), *CHROMIUM_PATHS):
        if candidate and Path(candidate).exists():
            return candidate
    found = shutil.which("chromium")
    if found:
        return found
    raise AssertionError("Debian's chromium is required by the console tests: run scripts/setup.sh --test "
                         "(apt-get install chromium)")


class Journey:
    """One browser page plus its artifacts: screenshots named by step, and every console error."""

    def __init__(self, page: Any, artifacts: Path) -> None:
        self.page = page
        self.artifacts = artifacts
        self.errors: list[str] = []
        self.step_no = 0
        page.on("console", lambda msg: self.errors.append(f"console.{msg.type}: {msg.text}")
                if msg.type == "error" else None)
        page.on("pageerror", lambda exc: self.errors.append(f"page error: {exc}"))
        def on_dialog(dialog: Any) -> None:
            self.errors.append(f"dialog opened: {dialog.message}")
            dialog.dismiss()

        page.on("dialog", on_dialog)

    def shot(self, name: str) -> Path:
        self.step_no += 1
        path = self.artifacts / f"{self.step_no:02d}-{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def check(self) -> None:
        assert not self.errors, "browser console errors:\n" + "\n".join(self.errors)


@contextmanager
def browser_page(artifacts: Path) -> Iterator[Journey]:
    from playwright.sync_api import sync_playwright

    artifacts.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path(), headless=True,
                                     args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])
        try:
            context = browser.new_context(viewport={"width": 1360, "height": 900})
            page = context.new_page()
            page.set_default_timeout(30_000)
            yield Journey(page, artifacts)
        finally:
            browser.close()

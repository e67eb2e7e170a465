"""Debian's Chromium under Playwright, a live server for an app, and axe-core inside the page.

Chromium comes from Debian (`apt-get install -y chromium`), never from `playwright install`;
axe-core from its npm package, which `make install` puts in .cache/node (git-ignored). Without
either, a browser test skips locally and fails under CI=true.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.serving import make_server

from tests.conftest import service_missing

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
# The flags known to work on these machines: no GPU, and no background connections that a
# closed network refuses (see the machine notes).
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
EXPECT_TIMEOUT_MS = 15_000
AXE = ROOT / ".cache" / "node" / "node_modules" / "axe-core" / "axe.min.js"
# WCAG 2.0 and 2.1, levels A and AA: what the console and the citizen pages are held to.
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


@contextmanager
def chromium() -> Iterator[Any]:
    if not CHROMIUM.exists():
        service_missing("Debian Chromium: apt-get install -y chromium (/usr/bin/chromium)")
    try:
        from playwright.sync_api import expect as playwright_expect
        from playwright.sync_api import sync_playwright
    except ImportError:
        service_missing("Playwright for Python: pip install -e '.[dev]'")
    # An upper bound for every auto-waiting assertion (5 s by default), loose enough for a
    # loaded machine; passing assertions return as soon as they hold.
    playwright_expect.set_options(timeout=EXPECT_TIMEOUT_MS)
    playwright = sync_playwright().start()
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    try:
        yield browser
    finally:
        browser.close()
        playwright.stop()


@contextmanager
def serving(app: Flask) -> Iterator[str]:
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    thread.join(5)
    httpd.server_close()


def axe_violations(page: Any, rules: list[str] | None = None) -> list[dict[str, Any]]:
    """Run axe-core in `page` (WCAG 2.1 A and AA by default); return its violations.

    The script is evaluated through the DevTools protocol, which the page's
    Content-Security-Policy does not govern, so the page under test keeps its real policy."""
    if not AXE.exists():
        service_missing("axe-core: `make install` puts its npm package in .cache/node")
    page.evaluate(AXE.read_text(encoding="utf-8"))
    tags = rules or WCAG_AA
    result: dict[str, Any] = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", tags
    )
    return list(result["violations"])


def described(violations: list[dict[str, Any]]) -> str:
    """One line per violation: rule, impact, and the first offending element."""
    return "\n".join(
        f"{v['id']} ({v.get('impact')}): {v['help']} at {v['nodes'][0]['target']}"
        for v in violations
    )

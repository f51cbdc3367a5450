"""Browser tests: Debian's ``chromium`` driven by Playwright's Python package through
``executable_path`` (Playwright never downloads a browser here). Without either they skip with
the reason; under ``CI=true`` they are required, and a missing browser fails the run.
Screenshots are kept under ``tests/e2e/artifacts/`` (ignored by git) for a person to look at.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ARTIFACTS = Path(__file__).parent / "artifacts"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _missing() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed"
    if shutil.which("chromium") is None:
        return "Debian's chromium is not installed (apt-get install chromium)"
    return None


@pytest.fixture(scope="module")  # sync Playwright holds an event loop: only while its module runs
def chromium() -> Iterator[Any]:
    reason = _missing()
    if reason is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"browser tests are required under CI=true: {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=shutil.which("chromium"), headless=True, args=CHROMIUM_FLAGS
        )
        yield browser
        browser.close()


AXE = Path(__file__).parent / "vendor" / "axe.min.js"  # axe-core 4.14.1, MPL-2.0 (vendor/README.md)
_AXE_RUN = """async () => {
  const tags = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];
  const result = await axe.run(document, {runOnly: {type: 'tag', values: tags}});
  return result.violations
    .filter(v => v.impact === 'serious' || v.impact === 'critical')
    .map(v => `${v.id} (${v.impact}): ${v.nodes.map(n => n.target.join(' ')).join(', ')}`);
}"""


def serious_violations(page: Any) -> list[str]:
    """axe-core's serious and critical WCAG 2.x A/AA violations on the page. axe is injected as a
    script, so the page's context must be made with ``bypass_csp=True`` (the pages forbid inline
    script; their CSP is tested by the tests that do not inject anything)."""
    page.add_script_tag(content=AXE.read_text())
    found: list[str] = page.evaluate(_AXE_RUN)
    return found


def focused_name(page: Any, expected: str, *, timeout_ms: int = 5_000) -> str | None:
    """The ``name`` of the element that has the focus once the page's ``autofocus`` has been
    applied. Chromium applies it at a rendering step that can come after ``load``, so this waits
    (up to ``timeout_ms``) for ``expected`` to take the focus and returns what has it then: a
    page that focuses something else still fails the caller's assertion, with the other name."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    with contextlib.suppress(PlaywrightTimeout):  # then say what has the focus instead
        page.wait_for_function(
            "name => document.activeElement && document.activeElement.name === name",
            arg=expected,
            timeout=timeout_ms,
        )
    name: str | None = page.evaluate("document.activeElement ? document.activeElement.name : null")
    return name

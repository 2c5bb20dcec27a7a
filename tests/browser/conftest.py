"""Debian's Chromium driven headless by Playwright, watching every page for errors."""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
WIDE, NARROW = 1280, 360


def pytest_collection_modifyitems(items):
    """Mark every test in this folder as a browser test."""
    for item in items:
        if "/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def chromium(tmp_path_factory):
    """A headless Chromium context with a fresh profile; skips where Chromium is absent."""
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="the playwright package is not installed (pip install "
        "-e '.[test]')")
    if not CHROMIUM.exists():
        pytest.skip(f"Debian's Chromium is not installed at {CHROMIUM} "
                    "(apt-get install chromium; .ci/run does)")
    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_api.sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile), executable_path=str(CHROMIUM), headless=True, args=ARGS,
            viewport={"width": WIDE, "height": 900}, locale="de-DE")
        try:
            yield context
        finally:
            context.close()


@dataclass
class Watched:
    """A page and what went wrong on it: console errors, script errors, failed requests."""

    page: object
    problems: list[str] = field(default_factory=list)

    def attach(self) -> None:
        """Listen for errors on the page."""
        page = self.page
        page.on("console", lambda msg: msg.type == "error"
                and self.problems.append(f"console error: {msg.text} ({msg.location})"))
        page.on("pageerror", lambda exc: self.problems.append(f"script error: {exc}"))
        page.on("requestfailed", lambda req: self.problems.append(
            f"request failed: {req.method} {req.url}: {req.failure}"))
        page.on("response", lambda res: res.status >= 400 and self.problems.append(
            f"HTTP {res.status} for {res.request.method} {res.url}"))

    def assert_clean(self) -> None:
        """Fail with every problem seen so far."""
        problems, self.problems[:] = list(self.problems), []
        assert not problems, "\n".join(problems)


@pytest.fixture()
def browse(chromium, live_server):
    """A fresh tab on the live server; the test fails on any console error or failed request."""
    page = chromium.new_page()
    page.set_default_timeout(10_000)
    watched = Watched(page)
    watched.attach()
    page.base = live_server.url
    try:
        yield watched
        watched.assert_clean()
    finally:
        page.close()


@pytest.fixture(scope="session")
def axe_source() -> str:
    """axe-core, as bundled by the axe-playwright-python package (no download at test time)."""
    try:
        return (resources.files("axe_playwright_python") / "axe.min.js").read_text("utf-8")
    except (ModuleNotFoundError, FileNotFoundError):
        pytest.skip("axe-core is not installed (the axe-playwright-python package)")


def axe_violations(page, source: str, impacts=("serious", "critical")) -> list[str]:
    """The axe-core violations of the given impact on the page, one readable line each."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(source)  # evaluated by the driver, so a Content-Security-Policy holds
    result = page.evaluate("async () => await window.axe.run(document, "
                           "{resultTypes: ['violations']})")
    return [f"{v['impact']}: {v['id']}: {v['help']} at "
            f"{', '.join(str(n['target']) for n in v['nodes'][:5])}"
            for v in result["violations"] if v["impact"] in impacts]


def page_weight(page) -> int:
    """Bytes of the page and everything it loaded (decoded), from the Resource Timing API."""
    return page.evaluate(
        "() => performance.getEntriesByType('navigation').concat("
        "performance.getEntriesByType('resource'))"
        ".reduce((sum, e) => sum + (e.decodedBodySize || 0), 0)")


def screenshot(page, name: str) -> list[Path]:
    """Full-page screenshots at 1280 px and 360 px wide into test-artifacts/screenshots/."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    written = []
    for width in (WIDE, NARROW):
        page.set_viewport_size({"width": width, "height": 900})
        path = SCREENSHOTS / f"{name}-{width}.png"
        page.screenshot(path=str(path), full_page=True)
        written.append(path)
    page.set_viewport_size({"width": WIDE, "height": 900})
    return written


def no_horizontal_scroll(page) -> bool:
    """Whether the page fits its viewport's width (the diagram may scroll inside its box)."""
    return page.evaluate(
        "() => document.documentElement.scrollWidth <= window.innerWidth + 1")


class Tools:
    """The page checks the browser tests share."""

    def __init__(self, axe: str):
        self.axe_source = axe

    def axe(self, page) -> list[str]:
        """Serious and critical axe-core violations on the page."""
        return axe_violations(page, self.axe_source)

    screenshot = staticmethod(screenshot)
    page_weight = staticmethod(page_weight)
    no_horizontal_scroll = staticmethod(no_horizontal_scroll)


@pytest.fixture(scope="session")
def tools(axe_source) -> Tools:
    """axe-core, screenshots, page weight and width checks."""
    return Tools(axe_source)

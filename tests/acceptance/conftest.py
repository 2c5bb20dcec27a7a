"""The acceptance crawl's count of URLs checked, in pytest's terminal summary."""

from __future__ import annotations

from tests.acceptance.crawler import CRAWLS


def pytest_terminal_summary(terminalreporter) -> None:
    """One line per crawl: how many URLs it checked and how many failed."""
    if CRAWLS:
        terminalreporter.section("acceptance crawl")
        for line in CRAWLS:
            terminalreporter.write_line(line)

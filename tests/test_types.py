"""Type checking (issue #21): mypy over publisher/ with the configuration in pyproject.toml.

About 4 s from cold, well under a second with mypy's cache (.mypy_cache in the checkout), so
it runs with the rest of the suite.
"""

from __future__ import annotations

import mypy.api
import pytest

from tests.conftest import ROOT

# The modules pyproject.toml checks strictly (its overrides section spells out --strict).
STRICT = ("publisher.config", "publisher.layout", "publisher.sparql", "publisher.store",
          "publisher.children", "publisher.validation")


def _mypy(*args: str) -> tuple[str, int]:
    stdout, stderr, status = mypy.api.run(["--config-file", str(ROOT / "pyproject.toml"),
                                           *args])
    return stdout + stderr, status


def test_publisher_type_checks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)  # `files` in the configuration is relative to the checkout
    report, status = _mypy()
    assert status == 0, f"mypy finds type errors in publisher/:\n{report}"


def test_strict_modules_pass_mypy_strict(monkeypatch: pytest.MonkeyPatch) -> None:
    """The per-module flags in pyproject.toml stand for --strict; this holds them to it."""
    monkeypatch.chdir(ROOT)
    report, status = _mypy("--strict", "--follow-imports=silent",
                           *(arg for module in STRICT for arg in ("-p", module)))
    assert status == 0, f"mypy --strict finds errors in {', '.join(STRICT)}:\n{report}"

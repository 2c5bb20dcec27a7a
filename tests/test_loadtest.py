"""The load test runs in its quick mode and reports (its numbers are not checked here)."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from tests.conftest import ROOT


@pytest.mark.live
def test_quick_load_test_runs_and_reports(tmp_path):
    report = tmp_path / "LOADTEST.md"
    done = subprocess.run([sys.executable, "-m", "bench.loadtest", "--quick", "--duration", "8",
                           "--report", str(report)], cwd=ROOT, capture_output=True, text=True,
                          timeout=180)
    assert done.returncode == 0, done.stderr
    text = report.read_text(encoding="utf-8")
    assert text == done.stdout
    for measure in ("requests", "errors (not the intended 503s)", "non-SPARQL latency p50",
                    "non-SPARQL latency p99", "runaway queries ended as 503"):
        assert f"| {measure} |" in text
    rows = dict(re.findall(r"^\| (.+?) \| (.+?) \|$", text, re.MULTILINE))
    assert int(rows["requests"].split()[0]) > 0
    # Nothing lost under load: every answer was the one the mix expects.
    assert rows["errors (not the intended 503s)"] == "0", text

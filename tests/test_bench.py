"""The benchmark runs, reports and cleans up; its synthetic graph passes the real SHACL gate."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bench.generate import generate, parse_scale
from publisher.project import Project
from publisher.sources import load_shapes, load_sources
from publisher.validation import validate_sources

ROOT = Path(__file__).resolve().parent.parent
BASE = "https://w3id.org/kiezgraph/pankow/"


def test_parse_scale():
    assert [parse_scale(s) for s in ("10k", "100K", "1m", "2500")] == [
        10_000, 100_000, 1_000_000, 2_500]
    with pytest.raises(ValueError):
        parse_scale("lots")


def test_generated_graph_conforms_to_the_shapes(tmp_path):
    generated = generate(ROOT, tmp_path / "g", 10_000, BASE)
    project = Project(generated.root)
    sources = load_sources(project, BASE)
    report = validate_sources(sources, load_shapes(project, BASE))
    assert report.conforms, report.as_text()[:2000]
    assert 10_000 <= report.triples == generated.triples < 12_000
    # Berlin-wide: copies in every district, and the real Pankow data kept as it is.
    districts = {p.name for p in (generated.root / "data").iterdir()}
    assert len(districts) == 13 and "pankow-original" in districts
    assert (generated.root / "data" / "pankow-original" / "agreement.ttl").read_bytes() == \
        (ROOT / "data" / "agreement.ttl").read_bytes()


def test_generator_is_deterministic(tmp_path):
    one = generate(ROOT, tmp_path / "a", 5_000, BASE)
    two = generate(ROOT, tmp_path / "b", 5_000, BASE)
    files = sorted(p.relative_to(one.root) for p in one.root.rglob("*.ttl"))
    assert files == sorted(p.relative_to(two.root) for p in two.root.rglob("*.ttl"))
    assert all((one.root / f).read_bytes() == (two.root / f).read_bytes() for f in files)
    assert one.samples == two.samples and one.samples["stadtteilzentrum"]


def _leftovers(marker: str) -> list[str]:
    """Command lines of running processes that mention marker."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if marker in cmdline:
            found.append(cmdline)
    return found


@pytest.mark.live
@pytest.mark.skipif(shutil.which("wrk") is None, reason="needs wrk (Debian package wrk)")
def test_quick_run_reports_and_cleans_up(tmp_path):
    out = tmp_path / "bench-out"
    proc = subprocess.run([sys.executable, "-m", "bench", "--quick", "--out", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = (out / "RESULTS.md").read_text(encoding="utf-8")
    assert "## Targets" in report and "quick run" in report
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    ours = [r for r in results["rows"] if r["server"] == "kiezgraph" and not r["failed"]]
    assert any(r["section"] == "sparql" and r["rps"] > 0 for r in ours), results["rows"]
    assert results["scales"]["10000"]["servers"]["kiezgraph"]["startup_s"] > 0
    assert not list(out.glob("work-*")), "the working folder was not removed"
    assert _leftovers(str(out)) == []

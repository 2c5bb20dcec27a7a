"""Issue #22, item 5: a build that runs out of memory says so and keeps the last build.

rdflib and pyshacl hold the whole graph (about 2 KB per triple, bench/FINDINGS.md section
12), so a graph too large for the machine ends in MemoryError. It used to be reported as a
"Turtle error" in whichever file was being read. The build runs in a child with its heap
capped a little above what the imports took.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RLIMIT_DATA")

CAPPED = textwrap.dedent("""
    import resource, sys
    import pyshacl, rdflib, owlrl  # what the build imports, before the cap
    from publisher.cli import main
    import publisher.build, publisher.validation
    status = open("/proc/self/status").read()
    data = int(status.split("VmData:")[1].split()[0]) * 1024
    resource.setrlimit(resource.RLIMIT_DATA, (data + (12 << 20), data + (12 << 20)))
    main(["build", "--root", sys.argv[1], "--out", sys.argv[2]])
""")


def test_issue22_out_of_memory_is_named_and_the_last_build_stays(build_dir, tmp_path):
    import shutil

    out = tmp_path / "out"
    shutil.copytree(build_dir, out, symlinks=True)
    before = os.readlink(out / "current")
    done = subprocess.run([sys.executable, "-c", CAPPED, str(ROOT), str(out)], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode != 0
    assert "not enough memory" in done.stderr and "Arbeitsspeicher" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr and "Turtle" not in done.stderr, done.stderr
    assert os.readlink(out / "current") == before
    assert not list((out / "builds").glob(".partial-*"))


def test_issue22_rdflib_out_of_memory_in_c_is_not_a_turtle_error(tmp_path, monkeypatch):
    """At 10M triples under a heap cap rdflib's parser failed with SystemError "error return
    without exception set"; that is memory, not the file."""
    from rdflib import Graph

    from publisher.sources import parse_file

    source = tmp_path / "a.ttl"
    source.write_text("<urn:a> <urn:b> <urn:c> .\n", encoding="utf-8")

    def failing(*_args, **_kwargs):
        raise SystemError("error return without exception set")

    monkeypatch.setattr(Graph, "parse", failing)
    with pytest.raises(MemoryError):
        parse_file(Graph(), source, "https://example.org/")

"""Issue #24, item 6: builds run at once into one output folder never lose a release.

Two `kiezgraph build` processes at a time, each with other content, into one folder: every
build that reported success is listed in releases.json and on disk afterwards, and no
half-written folder is left. (Before: five rounds kept 6 of 11 releases and deleted 4
folders, because the index was read, changed and written without a lock.)
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.slow


def _project(folder: Path, label: str) -> Path:
    """A copy of the shipped project whose agreement carries another English label."""
    for part in ("ontology", "data", "shapes"):
        shutil.copytree(ROOT / part, folder / part)
    agreement = folder / "data" / "agreement.ttl"
    text = agreement.read_text(encoding="utf-8")
    old = '"Cooperation agreement 2022"@en'
    assert old in text
    agreement.write_text(text.replace(old, f'"Cooperation agreement 2022 ({label})"@en'),
                         encoding="utf-8")
    return folder


def _start_build(project: Path, out: Path) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KIEZGRAPH_")}
    return subprocess.Popen([sys.executable, "-m", "publisher", "build", "--root", str(project),
                             "--out", str(out)], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def test_issue24_builds_at_once_keep_every_release(tmp_path):
    out = tmp_path / "out"
    reported: list[str] = []
    for round_ in range(3):
        builds = [_start_build(_project(tmp_path / f"p{round_}-{n}", f"r{round_}-{n}"), out)
                  for n in range(2)]
        for build in builds:
            stdout, stderr = build.communicate(timeout=300)
            assert build.returncode == 0, stderr
            assert "new content" in stdout + stderr, stdout + stderr
            reported.extend(line.split()[1] for line in (stdout + stderr).splitlines()
                            if line.startswith("built "))
    assert len(reported) == 6
    index = json.loads((out / "releases.json").read_text(encoding="utf-8"))
    listed = {entry["version"] for entry in index}
    assert set(reported) <= listed, (reported, listed)
    for entry in index:
        assert (out / entry["path"] / "build.json").is_file(), entry
    assert not list((out / "builds").glob(".partial-*"))

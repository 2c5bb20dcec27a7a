"""Issue 23: a damaged build stops `kiezgraph serve` with one line and exit status 1 under
every server (README and CHANGELOG promise 1; 2 stays for a store that cannot be reached)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from publisher.web.server import SERVERS
from tests.conftest import ROOT
from tests.test_reload import _free_port


def _serve_damaged(server: str, out) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KIEZGRAPH_")}
    env["KIEZGRAPH_SERVER"] = server
    return subprocess.run([sys.executable, "-m", "publisher", "serve", "--out", str(out),
                           "--port", str(_free_port())], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)


@pytest.mark.live
@pytest.mark.parametrize("server", SERVERS)
@pytest.mark.parametrize("damage", ["appended", "truncated"])
def test_issue23_a_damaged_build_stops_serve_with_one_line_and_status_1(server, damage,
                                                                       build_dir, tmp_path):
    damaged = tmp_path / "out"
    shutil.copytree(build_dir, damaged, symlinks=True)
    graph = (damaged / "current").resolve() / "graph.nq"
    if damage == "appended":
        with graph.open("a", encoding="utf-8") as handle:
            handle.write("this is not N-Quads\n")
    else:
        graph.write_bytes(graph.read_bytes()[: graph.stat().st_size // 2])
    done = _serve_damaged(server, damaged)
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert done.returncode == 1, done.stderr
    assert len(lines) == 1, done.stderr  # no "serving … on", no repeat, no crash-loop lines
    assert lines[0].startswith("error: cannot load the build's graph") and "graph.nq" in lines[0]

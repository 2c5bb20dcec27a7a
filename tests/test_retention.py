"""Which build folders a build keeps: releases, current, the one before, and held ones."""

from __future__ import annotations

import subprocess
import sys

import httpx
import pytest

from publisher.build import build
from publisher.config import load_settings
from publisher.releases import current_release
from publisher.retention import hold, is_held
from tests.conftest import ROOT


def _build(project, out):
    return build(project, load_settings(env={}, overrides={"out": str(out)}), out).release


@pytest.mark.slow
def test_issue15_a_build_held_by_a_server_is_never_removed(project, tmp_path):
    first = _build(project, tmp_path)
    held = hold(first.path)
    try:
        assert is_held(first.path)
        for _ in range(3):  # unchanged content: each build replaces the one before
            _build(project, tmp_path)
        assert (first.path / "graph.nq").is_file()
    finally:
        held.release()
    assert not is_held(first.path)
    latest = _build(project, tmp_path)
    assert not first.path.exists()  # no longer held: the next build removes it
    kept = sorted(p.name for p in (tmp_path / "builds").iterdir())
    assert len(kept) == 2 and latest.path.name in kept  # the current and the one before


@pytest.mark.slow
def test_issue15_the_build_current_pointed_to_before_is_kept(project, tmp_path):
    first = _build(project, tmp_path)
    second = _build(project, tmp_path)
    assert first.path.is_dir() and second.path.is_dir()
    assert current_release(tmp_path).build_id == second.build_id


@pytest.mark.slow
@pytest.mark.live
def test_issue15_rebuilds_leave_the_served_build_whole(build_dir, tmp_path):
    from tests.test_cli import _copy_build, _serve_in
    from tests.test_reload import _count_when_answered, _wait_health
    from tests.test_server import _stop

    _copy_build(build_dir, tmp_path)
    out = tmp_path / "build"
    served = current_release(out)
    proc, url = _serve_in(tmp_path, env={"KIEZGRAPH_QUERY_TIMEOUT": "2"})
    try:
        health = _wait_health(url, proc)
        for _ in range(2):  # unchanged content, the server not told: it stays on its build
            subprocess.run([sys.executable, "-m", "publisher", "build", "--root", str(ROOT),
                            "--out", str(out)], cwd=tmp_path, check=True, capture_output=True)
        assert current_release(out).build_id != served.build_id
        assert served.path.is_dir()
        listing = httpx.get(f"{url}/download/").text
        for entry in served.info["files"]:
            if not entry["name"].startswith("kiezgraph-pankow-"):
                continue  # catalog.ttl, void.ttl: served as /catalog, /.well-known/void
            assert entry["name"] in listing
            answer = httpx.get(f"{url}/download/{entry['name']}")
            assert answer.status_code == 200, entry["name"]
        assert httpx.get(f"{url}/download/SHA256SUMS").status_code == 200
        # A query over the time limit: its worker is killed and a new one loads the build.
        runaway = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
        assert httpx.get(f"{url}/sparql", params={"query": runaway},
                         timeout=60).status_code == 503
        count = _count_when_answered(url)
        assert int(count.json()["results"]["bindings"][0]["n"]["value"]) == health["triples"]
    finally:
        _stop(proc)


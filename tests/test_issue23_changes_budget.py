"""Issue 23: /changes stays within the page budget (200 KB) for a change of any size: counts
per kind, a few names each, the whole change in the N-Quads downloads."""

from __future__ import annotations

import re
import shutil

import pytest

from bench.generate import generate
from publisher.build import build
from publisher.config import load_settings
from publisher.project import Project
from tests.conftest import ROOT

PAGE_BUDGET = 200_000


@pytest.mark.slow
def test_issue23_changes_of_100k_triples_fit_the_page_budget(build_dir, tmp_path):
    from publisher.web import create_app

    out = tmp_path / "out"
    shutil.copytree(build_dir, out, symlinks=True)
    project = tmp_path / "big"
    generate(ROOT, project, 100_000)
    settings = load_settings(env={}, overrides={"out": str(out)})
    result = build(Project(project), settings, out)
    assert result.release.info["changes"]["added"] > 90_000
    app = create_app(settings)
    client = app.test_client()
    try:
        for lang in ("de", "en"):
            page = client.get(f"/changes?lang={lang}")
            assert page.status_code == 200
            assert len(page.data) < PAGE_BUDGET, (lang, len(page.data))
        html = client.get("/changes?lang=en").get_data(as_text=True)
        # counted per kind, by the kind's name (the number follows the generator's data)
        assert re.search(r"new: [1-9][0-9]* cooperation agreements", html)
        assert "all in the N-Quads above" in html
        version = result.release.version
        added = client.get(f"/changes/{version}-added.nq")
        assert added.status_code == 200
        assert added.data.count(b"\n") == result.release.info["changes"]["added"]
    finally:
        app.extensions["kiezgraph"].published.store.close()

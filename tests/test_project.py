"""Finding the knowledge graph: --root, the current folder, or the copy bundled with the package."""

from __future__ import annotations

import subprocess
import sys
import zipfile

import pytest

from publisher.project import PARTS, ProjectError, bundled_root, find_project
from tests.conftest import ROOT


def test_explicit_root(workdir):
    assert find_project(workdir).root == workdir.resolve()


def test_current_folder_is_used_when_it_holds_a_graph(workdir, monkeypatch):
    monkeypatch.chdir(workdir)
    assert find_project().root == workdir.resolve()


def test_bundled_copy_when_the_current_folder_holds_none(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    project = find_project()
    assert project.root == bundled_root()
    assert project.files("data") and project.files("shapes") and project.files("ontology")


def test_issue16_inside_data_the_project_above_is_found(workdir, monkeypatch):
    (workdir / "data" / "neu").mkdir()
    for inside in (workdir / "data", workdir / "data" / "neu", workdir / "shapes"):
        monkeypatch.chdir(inside)
        project = find_project()
        assert (project.root, project.origin) == (workdir.resolve(), "above")
    (workdir / "elsewhere").mkdir()  # a folder beside the parts is not inside the project
    monkeypatch.chdir(workdir / "elsewhere")
    assert find_project().origin == "bundled"


def test_root_without_the_parts_is_refused(tmp_path):
    (tmp_path / "data").mkdir()
    with pytest.raises(ProjectError, match="missing ontology/, shapes/"):
        find_project(tmp_path)
    with pytest.raises(ProjectError, match="no such folder"):
        find_project(tmp_path / "nope")


@pytest.mark.slow
def test_the_wheel_carries_ontology_data_and_shapes(tmp_path):
    pytest.importorskip("hatchling")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "-q", "-w", str(tmp_path), str(ROOT)], check=True)
    wheel = next(tmp_path.glob("kiezgraph-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    for part in PARTS:
        shipped = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / part).rglob("*.ttl"))
        assert shipped, f"{part}/ has no Turtle files"
        for name in shipped:
            assert f"publisher/_bundled/{name}" in names
    assert "publisher/cli.py" in names
    # the vocabularies the reasoning check needs, without a network; the names pages show
    assert {"publisher/vocabularies/org.ttl", "publisher/vocabularies/prov-o.ttl",
            "publisher/vocabularies/labels.ttl"} <= set(names)

"""Builds: refused on bad data, atomic, deterministic, and the last good one always stays."""

from __future__ import annotations

import gzip
import hashlib
import json
import os

import pyoxigraph as ox
import pytest
import rdflib
from rdflib.compare import isomorphic

from publisher.build import BuildRefused, _canonical_nquads, build
from publisher.config import load_settings
from publisher.project import Project
from publisher.releases import current_release, list_releases
from publisher.sources import SourceError, load_sources
from tests.conftest import BASE


def _settings(out):
    return load_settings(env={}, overrides={"out": str(out)})


def test_release_holds_every_dump_gzipped_with_checksums(release):
    files = {f["name"]: f for f in release.info["files"]}
    for suffix in ("ttl", "nt", "jsonld", "rdf", "nq"):
        name = f"kiezgraph-pankow-{release.version}.{suffix}"
        assert name in files and name + ".gz" in files
        data = (release.path / name).read_bytes()
        assert hashlib.sha256(data).hexdigest() == files[name]["sha256"]
        assert len(data) == files[name]["bytes"]
        assert gzip.decompress((release.path / (name + ".gz")).read_bytes()) == data
    sums = (release.path / "SHA256SUMS").read_text().splitlines()
    assert len(sums) == len(files)


@pytest.mark.parametrize("suffix,fmt", [("ttl", "turtle"), ("nt", "nt"), ("jsonld", "json-ld"),
                                        ("rdf", "xml")])
def test_every_dump_parses_to_the_same_graph(release, suffix, fmt):
    reference = rdflib.Graph().parse(release.path / f"kiezgraph-pankow-{release.version}.nt",
                                     format="nt")
    graph = rdflib.Graph().parse(release.path / f"kiezgraph-pankow-{release.version}.{suffix}",
                                 format=fmt)
    assert len(graph) == len(reference) == release.info["triples"]
    assert isomorphic(graph, reference)


@pytest.mark.slow
def test_unchanged_data_keeps_version_and_dates(project, tmp_path):
    first = build(project, _settings(tmp_path), tmp_path).release
    second = build(project, _settings(tmp_path), tmp_path)
    assert not second.changed
    assert second.release.version == first.version
    assert second.release.info["modified"] == first.info["modified"]
    assert second.release.build_id != first.build_id
    first_dump = (first.path / f"kiezgraph-pankow-{first.version}.ttl")
    assert first_dump.exists()  # current pointed to it before: a server may still be on it
    assert [r.version for r in list_releases(tmp_path)] == [first.version]
    third = build(project, _settings(tmp_path), tmp_path).release
    assert not first_dump.exists()  # two builds on, nothing holds it: replaced
    assert second.release.path.is_dir() and third.path.is_dir()


@pytest.mark.slow
def test_changed_data_makes_a_new_version_and_keeps_the_old(workdir, tmp_path):
    out = tmp_path / "out"
    first = build(Project(workdir), _settings(out), out).release
    extra = workdir / "data" / sorted(p.name for p in (workdir / "data").glob("*.ttl"))[0]
    text = extra.read_text(encoding="utf-8")
    extra.write_text(text + "\n# a comment changes nothing\n", encoding="utf-8")
    assert not build(Project(workdir), _settings(out), out).changed
    extra.write_text(text.replace('"@de', ' "@de', 1), encoding="utf-8")
    second = build(Project(workdir), _settings(out), out)
    assert second.changed and second.release.version != first.version
    assert [r.version for r in list_releases(out)] == [first.version, second.release.version]
    assert current_release(out).version == second.release.version


@pytest.mark.slow
def test_refused_build_keeps_the_last_good_one(workdir, tmp_path):
    out = tmp_path / "out"
    good = build(Project(workdir), _settings(out), out).release
    (workdir / "data" / "zz-bad.ttl").write_text(
        '@prefix org: <http://www.w3.org/ns/org#> .\n'
        '<id/organisation/nameless> a org:Organization .\n', encoding="utf-8")
    with pytest.raises(BuildRefused) as refused:
        build(Project(workdir), _settings(out), out)
    assert any("nameless" in v.focus for v in refused.value.report.violations)
    (workdir / "data" / "zz-bad.ttl").write_text("not turtle at all", encoding="utf-8")
    with pytest.raises(SourceError):
        build(Project(workdir), _settings(out), out)
    assert current_release(out).build_id == good.build_id
    assert not [p for p in (out / "builds").iterdir() if p.name.startswith(".partial")]
    info = json.loads((out / "current" / "build.json").read_text())
    assert info["build_id"] == good.build_id


@pytest.mark.slow
def test_partial_folders_of_dead_builds_are_removed(project, tmp_path):
    builds = tmp_path / "builds"
    builds.mkdir()
    dead = builds / ".partial-999999999-abc"  # no such process
    dead.mkdir()
    (dead / "graph.nq").write_text("half", encoding="utf-8")
    alive = builds / f".partial-{os.getpid()}-xyz"  # a build still running
    alive.mkdir()
    build(project, _settings(tmp_path), tmp_path)
    assert not dead.exists()
    assert alive.exists()


def test_canonical_nquads_equal_the_whole_dataset_canonicalised(project):
    sources = load_sources(project, BASE)
    whole = ox.Dataset(ox.parse(sources.dataset.serialize(format="nquads", encoding="utf-8"),
                                format=ox.RdfFormat.N_QUADS))
    whole.canonicalize(ox.CanonicalizationAlgorithm.RDFC_1_0)
    expected = sorted(set(ox.serialize(whole, format=ox.RdfFormat.N_QUADS).splitlines()))
    nquads = _canonical_nquads(sources)
    assert b"_:c14n" in nquads  # the bundled data has blank nodes to canonicalise
    assert nquads == b"\n".join(expected) + b"\n"


@pytest.mark.slow
def test_a_build_gives_the_cycle_collector_back_as_it_found_it(workdir, tmp_path):
    """The build pauses Python's cyclic garbage collector; a refused one must resume it too."""
    import gc

    out = tmp_path / "out"
    assert gc.isenabled()
    build(Project(workdir), _settings(out), out)
    assert gc.isenabled()
    (workdir / "data" / "zz-bad.ttl").write_text("not turtle at all", encoding="utf-8")
    with pytest.raises(SourceError):
        build(Project(workdir), _settings(out), out)
    assert gc.isenabled()
    (workdir / "data" / "zz-bad.ttl").unlink()
    gc.disable()
    try:
        build(Project(workdir), _settings(tmp_path / "other"), tmp_path / "other")
        assert not gc.isenabled()  # left off by its caller: stays off
    finally:
        gc.enable()

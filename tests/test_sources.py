"""Loading Turtle sources: named graph per file, relative IRIs, and clear errors."""

from __future__ import annotations

import pytest
from rdflib import URIRef

from publisher.project import Project
from publisher.sources import SourceError, graph_iri, load_shapes, load_sources
from tests.conftest import BASE


def test_each_file_is_a_named_graph(project):
    sources = load_sources(project, BASE)
    assert set(sources.files) == {graph_iri(BASE, project, p) for p in project.source_files()}
    organisations = [iri for iri in sources.files if "data/" in iri]
    assert organisations and all(len(sources.dataset.graph(i)) > 0 for i in organisations)
    distinct = set()
    for iri in sources.files:
        distinct.update(sources.dataset.graph(iri))
    assert len(sources.union()) == len(distinct)


def test_relative_iris_follow_the_base(project):
    other = "https://example.org/kiez/"
    sources = load_sources(project, other)
    subjects = {s for s in sources.union().subjects() if isinstance(s, URIRef)}
    assert any(s.startswith(other + "id/") for s in subjects)
    assert not any(s.startswith(BASE) for s in subjects)


def test_syntax_error_names_file_and_line(workdir):
    target = sorted((workdir / "data").glob("*.ttl"))[0]
    lines = target.read_text(encoding="utf-8").splitlines()
    target.write_text("\n".join([*lines, "<id/x> <id/y> ."]) + "\n", encoding="utf-8")
    with pytest.raises(SourceError) as caught:
        load_sources(Project(workdir), BASE)
    assert caught.value.path == f"data/{target.name}"
    assert caught.value.line == len(lines) + 1
    assert "Turtle syntax error" in str(caught.value)


def test_non_utf8_is_refused(workdir):
    (workdir / "data" / "latin1.ttl").write_bytes("# Weißensee\n".encode("latin-1"))
    with pytest.raises(SourceError, match="not UTF-8"):
        load_sources(Project(workdir), BASE)


def test_issue16_shapes_are_plain_shacl_without_placeholders(project):
    for path in project.files("shapes"):
        assert "{base}" not in path.read_text(encoding="utf-8"), path
    shapes = load_shapes(project, BASE)
    patterns = [str(o) for o in shapes.objects(None, URIRef("http://www.w3.org/ns/shacl#pattern"))]
    assert not any("{base}" in p for p in patterns)


def test_locate_points_at_the_line_of_a_subject(project):
    sources = load_sources(project, BASE)
    iri, path = next(iter(sources.files.items()))
    subject = next(s for s in sources.dataset.graph(iri).subjects() if isinstance(s, URIRef))
    where = sources.locate(subject)
    assert where is not None and where[0] == project.relative(path)
    if where[1]:
        line = sources.texts[path][where[1] - 1]
        assert subject.split("/")[-1] in line or str(subject) in line

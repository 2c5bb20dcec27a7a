"""`kiezgraph load` into a real Virtuoso: complete switches, interrupted loads, bad credentials."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import BNode, Literal, URIRef
from rdflib.namespace import DCTERMS, XSD

from publisher.build import build
from publisher.cli import main
from publisher.config import load_settings
from publisher.load import LoadError, Writer, chunks, load_release
from publisher.store import EmbeddedStore
from publisher.store.embedded import from_ox
from publisher.store.remote import RemoteStore
from tests.virtuoso_server import free_port

pytestmark = [pytest.mark.virtuoso, pytest.mark.slow]  # most tests build the graph


@pytest.fixture()
def base(request) -> str:
    """A base of its own per test, so tests sharing the Virtuoso do not see each other."""
    return f"https://example.org/{re.sub('[^A-Za-z0-9]', '-', request.node.name)}/"


def make_build(project, out, base):
    """A fresh build (a new build id) of the repository's data under base."""
    return build(project, load_settings(env={}, overrides={"out": str(out), "base_uri": base}),
                 out).release


def served_triples(release) -> int:
    """How many triples the embedded store serves for a release."""
    return EmbeddedStore.from_release(release).triple_count()


def writer_for(virtuoso, **kw) -> Writer:
    return Writer(update_endpoint=virtuoso.sparql_auth, user=virtuoso.user,
                  password=virtuoso.password, **kw)


def env_for(virtuoso, password=None) -> dict:
    return {"KIEZGRAPH_STORE_USER": virtuoso.user,
            "KIEZGRAPH_STORE_PASSWORD": password or virtuoso.password}


def test_cli_load_then_reload_switches_and_keeps_one_previous(
        virtuoso, project, tmp_path, base, runner):
    args = ["load", "--base-uri", base, "--out", str(tmp_path), "--store", virtuoso.sparql,
            "--update-endpoint", virtuoso.sparql_auth, "--chunk-size", "100"]
    first = make_build(project, tmp_path, base)
    result = runner.invoke(main, args, env=env_for(virtuoso))
    assert result.exit_code == 0, result.output
    assert f"current -> {base}graph/release/{first.build_id}" in result.output
    assert "triples (" in result.output  # progress per chunk
    assert virtuoso.password not in result.output
    store = RemoteStore(virtuoso.sparql, base)
    assert store.current().build_id == first.build_id
    assert store.triple_count() == served_triples(first)

    again = runner.invoke(main, args, env=env_for(virtuoso))
    assert again.exit_code == 0 and "already" in again.output

    second = make_build(project, tmp_path, base)
    third_out = tmp_path / "third"
    assert runner.invoke(main, args, env=env_for(virtuoso)).exit_code == 0
    assert store.current(fresh=True).build_id == second.build_id
    third = make_build(project, third_out, base)
    result = runner.invoke(main, [*args[:4], str(third_out), *args[5:]], env=env_for(virtuoso))
    assert result.exit_code == 0, result.output
    assert f"dropped {base}graph/release/{first.build_id}" in result.output
    graphs = store.select_over("SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }", None)
    names = {str(r["g"]) for r in graphs if str(r["g"]).startswith(base)}
    assert not any(first.build_id in n for n in names)
    assert any(second.build_id in n for n in names)  # the previous one stays for readers
    assert store.current(fresh=True).build_id == third.build_id


def test_graph_store_protocol_load(virtuoso, project, tmp_path, base):
    release = make_build(project, tmp_path, base)
    writer = Writer(graph_store=virtuoso.graph_store, user=virtuoso.user,
                    password=virtuoso.password)
    store = RemoteStore(virtuoso.sparql, base)
    result = load_release(release, store, writer, chunk_size=50)
    assert result.chunks > 5
    assert store.triple_count() == served_triples(release)


def test_wrong_password_is_a_clear_error(virtuoso, project, tmp_path, base, runner):
    make_build(project, tmp_path, base)
    result = runner.invoke(main, ["load", "--base-uri", base, "--out", str(tmp_path),
                                  "--store", virtuoso.sparql, "--update-endpoint",
                                  virtuoso.sparql_auth], env=env_for(virtuoso, "wrong"))
    assert result.exit_code == 2
    assert "refused the credentials" in result.output
    assert "Traceback" not in result.output and "wrong" not in result.output


def test_unreachable_store_is_a_clear_error(project, tmp_path, base, runner):
    make_build(project, tmp_path, base)
    result = runner.invoke(main, ["load", "--base-uri", base, "--out", str(tmp_path),
                                  "--store", f"http://127.0.0.1:{free_port()}/sparql"])
    assert result.exit_code == 2
    assert "cannot reach the store" in result.output and "Traceback" not in result.output


def test_failure_half_way_keeps_the_previous_release(
        virtuoso, project, tmp_path, base):
    store = RemoteStore(virtuoso.sparql, base)
    old = make_build(project, tmp_path, base)
    load_release(old, store, writer_for(virtuoso))
    before = store.construct("CONSTRUCT WHERE { ?s ?p ?o }")
    new = make_build(project, tmp_path / "next", base)

    def die(source, done, total):
        if done > total // 2:
            raise LoadError("interrupted on purpose")

    with pytest.raises(LoadError):
        load_release(new, store, writer_for(virtuoso), chunk_size=20, progress=die)
    assert store.current(fresh=True).build_id == old.build_id
    assert len(store.construct("CONSTRUCT WHERE { ?s ?p ?o }")) == len(before)
    assert store.triple_count() == served_triples(old)


def test_killed_load_keeps_the_previous_release_and_next_load_cleans_up(
        virtuoso, project, tmp_path, base):
    store = RemoteStore(virtuoso.sparql, base)
    old = make_build(project, tmp_path, base)
    load_release(old, store, writer_for(virtuoso))
    new = make_build(project, tmp_path / "next", base)
    env = {**os.environ, **env_for(virtuoso)}
    process = subprocess.Popen(
        [sys.executable, "-m", "publisher", "load", "--base-uri", base, "--out",
         str(tmp_path / "next"),
         "--store", virtuoso.sparql, "--update-endpoint", virtuoso.sparql_auth,
         "--chunk-size", "1"], stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, env=env)
    try:
        seen = 0
        for line in process.stderr:
            seen += b"triples (" in line
            if seen >= 20:
                break
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait(timeout=30)
        process.stderr.close()
    assert seen >= 20, "the load ended before it could be killed"
    assert store.current(fresh=True).build_id == old.build_id
    rows = store.select("SELECT (COUNT(*) AS ?n) WHERE { SELECT DISTINCT * { ?s ?p ?o } }")
    assert int(rows[0]["n"]) == served_triples(old)
    half = store.select_over(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH ?g {{ ?s ?p ?o }} "
                             f'FILTER(CONTAINS(STR(?g), "{new.build_id}")) }}', None)
    assert 0 < int(half[0]["n"]) < served_triples(new)  # really died half-way

    result = load_release(new, store, writer_for(virtuoso))
    assert store.current(fresh=True).build_id == new.build_id
    assert result.previous == old.build_id
    assert store.triple_count() == served_triples(new)


def test_chunks_keep_blank_node_groups_together():
    import pyoxigraph as ox

    b, c = ox.BlankNode("b"), ox.BlankNode("c")
    p = ox.NamedNode("urn:p")
    triples = [ox.Triple(ox.NamedNode(f"urn:s{i}"), p, ox.Literal(str(i))) for i in range(5)]
    triples += [ox.Triple(ox.NamedNode("urn:x"), p, b), ox.Triple(b, p, c),
                ox.Triple(c, p, ox.Literal("deep"))]
    parts = list(chunks(triples, 2))
    assert sum(len(part) for part in parts) == len(triples)
    holding = [part for part in parts if any(t.subject == c for t in part)]
    assert len(holding) == 1 and len(holding[0]) == 3


def _terms(store) -> set:
    """Every triple of the store's current release, as rdflib terms (blank nodes left out)."""
    rows = store.select("SELECT ?s ?p ?o WHERE { ?s ?p ?o }")
    return {(r["s"], r["p"], r["o"]) for r in rows
            if not any(isinstance(t, BNode) for t in r.values())}


def _build_terms(release) -> set:
    """The same from the build's files: pyoxigraph's parser keeps every datatype as written
    (its store does not: it keeps xsd:nonNegativeInteger as xsd:integer, for one)."""
    found = set()
    for path in (release.graph_file, Path(release.path) / "metadata.nq"):
        for quad in ox.parse(path=str(path), format=ox.RdfFormat.N_QUADS):
            terms = (quad.subject, quad.predicate, quad.object)
            if not any(isinstance(t, ox.BlankNode) for t in terms):
                found.add(tuple(from_ox(t) for t in terms))
    return found


@pytest.mark.parametrize("protocol", ["update", "graph-store"])
def test_every_term_comes_back_as_it_was(virtuoso, project, tmp_path, base,
                                         protocol):
    """Literals stay literals (also those whose text is an IRI of the same chunk), datatypes
    and language tags stay as they were, whichever protocol writes them."""
    release = make_build(project, tmp_path, base)
    writer = (writer_for(virtuoso) if protocol == "update" else
              Writer(graph_store=virtuoso.graph_store, update_endpoint=virtuoso.sparql_auth,
                     user=virtuoso.user, password=virtuoso.password))
    remote = RemoteStore(virtuoso.sparql, base)
    load_release(release, remote, writer)
    there, here = _terms(remote), _build_terms(release)
    assert sorted(there - here) == sorted(here - there) == []
    identifier = (URIRef(f"{base}id/dataset/kiezgraph-pankow"), DCTERMS.identifier,
                  Literal(f"{base}id/dataset/kiezgraph-pankow", datatype=XSD.string))
    assert identifier in here

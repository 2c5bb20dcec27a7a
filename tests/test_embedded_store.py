"""The embedded store: in memory or from the release's on-disk store, the union as a set."""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import Dataset

from publisher.store.embedded import STORE_DIR, EmbeddedStore, write_store

JSON = "application/sparql-results+json"
COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
TYPES = "SELECT ?t (COUNT(?s) AS ?n) WHERE { ?s a ?t } GROUP BY ?t ORDER BY ?t"


def _distinct_triples(release) -> int:
    dataset = Dataset(default_union=True)
    for path in (release.graph_file, Path(release.path) / "metadata.nq"):
        dataset.parse(str(path), format="nquads")
    return len(set(dataset.triples((None, None, None))))


def _rows(store: EmbeddedStore, query: str) -> list:
    answer = store.run_query(query, JSON, timeout=20, max_results=10000)
    return json.loads(answer.body)["results"]["bindings"]


@pytest.fixture(scope="module")
def stores(release):
    memory = EmbeddedStore.from_release(release, query_workers=1)
    disk = EmbeddedStore.from_release(release, query_workers=1, in_memory_max_triples=0)
    yield memory, disk
    memory.close()
    disk.close()


def test_the_build_writes_an_on_disk_store_that_opens_read_only(release):
    folder = Path(release.path) / STORE_DIR
    store = ox.Store.read_only(str(folder))
    assert len(list(store.named_graphs())) >= 2
    assert len(store) > 0


def test_small_graphs_in_memory_large_ones_from_disk(release, stores):
    memory, disk = stores
    assert memory.sources == [str(Path(release.path) / STORE_DIR), str(release.graph_file),
                              str(Path(release.path) / "metadata.nq")]
    assert disk.sources == [str(Path(release.path) / STORE_DIR)]


def test_both_see_the_union_as_a_set_of_triples(release, stores):
    expected = _distinct_triples(release)
    for store in stores:
        assert store.triple_count() == expected  # the web process's own copy
        assert int(_rows(store, COUNT)[0]["n"]["value"]) == expected  # the workers'
    assert _rows(stores[0], TYPES) == _rows(stores[1], TYPES)


def test_write_store_merges_graphs_into_a_default_graph(tmp_path):
    source = tmp_path / "g.nq"
    source.write_text('<http://x/s> <http://x/p> "o" <http://x/g1> .\n'
                      '<http://x/s> <http://x/p> "o" <http://x/g2> .\n', encoding="utf-8")
    write_store(tmp_path / "store", [source])
    store = ox.Store.read_only(str(tmp_path / "store"))
    assert len(list(store.quads_for_pattern(None, None, None, ox.DefaultGraph()))) == 1
    assert len(store) == 3


def test_no_temporary_file_is_left_behind(release, tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    store = EmbeddedStore.from_release(release, query_workers=1)
    assert _rows(store, COUNT)
    store.close()
    built = EmbeddedStore(ox.Store(), query_workers=1)  # made by a caller: dumped for workers
    assert _rows(built, COUNT)[0]["n"]["value"] == "0"
    built.close()
    assert list(tmp_path.iterdir()) == []


def test_warm_starts_the_workers_before_any_query(release):
    store = EmbeddedStore.from_release(release, query_workers=1)
    try:
        assert store.pool is None
        store.warm()
        assert store.pool.wait_until(
            lambda members: [m.state for m in members] == ["idle"], 20), store.pool.members()
        assert len(store.pool.workers_alive()) == 1
    finally:
        store.close()
    unsourced = EmbeddedStore(ox.Store())
    unsourced.warm()  # a caller's store: nothing to start until a query needs it
    assert unsourced.pool is None


def test_a_worker_answers_from_disk_while_it_loads_into_memory(release):
    from publisher.store.engine.pool import WorkerPool
    from publisher.store.engine.worker import Job

    folder = Path(release.path)
    with WorkerPool([folder / STORE_DIR, release.graph_file, folder / "metadata.nq"],
                    workers=1) as pool:
        counts = set()
        for _ in range(20):  # first from the store on disk, later from memory: same answer
            answer = pool.run(Job(COUNT, JSON, 10), 20)
            counts.add(json.loads(answer.body)["results"]["bindings"][0]["n"]["value"])
            # A fixed pause on purpose: the queries are spread over the worker's load into
            # memory, which it announces to no one, so some come before it and some after.
            time.sleep(0.05)
    assert counts == {str(_distinct_triples(release))}


def test_issue8_one_query_worker_for_the_on_disk_store_unless_set(release):
    def workers(**options) -> int:
        store = EmbeddedStore.from_release(release, **options)
        store.close()  # no query was asked: no worker was started
        return store.query_workers

    assert workers(query_workers=0, in_memory_max_triples=0) == 1  # served from disk
    assert workers(query_workers=0) == 2  # loaded into memory
    assert workers(query_workers=3, in_memory_max_triples=0) == 3  # the operator's number
    assert workers(query_workers=1) == 1

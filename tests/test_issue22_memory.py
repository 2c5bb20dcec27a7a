"""Issue #22, item 4: serving stays under 400 MB at 100k triples under default settings.

At 100k the web process held a third in-memory copy of the graph next to its two query
workers' (543 MB in all). Now the web process reads the release's on-disk store and only
the workers load the graph into memory; above TWO_WORKERS_MAX_TRIPLES there is one worker.
The megabytes themselves are measured by the benchmark (bench/RESULTS.md), not here.
"""

from __future__ import annotations

from dataclasses import replace

import pyoxigraph as ox
import pytest

from publisher.store.embedded import STORE_DIR, TWO_WORKERS_MAX_TRIPLES, EmbeddedStore
from tests.waiting import until


def _workers(store: EmbeddedStore, expected: int) -> int:
    store.warm()
    until(lambda: len(store.pool.workers_alive()) == expected, 30,
          f"{expected} query workers to start")
    return len(store.pool.workers_alive())


def test_issue22_the_web_process_reads_the_on_disk_store(release):
    store = EmbeddedStore.from_release(release)
    try:
        assert store.sources[0].endswith(STORE_DIR)  # the workers answer from it first
        assert any(s.endswith(".nq") for s in store.sources[1:])  # then from memory
        with pytest.raises(RuntimeError, match="read-write"):  # read-only: no copy of its own
            store.ox.update("INSERT DATA { <urn:a> <urn:b> <urn:c> }")
        assert len(store.ox) > 0
    finally:
        store.close()


@pytest.mark.parametrize("triples, query_workers, expected", [
    (None, 0, 2),  # the shipped graph, small: two workers
    (TWO_WORKERS_MAX_TRIPLES + 1, 0, 1),  # above the threshold: one
    (TWO_WORKERS_MAX_TRIPLES * 10, 2, 2),  # query_workers set: obeyed
], ids=["small-graph-two", "above-threshold-one", "setting-obeyed"])
def test_issue22_query_workers_by_size(release, triples, query_workers, expected):
    if triples is None:
        assert int(release.info["triples"]) <= TWO_WORKERS_MAX_TRIPLES
    else:
        release = replace(release, info={**release.info, "triples": triples})
    store = EmbeddedStore.from_release(release, query_workers=query_workers)
    try:
        assert _workers(store, expected) == expected
    finally:
        store.close()


def test_issue22_without_an_on_disk_store_the_graph_is_loaded(release, tmp_path):
    import shutil

    copy = tmp_path / "release"
    shutil.copytree(release.path, copy, ignore=shutil.ignore_patterns(STORE_DIR))
    store = EmbeddedStore.from_release(replace(release, path=copy))
    try:
        store.ox.update("INSERT DATA { <urn:a> <urn:b> <urn:c> }")  # in memory: its own
        assert ox.Quad(ox.NamedNode("urn:a"), ox.NamedNode("urn:b"), ox.NamedNode("urn:c"),
                       ox.DefaultGraph()) in store.ox
    finally:
        store.close()

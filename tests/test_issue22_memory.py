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


def test_issue22_two_workers_for_a_small_graph(release):
    assert int(release.info["triples"]) <= TWO_WORKERS_MAX_TRIPLES
    store = EmbeddedStore.from_release(release)
    try:
        assert _workers(store, 2) == 2
    finally:
        store.close()


def test_issue22_one_worker_above_the_threshold(release):
    large = replace(release, info={**release.info, "triples": TWO_WORKERS_MAX_TRIPLES + 1})
    store = EmbeddedStore.from_release(large)
    try:
        assert _workers(store, 1) == 1
    finally:
        store.close()


def test_issue22_query_workers_set_is_obeyed(release):
    large = replace(release, info={**release.info, "triples": TWO_WORKERS_MAX_TRIPLES * 10})
    store = EmbeddedStore.from_release(large, query_workers=2)
    try:
        assert _workers(store, 2) == 2
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

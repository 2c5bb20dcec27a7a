"""Past releases' stores, opened on demand and few at a time (issue 25).

Mementos, TimeMaps and `/sparql?release=` read releases other than the one served. Each is
opened from its on-disk store (read-only, `store/` in the release folder: shared with the
page cache, not loaded into memory) when first asked for, and at most `size` stay open, the
least recently used closed first (its SPARQL workers stopped). A release without an on-disk
store is loaded from its files, as the embedded store does for small graphs.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from pathlib import Path

import pyoxigraph as ox

from publisher.store.base import ReleaseOnDisk, StoreError
from publisher.store.embedded import STORE_DIR, EmbeddedStore

__all__ = ["PastStores"]


class PastStores:
    """A small LRU of opened past releases, keyed by build id."""

    def __init__(self, size: int = 2, query_memory: int = 0):
        self.size = max(1, size)
        self.query_memory = query_memory
        self._open: OrderedDict[str, EmbeddedStore] = OrderedDict()
        self._lock = threading.Lock()
        self.opened = 0  # how many times a store was opened (tests and metrics read it)

    def get(self, release: ReleaseOnDisk) -> EmbeddedStore:
        """The release's store, opened now unless it is among the open ones."""
        with self._lock:
            found = self._open.get(release.build_id)
            if found is not None:
                self._open.move_to_end(release.build_id)
                return found
        store = _open(release, self.query_memory)
        closed: list[EmbeddedStore] = []
        with self._lock:
            raced = self._open.get(release.build_id)
            if raced is not None:  # another thread opened it meanwhile: keep one
                closed.append(store)
                store = raced
            else:
                self.opened += 1
                self._open[release.build_id] = store
            while len(self._open) > self.size:
                closed.append(self._open.popitem(last=False)[1])
        for old in closed:
            old.close()
        return store

    def held(self) -> list[str]:
        """The build ids open right now, least recently used first."""
        with self._lock:
            return list(self._open)

    def close(self) -> None:
        """Close every open store."""
        with self._lock:
            stores = list(self._open.values())
            self._open.clear()
        for store in stores:
            store.close()


def _open(release: ReleaseOnDisk, query_memory: int) -> EmbeddedStore:
    """A past release's store: its on-disk store read-only (one query worker), else its files."""
    disk = Path(release.path) / STORE_DIR
    if disk.is_dir():
        try:
            store = ox.Store.read_only(str(disk))
        except OSError as exc:
            raise StoreError(f"cannot open the release's store {disk}: {exc}") from None
        return EmbeddedStore(store, release.build_id, sources=[disk], query_workers=1,
                             union=True, query_memory=query_memory)
    return EmbeddedStore.from_release(release, query_workers=1, in_memory_max_triples=0,
                                      query_memory=query_memory)


"""Past releases' stores, opened on demand and few at a time (issue 25).

Mementos, TimeMaps and `/sparql?release=` read releases other than the one served. Each is
opened from its on-disk store (read-only, `store/` in the release folder: shared with the
page cache, not loaded into memory) when first asked for, and at most `size` stay open, the
least recently used closed first (its SPARQL workers stopped) once nobody uses it: a
request leases the stores it reads, and one pushed out while leased is closed by its last
user. A release without an on-disk store is loaded from its files, as the embedded store
does for small graphs.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from publisher.store.base import ReleaseOnDisk, StoreError
from publisher.store.embedded import STORE_DIR, EmbeddedStore

__all__ = ["PastStores"]


@dataclass
class _Entry:
    """An opened past release: how many are using it, and whether it left the LRU."""

    store: EmbeddedStore
    users: int = 0
    retired: bool = False


class PastStores:
    """A small LRU of opened past releases, keyed by build id.

    A store is leased (acquire/release, or `lease`): one pushed out of the LRU while a
    request still uses it (a query running in its worker) is closed when its last user is
    done, not under that user's feet. So at most `size` idle stores stay open, plus those
    in use at the moment (bounded by the requests running at once)."""

    def __init__(self, size: int = 2, query_memory: int = 0):
        self.size = max(1, size)
        self.query_memory = query_memory
        self._open: OrderedDict[str, _Entry] = OrderedDict()
        self._leased: dict[int, _Entry] = {}  # id(store) -> its entry, while leased
        self._retiring: list[_Entry] = []  # out of the LRU, still in use
        self._lock = threading.Lock()
        self.opened = 0  # how many times a store was opened (tests and metrics read it)
        self.closed = 0  # how many times one was closed

    def acquire(self, release: ReleaseOnDisk) -> EmbeddedStore:
        """The release's store (opened now unless it is among the open ones), leased to the
        caller until it calls release(store)."""
        with self._lock:
            found = self._open.get(release.build_id)
            if found is not None:
                self._open.move_to_end(release.build_id)
                return self._lease(found)
        store = _open(release, self.query_memory)
        closed: list[EmbeddedStore] = []
        with self._lock:
            entry = self._open.get(release.build_id)
            if entry is not None:  # another thread opened it meanwhile: keep one
                closed.append(store)
            else:
                self.opened += 1
                entry = self._open[release.build_id] = _Entry(store)
            leased = self._lease(entry)
            while len(self._open) > self.size:
                old = self._open.popitem(last=False)[1]
                if old.users:  # in use: closed by its last user's release()
                    old.retired = True
                    self._retiring.append(old)
                else:
                    closed.append(old.store)
        self._close(closed)
        return leased

    def _lease(self, entry: _Entry) -> EmbeddedStore:
        entry.users += 1
        self._leased[id(entry.store)] = entry
        return entry.store

    def release(self, store: EmbeddedStore) -> None:
        """One user is done with a store acquire() gave; the last one closes it if it has
        left the LRU meanwhile."""
        closed: list[EmbeddedStore] = []
        with self._lock:
            entry = self._leased.get(id(store))
            if entry is None or entry.store is not store:
                raise ValueError("release() of a store that is not leased")
            entry.users -= 1
            if entry.users == 0:
                del self._leased[id(store)]
                if entry.retired:
                    self._retiring.remove(entry)
                    closed.append(store)
        self._close(closed)

    @contextmanager
    def lease(self, release: ReleaseOnDisk) -> Iterator[EmbeddedStore]:
        """The release's store for the length of a `with` block."""
        store = self.acquire(release)
        try:
            yield store
        finally:
            self.release(store)

    def held(self) -> list[str]:
        """The build ids in the LRU right now, least recently used first."""
        with self._lock:
            return list(self._open)

    def in_use(self) -> int:
        """How many stores are leased right now (those out of the LRU included)."""
        with self._lock:
            return len(self._leased)

    def close(self) -> None:
        """Close every open store; those in use close when their last user is done."""
        closed = []
        with self._lock:
            for entry in self._open.values():
                if entry.users:
                    entry.retired = True
                    self._retiring.append(entry)
                else:
                    closed.append(entry.store)
            self._open.clear()
        self._close(closed)

    def _close(self, stores: list[EmbeddedStore]) -> None:
        for store in stores:
            store.close()
            with self._lock:
                self.closed += 1


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

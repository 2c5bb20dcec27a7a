"""Bytes kept in memory for repeated requests, all under one budget, least recently used first.

A server keeps several things for repeated requests: rendered documents, SPARQL answers,
and whole responses made from them. They share one `Budget`, so the setting `cache_bytes`
bounds them together, and a bytes object held by more than one entry (a kept response's
body is the very object of the document or answer it was made from) is counted once.

Each kind of entry lives in its own `Shelf` (a namespace with its own hit and miss counts).
A kept value tells what it costs: `blobs`, the bytes objects it holds now, and `overhead`,
an estimate of everything else in bytes. The key's strings are counted too.

Written here rather than with cachetools: its size function sees one item at a time, so it
can neither count bytes shared between entries once nor hand one budget to several caches.
"""

from __future__ import annotations

import sys
import threading
from collections import OrderedDict
from collections.abc import Hashable, Iterator
from typing import Any, NamedTuple, Protocol

__all__ = ["ENTRY_OVERHEAD", "Budget", "Held", "Keepable", "Shelf", "key_size"]

ENTRY_OVERHEAD = 160  # bytes of one entry's own bookkeeping (dict slot, tuples, counts)
_Key = tuple[str, Hashable]  # a budget's key: the shelf's name and the key on the shelf


class Keepable(Protocol):
    """What a kept value tells about its size."""

    @property
    def blobs(self) -> tuple[bytes, ...]:
        """The bytes objects the value holds now (counted once however many entries hold them)."""

    @property
    def overhead(self) -> int:
        """Bytes of everything else the value holds, estimated."""


def key_size(key: Any) -> int:
    """Bytes a key takes, roughly: its strings and the tuples holding them."""
    if isinstance(key, str | bytes):
        return sys.getsizeof(key)
    if isinstance(key, tuple):
        return 40 + 8 * len(key) + sum(key_size(part) for part in key)
    return 32


class Held(NamedTuple):
    """One entry of a budget as it is counted: the shelf's name, the key on the shelf, the
    value, and `cost`, the bytes counted for it besides its blobs (bookkeeping, key and the
    value's overhead as they were when it was kept)."""

    shelf: str
    key: Hashable
    value: Any
    cost: int


class _Entry:
    __slots__ = ("blobs", "cost", "shelf", "value")

    def __init__(self, value: Any, shelf: Shelf, blobs: tuple[bytes, ...], cost: int):
        self.value, self.shelf, self.blobs, self.cost = value, shelf, blobs, cost


class Budget:
    """One least-recently-used store bounded by bytes, shared by the shelves made from it.

    `max_bytes` 0 keeps nothing. A value that alone costs more than the budget is not kept
    (and pushes nothing out).
    """

    def __init__(self, max_bytes: int):
        self.max_bytes = max(0, int(max_bytes))
        self._items: OrderedDict[_Key, _Entry] = OrderedDict()
        self._blobs: dict[int, list[int]] = {}  # id of a held bytes object: [holders, size]
        self._bytes = 0
        self.lock = threading.Lock()

    def shelf(self, name: str) -> Shelf:
        """A namespace of this budget with its own counts (one per kind of entry)."""
        return Shelf(self, name)

    @property
    def size(self) -> int:
        """Bytes counted against the budget now."""
        return self._bytes

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[Held]:
        """The entries kept now, least recently used first, as a snapshot: reading them
        counts no hit and moves nothing."""
        with self.lock:
            held = [Held(name, key, entry.value, entry.cost)
                    for (name, key), entry in self._items.items()]
        return iter(held)

    def _hold(self, blobs: tuple[bytes, ...]) -> int:
        """Count blobs as held by one more entry; return the bytes that are new."""
        added = 0
        for blob in blobs:
            held = self._blobs.get(id(blob))
            if held is None:
                self._blobs[id(blob)] = [1, len(blob)]
                added += len(blob)
            else:
                held[0] += 1
        return added

    def _release(self, blobs: tuple[bytes, ...]) -> int:
        """Count blobs as held by one entry fewer; return the bytes no entry holds any more."""
        freed = 0
        for blob in blobs:
            held = self._blobs[id(blob)]
            held[0] -= 1
            if held[0] == 0:
                del self._blobs[id(blob)]
                freed += held[1]
        return freed

    def _drop(self, key: _Key) -> None:
        entry = self._items.pop(key)
        self._bytes -= entry.cost + self._release(entry.blobs)
        entry.shelf.entries -= 1

    def _get(self, key: _Key, shelf: Shelf) -> Any:
        with self.lock:
            entry = self._items.get(key)
            if entry is None:
                shelf.misses += 1
                return None
            self._items.move_to_end(key)
            shelf.hits += 1
            blobs = entry.value.blobs
            if len(blobs) != len(entry.blobs):  # it grew (a gzip form made on demand)
                self._bytes += self._hold(blobs) - self._release(entry.blobs)
                entry.blobs = blobs
                self._shrink()
            return entry.value

    def _put(self, key: _Key, value: Keepable, shelf: Shelf) -> bool:
        blobs = tuple(value.blobs)
        cost = ENTRY_OVERHEAD + key_size(key) + int(value.overhead)
        if cost + sum(map(len, blobs)) > self.max_bytes:
            return False
        with self.lock:
            if key in self._items:
                self._drop(key)
            self._items[key] = _Entry(value, shelf, blobs, cost)
            self._bytes += cost + self._hold(blobs)
            shelf.entries += 1
            self._shrink()
            return key in self._items

    def _shrink(self) -> None:
        """Drop the least recently used entries until the budget holds (lock held)."""
        while self._bytes > self.max_bytes and self._items:
            self._drop(next(iter(self._items)))

    def clear(self) -> None:
        """Forget everything."""
        with self.lock:
            while self._items:
                self._drop(next(iter(self._items)))


class Shelf:
    """The entries of one kind in a budget: get and put by key, hits and misses counted."""

    def __init__(self, budget: Budget, name: str):
        self.budget, self.name = budget, name
        self.hits = self.misses = self.entries = 0

    def get(self, key: Hashable) -> Any:
        """The value kept under key (now the most recently used), or None; counts a hit or a
        miss."""
        return self.budget._get((self.name, key), self)

    def put(self, key: Hashable, value: Keepable) -> bool:
        """Keep value under key, dropping the least recently used entries of any shelf as
        needed; False when it is not kept (it alone costs more than the budget)."""
        return self.budget._put((self.name, key), value, self)

    def kept(self) -> list[Hashable]:
        """The keys kept on this shelf now, least recently used first."""
        with self.budget.lock:
            return [key[1] for key in self.budget._items if key[0] == self.name]

    def count_hit(self) -> None:
        """Count a hit served from elsewhere (a whole-response memo in front of this shelf)."""
        with self.budget.lock:
            self.hits += 1

    def __len__(self) -> int:
        return self.entries

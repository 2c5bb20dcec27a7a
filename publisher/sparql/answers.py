"""Answers to repeated SPARQL queries, kept per build so they skip admission and the workers.

A key holds the build id, the query text and everything else the answer depends on (media
type, protocol dataset, result cap, base IRI), so a reload never serves an old build's
answer; old entries age out of the least-recently-used order. Queries that call RAND(),
NOW(), UUID() or STRUUID() are never kept (guard.CheckedQuery.deterministic).
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Hashable

from cachetools import LRUCache

from publisher import metrics
from publisher.store.base import QueryAnswer

__all__ = ["AnswerCache", "answer_hits", "answer_key", "etag_of"]

_OVERHEAD = 256  # bytes a small entry costs beyond its body (key, tuple, answer object)


def answer_key(build_id: str, text: str, media_type: str, default_graphs=(),
               named_graphs=(), max_results: int = 0, base_iri: str | None = None) -> tuple:
    """The cache key of one answer (the text stripped: outer whitespace never changes it)."""
    return (build_id, text.strip(), media_type, tuple(default_graphs), tuple(named_graphs),
            max_results, base_iri or "")


def etag_of(key: Hashable) -> str:
    """The (weak) entity tag of an answer, unquoted: same build, same query, same answer."""
    return hashlib.sha256(repr(key).encode("utf-8")).hexdigest()[:32]


def _lookups():
    return metrics.counter("kiezgraph_sparql_cache_lookups",
                           "Lookups in the cache of SPARQL answers, by result.", ("result",))


def answer_hits():
    """The hit counter (also counts answers sent again from a whole-response memo)."""
    return _lookups().labels("hit")


class AnswerCache:
    """A least-recently-used mapping of answer keys to answers, bounded by their bytes.

    cachetools does the bookkeeping; it is not thread-safe, hence the lock (held only for
    dictionary operations, never while a query runs).
    """

    def __init__(self, max_bytes: int):
        self.max_bytes = max(0, int(max_bytes))
        self._items: LRUCache = LRUCache(maxsize=max(1, self.max_bytes),
                                         getsizeof=lambda a: len(a.body) + _OVERHEAD)
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> QueryAnswer | None:
        """The answer kept for key, or None (counted as a hit or a miss in /metrics)."""
        if not self.max_bytes:
            return None
        with self._lock:
            found = self._items.get(key)
        _lookups().labels("hit" if found is not None else "miss").inc()
        return found

    def put(self, key: Hashable, answer: QueryAnswer) -> None:
        """Keep an answer (one larger than the whole cache is not kept)."""
        if not self.max_bytes or len(answer.body) + _OVERHEAD > self.max_bytes:
            return
        with self._lock:
            self._items[key] = answer

    @property
    def size(self) -> int:
        """Bytes held."""
        return int(self._items.currsize)

    def __len__(self) -> int:
        return len(self._items)

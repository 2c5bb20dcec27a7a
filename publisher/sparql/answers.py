"""Answers to repeated SPARQL queries, kept per build so they skip admission and the workers.

A key holds the build id, the query text and everything else the answer depends on (media
type, protocol dataset, result caps, base IRI), so a reload never serves an old build's
answer; old entries age out of the least-recently-used order of the budget they share with
the server's other caches (publisher.budget, setting `cache_bytes`). Queries that call
RAND(), NOW(), UUID() or STRUUID() are never kept (guard.CheckedQuery.deterministic).
"""

from __future__ import annotations

import hashlib
from collections.abc import Hashable, Iterable

from prometheus_client import Counter

from publisher import metrics
from publisher.budget import Budget
from publisher.sparql.errors import QueryAnswer

__all__ = ["AnswerCache", "AnswerKey", "answer_hits", "answer_key", "etag_of"]

_OVERHEAD = 120  # bytes an answer holds beyond its body and media type (the objects)

# build id, text, media type, default graphs, named graphs, max results, base IRI, max bytes
AnswerKey = tuple[str, str, str, tuple[str, ...], tuple[str, ...], int, str, int]


def answer_key(build_id: str, text: str, media_type: str, default_graphs: Iterable[str] = (),
               named_graphs: Iterable[str] = (), max_results: int = 0,
               base_iri: str | None = None, max_bytes: int = 0) -> AnswerKey:
    """The cache key of one answer (the text stripped: outer whitespace never changes it)."""
    return (build_id, text.strip(), media_type, tuple(default_graphs), tuple(named_graphs),
            max_results, base_iri or "", max_bytes)


def etag_of(key: Hashable) -> str:
    """The (weak) entity tag of an answer, unquoted: same build, same query, same answer."""
    return hashlib.sha256(repr(key).encode("utf-8")).hexdigest()[:32]


def _lookups() -> Counter:
    return metrics.counter("kiezgraph_sparql_cache_lookups",
                           "Lookups in the cache of SPARQL answers, by result.", ("result",))


def answer_hits() -> Counter:
    """The hit counter (also counts answers sent again from a whole-response memo)."""
    return _lookups().labels("hit")


class _Kept:
    """An answer as kept: its body is the blob, the rest is small."""

    __slots__ = ("answer",)

    def __init__(self, answer: QueryAnswer):
        self.answer = answer

    @property
    def blobs(self) -> tuple[bytes, ...]:
        """The answer's body."""
        return (self.answer.body,)

    @property
    def overhead(self) -> int:
        """Bytes of the rest: media type, counts, the objects."""
        return len(self.answer.media_type) + _OVERHEAD


class AnswerCache:
    """The answers on their shelf of a budget (publisher.budget): least recently used dropped
    first, together with whatever else the budget holds; lookups counted in /metrics."""

    def __init__(self, budget: Budget):
        self.budget = budget
        self._shelf = budget.shelf("answers")

    def get(self, key: Hashable) -> QueryAnswer | None:
        """The answer kept for key, or None (counted as a hit or a miss in /metrics)."""
        if not self.budget.max_bytes:
            return None
        found = self._shelf.get(key)
        _lookups().labels("hit" if found is not None else "miss").inc()
        return None if found is None else found.answer

    def put(self, key: Hashable, answer: QueryAnswer) -> None:
        """Keep an answer (one larger than the whole budget is not kept)."""
        if self.budget.max_bytes:
            self._shelf.put(key, _Kept(answer))

    def __len__(self) -> int:
        return len(self._shelf)

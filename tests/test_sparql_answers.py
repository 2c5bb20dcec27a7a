"""The answer cache: bounded by bytes, least recently used dropped first, keys per build."""

from __future__ import annotations

from publisher import metrics
from publisher.budget import Budget
from publisher.sparql.answers import AnswerCache, answer_key, etag_of
from publisher.store.base import QueryAnswer


def _answer(size: int) -> QueryAnswer:
    return QueryAnswer(body=b"x" * size, media_type="application/sparql-results+json",
                       count=1, truncated=False)


class _Blob:
    """Something else kept under the same budget."""

    def __init__(self, body: bytes):
        self.blobs, self.overhead = (body,), 0


def _lookups(result: str) -> float:
    return metrics.REGISTRY.get_sample_value("kiezgraph_sparql_cache_lookups_total",
                                             {"result": result}) or 0.0


def test_keys_differ_by_build_format_and_dataset_not_by_outer_whitespace():
    key = answer_key("b1", "ASK {}", "text/csv")
    assert key == answer_key("b1", "  ASK {}\n", "text/csv")
    others = [answer_key("b2", "ASK {}", "text/csv"), answer_key("b1", "ASK {}", "text/tsv"),
              answer_key("b1", "ASK {}", "text/csv", default_graphs=["http://g"]),
              answer_key("b1", "ASK { }", "text/csv")]
    assert len({key, *others}) == 5
    assert len({etag_of(k) for k in (key, *others)}) == 5


def test_bounded_by_bytes_least_recently_used_first():
    cache = AnswerCache(Budget(max_bytes=4000))
    for name in "abc":
        cache.put(name, _answer(700))
    assert cache.get("a") is not None  # a is now the most recently used
    cache.put("d", _answer(700))  # over 4000 bytes with what each entry costs: b goes
    assert cache.get("b") is None
    assert all(cache.get(k) is not None for k in "acd")
    assert cache.budget.size <= 4000
    cache.put("huge", _answer(5000))  # larger than the whole budget: not kept
    assert cache.get("huge") is None and len(cache) == 3


def test_the_budget_is_shared_with_the_other_caches():
    budget = Budget(max_bytes=4000)
    cache, other = AnswerCache(budget), budget.shelf("rendered")
    cache.put("a", _answer(1500))
    other.put("doc", _Blob(b"y" * 1500))
    cache.put("b", _answer(1500))  # the oldest entry of any kind goes
    assert cache.get("a") is None and other.get("doc") is not None
    assert budget.size <= 4000 and len(cache) == 1


def test_hits_and_misses_are_counted():
    cache = AnswerCache(Budget(max_bytes=1 << 20))
    hits, misses = _lookups("hit"), _lookups("miss")
    cache.get("absent")
    cache.put("present", _answer(10))
    cache.get("present")
    assert (_lookups("hit") - hits, _lookups("miss") - misses) == (1, 1)


def test_zero_bytes_turns_it_off():
    cache = AnswerCache(Budget(max_bytes=0))
    cache.put("a", _answer(1))
    assert cache.get("a") is None and len(cache) == 0

"""One budget for everything kept: bounded by bytes across shelves, shared bytes counted once."""

from __future__ import annotations

import threading

from publisher.budget import ENTRY_OVERHEAD, Budget, key_size


class Kept:
    """A value with the sizes the budget asks for; `grow` adds a blob, as a gzip form does."""

    def __init__(self, *blobs: bytes, overhead: int = 0):
        self._blobs, self.overhead = tuple(blobs), overhead

    @property
    def blobs(self) -> tuple[bytes, ...]:
        return self._blobs

    def grow(self, blob: bytes) -> None:
        self._blobs += (blob,)


def _cost(name: str, key, *blobs: bytes) -> int:
    return ENTRY_OVERHEAD + key_size((name, key)) + sum(map(len, blobs))


def test_one_budget_bounds_every_shelf_least_recently_used_first():
    budget = Budget(10_000)
    documents, answers = budget.shelf("documents"), budget.shelf("answers")
    documents.put("d1", Kept(b"d" * 3000))
    answers.put("a1", Kept(b"a" * 3000))
    documents.put("d2", Kept(b"e" * 3000))
    assert documents.get("d1") is not None  # d1 is now the most recently used
    answers.put("a2", Kept(b"b" * 3000))  # the oldest of any shelf goes: a1
    assert answers.get("a1") is None
    assert documents.kept() == ["d2", "d1"] and answers.kept() == ["a2"]
    assert budget.size <= 10_000 and len(budget) == 3
    assert (len(documents), len(answers)) == (2, 1)


def test_bytes_held_by_two_entries_are_counted_once():
    budget = Budget(1 << 20)
    body = b"x" * 50_000
    budget.shelf("rendered").put("doc", Kept(body))
    budget.shelf("responses").put(("GET", "/doc"), Kept(body, overhead=300))
    assert budget.size == (_cost("rendered", "doc", body)
                           + _cost("responses", ("GET", "/doc")) + 300)
    # an equal but distinct bytes object is other memory: counted again
    budget.shelf("responses").put(("HEAD", "/doc"), Kept(bytes(bytearray(body))))
    assert budget.size > 2 * len(body)


def test_shared_bytes_stay_counted_while_any_entry_holds_them():
    body, other, third = b"y" * 4000, b"z" * 4000, b"w" * 4000
    survivors = (("responses", "get", body), ("rendered", "other", other),
                 ("rendered", "third", third))
    budget = Budget(sum(_cost(*k) for k in survivors))  # no room for "doc" besides them
    rendered, responses = budget.shelf("rendered"), budget.shelf("responses")
    rendered.put("doc", Kept(body))
    responses.put("get", Kept(body))
    rendered.put("other", Kept(other))
    rendered.put("third", Kept(third))  # pushes out "doc"; its body lives on in "get"
    assert rendered.get("doc") is None and responses.get("get") is not None
    assert budget.size == budget.max_bytes
    budget.clear()
    assert budget.size == 0 and len(budget) == 0
    # no count of a bytes object outlives the entries: kept again, each counts in full
    for name, key, blob in survivors:
        budget.shelf(name).put(key, Kept(blob))
    assert budget.size == budget.max_bytes


def test_a_value_that_grows_is_counted_from_its_next_lookup():
    budget = Budget(10_000)
    shelf = budget.shelf("rendered")
    doc = Kept(b"d" * 3000)
    shelf.put("doc", doc)
    shelf.put("old", Kept(b"o" * 3000))
    doc.grow(b"g" * 5000)  # its gzip form, made after it was kept
    assert shelf.get("doc") is doc
    assert budget.size <= 10_000  # the growth pushed "old" out
    assert shelf.get("old") is None
    assert budget.size == _cost("rendered", "doc", b"d" * 3000, b"g" * 5000)


def test_too_large_a_value_is_not_kept_and_pushes_nothing_out():
    budget = Budget(5000)
    shelf = budget.shelf("answers")
    assert shelf.put("small", Kept(b"s" * 1000))
    assert not shelf.put("huge", Kept(b"h" * 6000))
    assert shelf.get("huge") is None and shelf.get("small") is not None


def test_zero_bytes_keeps_nothing():
    shelf = Budget(0).shelf("rendered")
    assert not shelf.put("a", Kept(b"a"))
    assert shelf.get("a") is None and len(shelf) == 0


def test_hits_and_misses_are_counted_per_shelf():
    budget = Budget(1 << 20)
    documents, answers = budget.shelf("documents"), budget.shelf("answers")
    documents.put("d", Kept(b"d"))
    documents.get("d")
    documents.get("absent")
    answers.get("d")  # the same key on another shelf is another entry
    documents.count_hit()
    assert (documents.hits, documents.misses, answers.hits, answers.misses) == (2, 1, 0, 1)


def test_the_key_counts_against_the_budget():
    budget = Budget(1 << 20)
    long_key = ("build", "q" * 20_000)
    budget.shelf("answers").put(long_key, Kept(b"a"))
    assert budget.size > 20_000


def test_threads_keep_the_count_exact():
    budget = Budget(200_000)
    shelves = [budget.shelf(f"s{i}") for i in range(4)]
    shared = b"shared" * 100

    def work(shelf):
        for i in range(500):
            shelf.put(i % 50, Kept(shared, bytes(200 + i % 7)))
            shelf.get((i * 7) % 50)

    threads = [threading.Thread(target=work, args=(s,)) for s in shelves]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    expected = sum(ENTRY_OVERHEAD + key_size((held.shelf, held.key)) + len(held.value.blobs[1])
                   for held in budget) + len(shared)
    assert budget.size == expected <= 200_000
    assert sum(len(s) for s in shelves) == len(budget)

"""Past releases' stores (publisher.store.past, issue 25): a store pushed out of the LRU while
a query still runs on it is closed when its last user is done, not under that query."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from publisher.store import past
from publisher.store.past import PastStores


@dataclass
class _Store:
    name: str
    closed: bool = False

    def close(self) -> None:
        self.closed = True


@dataclass
class _Release:
    build_id: str
    path: Path = Path("/nonexistent")
    info: dict = field(default_factory=dict)


@pytest.fixture()
def pool(monkeypatch):
    monkeypatch.setattr(past, "_open", lambda release, _memory: _Store(release.build_id))
    return PastStores(size=1)


def test_issue25_a_store_pushed_out_while_in_use_closes_when_its_last_user_is_done(pool):
    a = pool.acquire(_Release("a"))  # a query running on release a ...
    also_a = pool.acquire(_Release("a"))  # ... and a second one
    assert also_a is a and pool.opened == 1
    with pool.lease(_Release("b")) as b:  # release b pushes a out of the LRU
        assert pool.held() == ["b"] and not a.closed and not b.closed
    assert not b.closed  # idle in the LRU: kept open for the next request
    pool.release(a)
    assert not a.closed  # the second query still runs on it
    pool.release(also_a)
    assert a.closed and pool.in_use() == 0 and pool.closed == 1


def test_issue25_an_idle_store_pushed_out_closes_at_once(pool):
    with pool.lease(_Release("a")) as a:
        pass
    with pool.lease(_Release("b")):
        assert a.closed
    with pool.lease(_Release("a")) as again:  # asked for again: opened anew
        assert again is not a and pool.opened == 3


def test_issue25_closing_the_pool_waits_for_users(pool):
    a = pool.acquire(_Release("a"))
    pool.close()
    assert not a.closed and pool.held() == []
    pool.release(a)
    assert a.closed
    with pytest.raises(ValueError):
        pool.release(a)  # released once too often


def test_issue25_many_threads_leasing_leave_nothing_open_but_the_lru(pool):
    stores: list[_Store] = []
    lock = threading.Lock()

    def work(n: int) -> None:
        for i in range(50):
            with pool.lease(_Release(f"r{(n + i) % 4}")) as store:
                assert not store.closed
                with lock:
                    stores.append(store)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert pool.in_use() == 0 and len(pool.held()) == 1
    still_open = {id(s) for s in stores if not s.closed}
    assert len(still_open) == 1  # the one in the LRU; every other one was closed

"""Admission: a bounded number of queries at once, a few waiting briefly, the rest Busy."""

from __future__ import annotations

import threading

import pytest

from publisher.sparql.limits import Admission, Busy
from tests.waiting import until


def test_slots_waiters_and_busy():
    admission = Admission(limit=2, waiting=1, wait=3)
    release = threading.Event()
    held = []

    def hold():
        with admission.slot():
            held.append(1)
            release.wait(60)  # until the test lets go

    holders = [threading.Thread(target=hold) for _ in range(2)]
    for thread in holders:
        thread.start()
    until(lambda: len(held) == 2, 30, "both holders to take a slot")
    outcome = {}

    def wait_then_fail():
        try:
            with admission.slot():
                outcome["waiter"] = "ran"
        except Busy as exc:
            outcome["waiter"] = exc

    waiter = threading.Thread(target=wait_then_fail)
    waiter.start()
    until(lambda: admission.waiting_now == 1, 30, "the waiter to queue")
    with pytest.raises(Busy) as info, admission.slot():  # slots and queue full: at once
        pass
    assert "2 queries are running" in str(info.value)
    assert info.value.retry_after >= 1
    waiter.join()
    assert isinstance(outcome["waiter"], Busy)  # waited 3 s, no slot came free
    release.set()
    for thread in holders:
        thread.join()
    with admission.slot():  # slots come back
        pass


def test_a_waiter_gets_a_slot_that_frees_up():
    admission = Admission(limit=1, waiting=1, wait=5)
    entered = threading.Event()

    def hold():
        with admission.slot():
            entered.set()
            # lets go once the other query waits for this slot (not after a guessed 0.2 s)
            until(lambda: admission.waiting_now == 1, 30, "the second query to wait")

    holder = threading.Thread(target=hold)
    holder.start()
    entered.wait(5)
    with admission.slot():
        ran = True
    holder.join()
    assert ran

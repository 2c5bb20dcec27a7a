"""tests/waiting.py: a wait ends as soon as its probe says yes, and fails naming what."""

from __future__ import annotations

import itertools

import pytest

from tests.waiting import eventually, until


def test_eventually_returns_the_first_true_answer():
    answers = iter([None, 0, "", "yes"])
    assert eventually(lambda: next(answers), 5, "the fourth answer", interval=0) == "yes"


def test_a_wait_that_times_out_names_what_it_waited_for():
    with pytest.raises(AssertionError, match="the impossible; last seen: False"):
        until(lambda: False, 0.05, "the impossible", interval=0.01)


def test_ignored_exceptions_are_not_yet_and_others_end_the_wait():
    calls = itertools.count()

    def flaky() -> bool:
        if next(calls) < 2:
            raise ConnectionError("not listening yet")
        return True

    until(flaky, 5, "a listener", interval=0, ignoring=(ConnectionError,))
    with pytest.raises(ValueError):
        until(lambda: int("x"), 5, "never", ignoring=(ConnectionError,))


def test_what_may_be_told_only_when_the_wait_fails():
    told = []
    until(lambda: True, 1, lambda: told.append(1) or "never asked")
    assert not told
    with pytest.raises(AssertionError, match="the log says no"):
        until(lambda: False, 0.01, lambda: "the log says no", interval=0.01)

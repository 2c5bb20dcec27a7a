"""The full parse runs in killable parser processes: bounded in time, never under a lock (#14)."""

from __future__ import annotations

import contextlib
import threading
import time

import pytest

from publisher.sparql import sandbox
from publisher.sparql.guard import QueryRejected, check
from publisher.sparql.strict import pool
from publisher.store.base import QueryTimeout


def _bomb(number: int) -> str:
    """Issue #14's parser bomb (15.7 s for rdflib), made unique so no cache answers it."""
    return ("# service\nSELECT * WHERE { ?x ?p ?o FILTER(?x IN ("
            + ",".join(["1"] * 9900) + f",{number})) }}")


def test_issue14_a_slow_parse_is_stopped_at_its_limit_and_the_next_one_answers():
    started = time.monotonic()
    with pytest.raises(QueryTimeout, match="1 s"):
        check(_bomb(1), timeout=1.0)
    assert time.monotonic() - started < 1.0 + 10  # generous: killed, not parsed to the end
    assert check("ASK { ?s ?p ?o }", timeout=30).form == "ASK"


def test_issue14_parses_do_not_wait_for_each_other():
    """While a bomb is being parsed, other queries are checked: no process-wide lock."""
    events = []

    def slow() -> None:
        with contextlib.suppress(QueryTimeout):
            check(_bomb(2), timeout=8.0)
        events.append("bomb ended")

    thread = threading.Thread(target=slow)
    thread.start()
    assert pool().wait_until(lambda members: any(m.state == "busy" for m in members), 30)
    for number in range(3):
        check(f"SELECT * WHERE {{ ?s ?p {number} }}", timeout=30)
        events.append("small checked")
    thread.join()
    assert events.index("bomb ended") == len(events) - 1, events


def test_issue14_deep_nesting_is_a_400_not_a_crash():
    deep = "SELECT * WHERE { FILTER(" + "(" * 5000 + "1" + ")" * 5000 + ") }"
    with pytest.raises(QueryRejected) as info:
        check(deep, timeout=30)
    assert info.value.status == 400
    assert check("ASK {}", timeout=30).form == "ASK"


def test_syntax_errors_keep_their_position():
    with pytest.raises(QueryRejected) as info:
        check("SELECT * WHERE {\n  ?s ?p\n}", timeout=30)
    assert info.value.status == 400 and info.value.line == 2 and info.value.column == 3


@pytest.mark.skipif(not sandbox.supported(), reason="the sandbox needs Linux on x86-64/arm64")
def test_parser_processes_run_in_the_network_sandbox():
    check("ASK { ?s ?p 'sandboxed' }", timeout=30)
    pids = [member.pid for member in pool().members()]
    assert pids
    for pid in pids:
        with open(f"/proc/{pid}/status", encoding="ascii") as handle:
            status = dict(line.split(":", 1) for line in handle if ":" in line)
        assert status["Seccomp"].strip() == "2"  # filter mode


def test_issue21_only_a_parse_outcome_is_read_from_a_parser_process():
    """A parser process answers in JSON; the web process takes nothing else from it (a
    taken-over process cannot hand guard.check a form it would trust, nor objects)."""
    from publisher import children
    from publisher.sparql.strict import _outcome

    assert _outcome(["ok", "ASK", True, [["http://g/1"], []]]) == \
        ("ok", "ASK", True, (("http://g/1",), ()))
    assert _outcome(["rejected", 403, "no", None, None]) == ("rejected", 403, "no", None, None)
    for junk in (["ok", "DELETE", False, [[], []]], ["ok", "ASK", 1, [[], []]],
                 ["ok", "ASK", True, [[{"a": 1}], []]], ["rejected", 200, "fine", None, None],
                 ["rejected", True, "x", None, None], "cos\nsystem\n", {"ok": True}, None):
        with pytest.raises(children.ProtocolError):
            _outcome(junk)

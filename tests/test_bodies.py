"""publisher.web.bodies: request bodies read before the app, by a bounded number at once."""

from __future__ import annotations

import io
import threading

import pytest

from publisher.web.bodies import BodyGate

QUERY = b"ASK { ?s ?p ?o }"


class _Stalled(io.RawIOBase):
    """A body whose bytes never come, until released."""

    def __init__(self):
        self.started, self.release = threading.Event(), threading.Event()

    def read(self, size=-1):
        self.started.set()
        self.release.wait(30)
        return b""


def _environ(body, length: str | None, chunked: bool = False) -> dict:
    environ = {"REQUEST_METHOD": "POST", "PATH_INFO": "/sparql", "wsgi.input": body,
               "CONTENT_TYPE": "application/sparql-query"}
    if length is not None:
        environ["CONTENT_LENGTH"] = length
    if chunked:
        environ["HTTP_TRANSFER_ENCODING"] = "chunked"
    return environ


@pytest.fixture()
def gate(app):
    seen: list[dict] = []

    def inner(environ, start_response):
        seen.append({"body": environ["wsgi.input"].read(), "length": environ["CONTENT_LENGTH"],
                     "chunked": "HTTP_TRANSFER_ENCODING" in environ})
        start_response("200 OK", [])
        return [b"ok"]

    gate = BodyGate(app, inner, max_bytes=1000, threads=4)
    gate.seen = seen
    return gate


def _call(gate, environ) -> str:
    status: list[str] = []
    b"".join(gate(environ, lambda s, h, exc_info=None: status.append(s)))
    return status[0]


def test_the_app_gets_the_whole_body_from_memory(gate):
    assert _call(gate, _environ(io.BytesIO(QUERY), str(len(QUERY)))).startswith("200")
    chunked = _environ(io.BytesIO(QUERY), None, chunked=True)
    assert _call(gate, chunked).startswith("200")
    assert gate.seen == [{"body": QUERY, "length": str(len(QUERY)), "chunked": False}] * 2


def test_bodies_that_break_the_rules_are_refused_without_the_app(gate):
    assert _call(gate, _environ(io.BytesIO(b"x" * 2000), None, chunked=True)).startswith("413")
    assert _call(gate, _environ(io.BytesIO(b"short"), "100")).startswith("400")
    assert not gate.seen
    # a declared body over the limit is the app's to refuse (413), unread
    assert _call(gate, _environ(io.BytesIO(b""), "5000")).startswith("200")


def test_issue14_slow_bodies_take_at_most_threads_minus_two_places(gate):
    stalled = [_Stalled() for _ in range(2)]  # threads=4: two places
    waiting = [threading.Thread(target=_call, args=(gate, _environ(s, "10"))) for s in stalled]
    for thread in waiting:
        thread.start()
    for body in stalled:
        assert body.started.wait(10)
    refused = _call(gate, _environ(io.BytesIO(QUERY), str(len(QUERY))))
    assert refused.startswith("503")  # at once, not after the slow ones
    for body in stalled:
        body.release.set()
    for thread in waiting:
        thread.join(10)
    assert _call(gate, _environ(io.BytesIO(QUERY), str(len(QUERY)))).startswith("200")

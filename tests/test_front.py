"""publisher.web.front: bodies read and answers written on the loop, the app on its threads."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from publisher.web.front import FRAME, Front, wsgi_environ
from publisher.web.memo import MISS, REPLAY_ONLY
from tests.waiting import until

SCOPE = {"type": "http", "method": "GET", "path": "/doc/x", "raw_path": b"/doc/caf%C3%A9",
         "query_string": b"a=1&b=%20", "root_path": "", "scheme": "http",
         "http_version": "1.1", "server": ("127.0.0.1", 8000), "client": ("10.0.0.2", 5000),
         "headers": [(b"host", b"example.net"), (b"accept", b"text/turtle"),
                     (b"accept", b"text/html"), (b"cookie", b"a=1"), (b"cookie", b"b=2"),
                     (b"content-type", b"application/sparql-query")]}


class _App:
    """A WSGI app that says which thread ran it and answers what it is told to."""

    def __init__(self, body: bytes = b"ok", kept: bytes | None = None):
        self.body, self.kept = body, kept
        self.seen: list[tuple[str, dict]] = []
        self.closed = threading.Event()

    def __call__(self, environ, start_response):
        if REPLAY_ONLY in environ:
            if self.kept is None:
                return MISS
            start_response("200 OK", [("Content-Type", "text/plain")])
            self.seen.append(("replay:" + threading.current_thread().name, environ))
            return [self.kept]
        self.seen.append((threading.current_thread().name, dict(environ,
                          body=environ["wsgi.input"].read())))
        start_response("200 OK", [("Content-Type", "text/plain"),
                                  ("Content-Length", str(len(self.body)))])
        return _Closing([self.body[i:i + 1000] for i in range(0, len(self.body), 1000)],
                        self.closed)


class _Closing(list):
    def __init__(self, parts, closed):
        super().__init__(parts)
        self._closed = closed

    def close(self):
        self._closed.set()


def _in_a_loop_of_its_own(coroutine):
    """Run a coroutine to its end in a new event loop on a new thread, as granian runs the
    front on its own loop (and whatever loop an earlier test left in this thread is not
    ours to use)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def _front(app, **limits) -> Front:
    settings = {"threads": 2, "max_body_bytes": 1000, "body_timeout": 5.0,
                "send_timeout": 5.0, **limits}
    return Front(app, **settings)


def _run(front: Front, scope: dict, bodies: list[bytes] | None = None, *,
         stall: bool = False, reader_stalls_after: int | None = None):
    """Call the front as granian would; return the messages it sent."""
    sent: list[dict] = []
    parts = list(bodies or [b""])

    async def receive():
        if stall and not parts:
            await asyncio.sleep(3600)  # on purpose: the client sends no more
        part = parts.pop(0) if parts else b""
        return {"type": "http.request", "body": part, "more_body": bool(parts) or stall}

    async def send(message):
        if reader_stalls_after is not None and len(sent) >= reader_stalls_after:
            await asyncio.sleep(3600)  # the client reads no more
        sent.append(message)

    _in_a_loop_of_its_own(front(scope, receive, send))
    return sent


def test_the_environ_is_pep_3333():
    environ = wsgi_environ(SCOPE, b"body")
    assert environ["PATH_INFO"] == "/doc/café".encode().decode("latin-1")
    assert environ["QUERY_STRING"] == "a=1&b=%20"
    assert environ["HTTP_ACCEPT"] == "text/turtle,text/html"
    assert environ["HTTP_COOKIE"] == "a=1; b=2"
    assert environ["CONTENT_TYPE"] == "application/sparql-query"
    assert environ["CONTENT_LENGTH"] == "4" and environ["wsgi.input"].read() == b"body"
    assert (environ["REMOTE_ADDR"], environ["SERVER_NAME"], environ["SERVER_PORT"]) == \
        ("10.0.0.2", "127.0.0.1", "8000")


def test_the_app_gets_the_whole_body_on_one_of_its_threads():
    app = _App()
    scope = dict(SCOPE, method="POST", headers=[(b"transfer-encoding", b"chunked")])
    sent = _run(_front(app), scope, [b"ASK ", b"{ ?s ?p ?o }"])
    thread, environ = app.seen[0]
    assert thread.startswith("kiezgraph") and thread != threading.current_thread().name
    assert environ["body"] == b"ASK { ?s ?p ?o }" and environ["CONTENT_LENGTH"] == "16"
    assert "HTTP_TRANSFER_ENCODING" not in environ
    assert sent[0]["status"] == 200 and sent[-1] == {"type": "http.response.body",
                                                     "body": b"ok", "more_body": False}


def test_kept_answers_are_sent_from_the_loop_without_a_thread():
    app = _App(kept=b"kept")
    sent = _run(_front(app), SCOPE)
    [(thread, _environ)] = app.seen  # replayed once, on the loop's own thread
    assert thread.startswith("replay:") and not thread.startswith("replay:kiezgraph")
    assert sent[-1]["body"] == b"kept"


@pytest.mark.parametrize("headers, bodies", [
    ([(b"content-length", b"2000")], [b"x" * 2000]),  # declared too large
    ([(b"transfer-encoding", b"chunked")], [b"x" * 600, b"x" * 600]),  # grows too large
])
def test_bodies_over_the_limit_get_413_without_the_app(headers, bodies):
    app = _App()
    sent = _run(_front(app), dict(SCOPE, method="POST", headers=headers), bodies)
    assert sent[0]["status"] == 413 and not app.seen
    assert (b"x-content-type-options", b"nosniff") in sent[0]["headers"]
    assert (b"connection", b"close") in sent[0]["headers"]


def test_issue24_a_body_that_does_not_arrive_in_time_gets_408():
    app = _App()
    scope = dict(SCOPE, method="POST", headers=[(b"content-length", b"100")])
    sent = _run(_front(app, body_timeout=0.2), scope, [b"q"], stall=True)
    assert sent[0]["status"] == 408 and not app.seen
    assert b"0.2 s" in sent[-1]["body"]


def test_a_body_shorter_than_declared_gets_400():
    app = _App()
    scope = dict(SCOPE, method="POST", headers=[(b"content-length", b"100")])

    async def go():
        sent = []
        messages = [{"type": "http.request", "body": b"q", "more_body": True},
                    {"type": "http.disconnect"}]

        async def receive():
            return messages.pop(0)

        async def send(message):
            sent.append(message)

        await _front(app)(scope, receive, send)
        return sent

    sent = _in_a_loop_of_its_own(go())
    assert sent[0]["status"] == 400 and not app.seen


def test_large_answers_go_in_frames():
    app = _App(body=b"y" * (5 * FRAME + 17))
    sent = _run(_front(app), SCOPE)
    bodies = [m for m in sent if m["type"] == "http.response.body"]
    assert all(len(m["body"]) <= FRAME for m in bodies) and len(bodies) > 5
    assert b"".join(m["body"] for m in bodies) == app.body
    assert bodies[-1]["more_body"] is False and all(m["more_body"] for m in bodies[:-1])
    assert app.closed.is_set()


def test_issue24_a_reader_that_stops_is_dropped_after_send_timeout():
    app = _App(body=b"y" * (5 * FRAME))
    with pytest.raises(ConnectionAbortedError):
        _run(_front(app, send_timeout=0.2), SCOPE, reader_stalls_after=3)
    assert app.closed.is_set()  # the app's answer is closed all the same


def test_issue22_sparql_requests_wait_in_their_lane_and_beyond_it_get_503():
    """Two query threads and two places to wait: of six queries at once four are answered
    (two at a time, the others waiting on the loop), two get 503 with Retry-After, and a
    page is answered on the general threads meanwhile."""
    release = threading.Event()
    running: list[str] = []

    def app(environ, start_response):
        if REPLAY_ONLY in environ:
            return MISS
        if environ["PATH_INFO"] == "/sparql":
            running.append(threading.current_thread().name)
            release.wait(5)
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]

    front = _front(app, queries=2, queued=2)

    async def go():
        async def one(path: str) -> int:
            sent: list[dict] = []

            async def receive():
                return {"type": "http.request", "body": b"", "more_body": False}

            async def send(message):
                sent.append(message)

            await front(dict(SCOPE, path=path, raw_path=path.encode()), receive, send)
            return next(m for m in sent if m["type"] == "http.response.start")

        queries = [asyncio.create_task(one("/sparql")) for _ in range(6)]
        # awaited in a thread of the loop's own, so the queries go on meanwhile
        await asyncio.to_thread(until, lambda: len(running) == 2, 30,
                                "two queries to run in their lane", 0.01)
        page = await one("/doc/x")
        assert page["status"] == 200
        release.set()
        return await asyncio.gather(*queries)

    starts = _in_a_loop_of_its_own(go())
    statuses = sorted(start["status"] for start in starts)
    assert statuses == [200, 200, 200, 200, 503, 503]
    assert all((b"retry-after", b"1") in start["headers"]
               for start in starts if start["status"] == 503)
    assert all(name.startswith("kiezgraph-query") for name in running) and len(running) == 4

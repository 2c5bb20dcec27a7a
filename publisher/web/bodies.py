"""Slow request bodies under granian: at most `threads - 2` requests read a body at once.

granian calls a WSGI app in one of its `threads` blocking threads as soon as the headers
have arrived, and `wsgi.input` then reads from the socket: a client that declares a body
and sends it slowly (or a chunked body that never ends) holds that thread, and sixteen
such clients held every thread, /health included. granian 2.8 offers no body or read
timeout (only `http1_header_read_timeout`, for the headers) and `wsgi.input.read` takes
none. Reading the body in a thread of our own, with a deadline, does not work either:
while one body read waits in a thread granian did not start, other threads' waits stall
with it (measured: a 2 s wait ended after 24 s, when the clients closed).

So this middleware reads each body itself, on the thread granian gave the request, and
lets at most `threads - 2` requests do so at once; a request with a body that finds no
place gets `503` (with Retry-After) at once instead of waiting. Two threads therefore
always stay free for everything without a body: dereferencing, pages, /health (as
admission control keeps two free from SPARQL). A body that has arrived is read in
microseconds, so the places are only ever held by slow clients; the app then gets the
body from memory with its length in CONTENT_LENGTH.

waitress needs none of this: it reads the whole request in its event loop and hands a
thread only complete requests (slow clients hold a connection, not a thread). Behind
nginx, which buffers request bodies by default (`proxy_request_buffering on`,
`client_body_timeout`), slow clients never reach the server at all.
"""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Callable, Iterable

from flask import Flask

from publisher.web.observability import record

__all__ = ["CHUNK", "BodyGate"]

CHUNK = 64 << 10


def _read(stream, declared: int | None, limit: int) -> tuple[bytes, str | None]:
    """The body (to the declared length, or to the end of a chunked one) and what went
    wrong, if anything: "large" past the limit, "short" when it ended early or broke."""
    parts: list[bytes] = []
    size = 0
    try:
        while declared is None or size < declared:
            part = stream.read(CHUNK if declared is None else min(CHUNK, declared - size))
            if not part:
                if declared is not None:
                    return b"", "short"
                break
            parts.append(part)
            size += len(part)
            if size > limit:
                return b"", "large"
    except Exception:  # the client went away or sent a malformed chunk
        return b"", "short"
    return b"".join(parts), None


class BodyGate:
    """WSGI middleware: read request bodies before the app, at most `threads - 2` at once."""

    def __init__(self, app: Flask, wsgi_app: Callable, *, max_bytes: int, threads: int):
        self.app, self.wsgi_app, self.max_bytes = app, wsgi_app, max_bytes
        self.places = threading.BoundedSemaphore(max(1, threads - 2))

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
        length = (environ.get("CONTENT_LENGTH") or "").strip()
        if not chunked and length in ("", "0"):
            return self.wsgi_app(environ, start_response)
        try:
            declared = None if chunked else int(length)
        except ValueError:
            return self.wsgi_app(environ, start_response)  # werkzeug refuses it
        if declared is not None and not 0 <= declared <= self.max_bytes:
            return self.wsgi_app(environ, start_response)  # 413 (or 400), body never read
        started = time.perf_counter()
        if not self.places.acquire(blocking=False):
            return self._refuse(environ, start_response, started, 503,
                                "too many requests are sending a body right now; "
                                "try again shortly")
        try:
            body, problem = _read(environ["wsgi.input"], declared, self.max_bytes)
        finally:
            self.places.release()
        if problem == "large":
            return self._refuse(environ, start_response, started, 413,
                                f"the request body is larger than {self.max_bytes} bytes")
        if problem == "short":
            return self._refuse(environ, start_response, started, 400,
                                "the request body ended early or was malformed")
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        environ.pop("HTTP_TRANSFER_ENCODING", None)
        return self.wsgi_app(environ, start_response)

    def _refuse(self, environ: dict, start_response: Callable, started: float, status: int,
                message: str) -> Iterable[bytes]:
        """A short plain-text answer, counted and logged like any other request."""
        reasons = {400: "Bad Request", 413: "Content Too Large", 503: "Service Unavailable"}
        body = f"{status} {reasons[status]}: {message}\n".encode()
        headers = [("Content-Type", "text/plain; charset=utf-8"),
                   ("Content-Length", str(len(body))), ("Cache-Control", "no-store")]
        if status == 503:
            headers.append(("Retry-After", "1"))
        start_response(f"{status} {reasons[status]}", headers)
        record(self.app, environ.get("REQUEST_METHOD", ""), environ.get("PATH_INFO", ""),
               "<body>", status, time.perf_counter() - started)
        return [body]

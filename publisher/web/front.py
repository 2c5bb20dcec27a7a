"""The asynchronous front of `kiezgraph serve` under granian: slow clients hold no thread.

granian's WSGI interface hands a request to one of its blocking threads as soon as the
headers are in; the app then reads the body from the socket and writes the answer into a
channel of four frames, both on that thread. A client that sends its body slowly, or never
reads the answer, therefore holds a thread: sixteen such clients held every one (#24).

granian's ASGI interface does both on its event loop instead, with back-pressure. This
front sits there and gives the WSGI app a thread only for the work in between:

- the body is read on the loop, at most `max_body_bytes`, within `body_timeout` seconds of
  the headers (413 / 408 otherwise); the app gets it from memory, with its length;
- the app runs on one of `threads` threads, which stops at the first 256 KiB of the answer
  (most answers are whole by then) or at the end of a file; SPARQL requests have a lane of
  their own: `max_concurrent_queries` threads, and up to `max_queued_queries` more wait
  on the loop, holding no thread, for one of them (beyond that 503 with Retry-After), so a
  burst of queries is answered in turn and pages never queue behind it; the wait counts
  against `query_timeout` (the app reads when the request arrived from ARRIVED);
- the answer is written from the loop, large ones in 64 KiB frames, each of which must be
  taken by the client within `send_timeout` seconds, else the connection is dropped; the
  rest of a long answer is read a frame at a time, on a thread only for that read.

Held connections cost a coroutine and at most a few frames each, not a thread. Why not
a2wsgi, the usual ASGI-to-WSGI bridge: its app thread reads the body from, and writes the
answer into, queues it waits on, so a slow client holds the thread: what this front exists
to prevent.
"""

from __future__ import annotations

import asyncio
import io
import logging
import sys
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator, MutableMapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import unquote_to_bytes

from publisher.web.memo import MISS, REPLAY_ONLY
from publisher.web.security import SECURITY_HEADERS

__all__ = ["ARRIVED", "FIRST_BYTES", "FRAME", "Front", "wsgi_environ"]

ARRIVED = "kiezgraph.arrived"  # environ: time.monotonic() when the request's headers came

FIRST_BYTES = 256 << 10  # what the app's thread collects of an answer before the loop sends
FRAME = 64 << 10  # the largest piece handed to granian at once while a client reads slowly

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
WSGIApp = Callable[[dict, Callable], Iterable[bytes]]
Record = Callable[[str, str, int, float], None]  # method, path, status, seconds

_log = logging.getLogger(__name__)
_BODY_HEADERS = frozenset({b"content-length", b"transfer-encoding"})
_REASONS = {400: "Bad Request", 408: "Request Timeout", 413: "Content Too Large",
            500: "Internal Server Error", 503: "Service Unavailable"}


class _Refused(Exception):
    """The request is answered by the front itself (status, plain-text message)."""

    def __init__(self, status: int, message: str, retry_after: int | None = None):
        super().__init__(message)
        self.status, self.message, self.retry_after = status, message, retry_after


_ENVIRON_KEYS: dict[bytes, str] = {}  # header name -> environ key, for the names seen first


def _environ_key(raw_name: bytes) -> str:
    """HTTP_<NAME> for a header name; the first 200 names met are remembered (a request is
    turned into an environ on the event loop, so its few microseconds count)."""
    key = "HTTP_" + raw_name.decode("latin-1").upper().replace("-", "_")
    if len(_ENVIRON_KEYS) < 200:
        _ENVIRON_KEYS[raw_name] = key
    return key


def wsgi_environ(scope: Scope, body: bytes) -> dict[str, Any]:
    """The PEP 3333 environ of an ASGI HTTP request whose body has been read."""
    server = scope.get("server") or ("localhost", 80)
    client = scope.get("client")
    raw_path = scope.get("raw_path")
    # PATH_INFO is the percent-decoded path as bytes, decoded as Latin-1 (PEP 3333);
    # granian's `path` is decoded as UTF-8 with replacement, so it is taken from raw_path.
    path = (unquote_to_bytes(raw_path).decode("latin-1") if raw_path is not None
            else scope["path"].encode("utf-8").decode("latin-1"))
    environ: dict[str, Any] = {
        "REQUEST_METHOD": scope["method"],
        "SCRIPT_NAME": scope.get("root_path", "").encode("utf-8").decode("latin-1"),
        "PATH_INFO": path,
        "QUERY_STRING": scope.get("query_string", b"").decode("latin-1"),
        "SERVER_NAME": str(server[0]),
        "SERVER_PORT": str(server[1]) if server[1] is not None else "80",
        "SERVER_PROTOCOL": f"HTTP/{scope.get('http_version', '1.1')}",
        "REMOTE_ADDR": client[0] if client else "",
        "REMOTE_PORT": str(client[1]) if client else "",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scope.get("scheme", "http"),
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    for raw_name, raw_value in scope.get("headers", ()):
        key = _ENVIRON_KEYS.get(raw_name) or _environ_key(raw_name)
        value = raw_value.decode("latin-1")
        if key == "HTTP_CONTENT_TYPE":
            environ["CONTENT_TYPE"] = value
            continue
        if key in ("HTTP_CONTENT_LENGTH", "HTTP_TRANSFER_ENCODING"):
            continue  # the body has been read: its length is set below
        if key in environ:
            environ[key] += ("; " if key == "HTTP_COOKIE" else ",") + value
        else:
            environ[key] = value
    if body or scope["method"] in ("POST", "PUT", "PATCH"):
        environ["CONTENT_LENGTH"] = str(len(body))
    return environ


_HEADER_NAMES: dict[str, bytes] = {}  # response header name -> its bytes, lower case


def _header_name(name: str) -> bytes:
    """A response header's name as granian takes it; the app sends few distinct names."""
    encoded = name.lower().encode("latin-1")
    if len(_HEADER_NAMES) < 200:
        _HEADER_NAMES[name] = encoded
    return encoded


class _Answer:
    """What the app's thread hands the loop: status, headers, the first chunks, the rest."""

    __slots__ = ("chunks", "close", "headers", "rest", "status")

    def __init__(self) -> None:
        self.status = 500
        self.headers: list[tuple[bytes, bytes]] = []
        self.chunks: list[bytes] = []
        self.rest: Iterator[bytes] | None = None
        self.close: Callable[[], None] | None = None


def _next(chunks: Iterator[bytes]) -> bytes | None:
    """The next chunk of an answer, or None at its end (on an app thread: it may read)."""
    return next(chunks, None)


class Front:
    """An ASGI app in front of a WSGI app; see the module's docstring."""

    def __init__(self, wsgi_app: WSGIApp, *, threads: int, max_body_bytes: int,
                 body_timeout: float, send_timeout: float, record: Record | None = None,
                 queries: int = 4, queued: int = 32):
        self.wsgi_app, self.record = wsgi_app, record
        self.max_body_bytes, self.body_timeout = max_body_bytes, body_timeout
        self.send_timeout = send_timeout
        self.pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="kiezgraph")
        # The SPARQL lane: `queries` threads; `queued` more requests wait on the loop.
        self.query_pool = ThreadPoolExecutor(max_workers=max(1, queries),
                                             thread_name_prefix="kiezgraph-query")
        self.lane_size = max(1, queries) + max(0, queued)
        self.in_lane = 0  # SPARQL requests running or waiting (changed on the loop only)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            if scope["type"] == "lifespan":
                await self._lifespan(receive, send)
            return  # websockets are switched off in granian; nothing else is ASGI's
        arrived = time.monotonic()
        body = b""
        if any(name in _BODY_HEADERS for name, _value in scope["headers"]):
            try:
                body = await self._body(scope, receive)
            except _Refused as refusal:
                await self._refuse(scope, send, refusal)
                return
        environ = wsgi_environ(scope, body)
        environ[ARRIVED] = arrived
        if not body:
            kept = self._replay(environ)
            if kept is not None and kept.rest is None and len(kept.chunks) == 1 \
                    and len(kept.chunks[0]) <= FRAME:
                # The common case, written here: a kept answer that is small.
                await send({"type": "http.response.start", "status": kept.status,
                            "headers": kept.headers})
                await send({"type": "http.response.body", "body": kept.chunks[0],
                            "more_body": False})
                return
        else:
            kept = None
        loop = asyncio.get_running_loop()
        answer = kept if kept is not None else await self._dispatch(loop, scope, send, environ)
        if answer is None:
            return  # refused: the lane is full
        try:
            await self._send(loop, answer, send)
        except (TimeoutError, OSError, RuntimeError) as exc:
            # The client stopped reading (or left): drop it. The answer ends short, which
            # a client sees from Content-Length or the missing last chunk.
            _log.info("answer to %s %s not taken within %s s: connection dropped (%s)",
                      scope["method"], scope.get("path", ""), self.send_timeout,
                      type(exc).__name__)
            raise ConnectionAbortedError("client does not read") from None
        finally:
            if answer.close is not None:
                await loop.run_in_executor(self.pool, answer.close)

    async def _dispatch(self, loop: asyncio.AbstractEventLoop, scope: Scope, send: Send,
                        environ: dict[str, Any]) -> _Answer | None:
        """Run the app on a thread: a SPARQL request in its lane (None when the lane is
        full: refused with 503 here), anything else on the general threads."""
        if scope["path"] != "/sparql":
            return await loop.run_in_executor(self.pool, self._run, environ)
        if self.in_lane >= self.lane_size:
            await self._refuse(scope, send, _Refused(
                503, f"{self.lane_size} queries are running or waiting; try again shortly",
                retry_after=1))
            return None
        self.in_lane += 1
        try:
            return await loop.run_in_executor(self.query_pool, self._run, environ)
        finally:
            self.in_lane -= 1

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        """Answer granian's start and stop; stop the app's threads at the end."""
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                self.pool.shutdown(wait=False, cancel_futures=True)
                self.query_pool.shutdown(wait=False, cancel_futures=True)
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _body(self, scope: Scope, receive: Receive) -> bytes:
        """The whole request body, read within body_timeout and max_body_bytes."""
        declared = None
        chunked = False
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    raise _Refused(400, "the Content-Length header is not a number") from None
            elif name == b"transfer-encoding":
                chunked = True
        if not chunked and not declared:
            return b""
        if declared is not None and not 0 <= declared <= self.max_body_bytes:
            raise _Refused(413, f"the request body is larger than {self.max_body_bytes} bytes")
        parts: list[bytes] = []
        size = 0
        try:
            async with asyncio.timeout(self.body_timeout):
                while True:
                    message = await receive()
                    if message["type"] != "http.request":
                        raise _Refused(400, "the request body ended early")
                    part = message.get("body", b"")
                    size += len(part)
                    if size > self.max_body_bytes:
                        raise _Refused(413, "the request body is larger than "
                                            f"{self.max_body_bytes} bytes")
                    parts.append(part)
                    if not message.get("more_body", False):
                        break
        except TimeoutError:
            raise _Refused(408, f"the request body did not arrive within "
                                f"{self.body_timeout:g} s") from None
        if declared is not None and size != declared:
            raise _Refused(400, "the request body ended early or was malformed")
        return b"".join(parts)

    def _replay(self, environ: dict[str, Any]) -> _Answer | None:
        """On the loop: the answer the app's memos keep for this request, or None.

        A kept answer (a repeated document or query) costs microseconds, less than the hop
        to a thread and back; the memos answer without blocking when asked to (REPLAY_ONLY).
        They get a copy of the environ: middleware in front of them (ProxyFix) changes it."""
        trial = dict(environ)
        trial[REPLAY_ONLY] = True
        answer = _Answer()
        result = self.wsgi_app(trial, self._start(answer))
        if result is MISS:
            return None
        answer.chunks = [chunk for chunk in result if chunk]
        return answer

    def _start(self, answer: _Answer) -> Callable[..., Callable[[bytes], None]]:
        """A WSGI start_response that records status and headers into answer."""

        def start_response(status: str, headers: list[tuple[str, str]],
                           exc_info: Any = None) -> Callable[[bytes], None]:
            answer.status = int(status[:3])
            answer.headers = [(_HEADER_NAMES.get(k) or _header_name(k), v.encode("latin-1"))
                              for k, v in headers]
            return answer.chunks.append  # write(): the old WSGI way, kept in memory

        return start_response

    def _run(self, environ: dict[str, Any]) -> _Answer:
        """On an app thread: call the app and collect the first FIRST_BYTES of its answer."""
        answer = _Answer()
        result = self.wsgi_app(environ, self._start(answer))
        answer.close = getattr(result, "close", None)
        iterator = iter(result)
        collected = 0
        for chunk in iterator:
            if chunk:
                answer.chunks.append(chunk)
                collected += len(chunk)
                if collected >= FIRST_BYTES:
                    answer.rest = iterator
                    break
        return answer

    async def _send(self, loop: asyncio.AbstractEventLoop, answer: _Answer,
                    send: Send) -> None:
        """Write the answer: whole when it is small, else in frames each taken in time."""
        await send({"type": "http.response.start", "status": answer.status,
                    "headers": answer.headers})
        if answer.rest is None and sum(map(len, answer.chunks)) <= FRAME:
            await send({"type": "http.response.body", "body": b"".join(answer.chunks),
                        "more_body": False})
            return
        async with asyncio.timeout(self.send_timeout) as deadline:
            async def frame(data: bytes) -> None:
                for start in range(0, len(data), FRAME):
                    await send({"type": "http.response.body",
                                "body": data[start:start + FRAME], "more_body": True})
                    deadline.reschedule(loop.time() + self.send_timeout)

            for chunk in answer.chunks:
                await frame(chunk)
            answer.chunks = []
            rest = answer.rest
            while rest is not None:
                more = await loop.run_in_executor(self.pool, _next, rest)
                if more is None:
                    break
                await frame(more)
            await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def _refuse(self, scope: Scope, send: Send, refusal: _Refused) -> None:
        """A short plain-text answer of the front's own, with the security headers every
        answer carries, counted and logged; the connection is closed after it."""
        reason = _REASONS.get(refusal.status, "Error")
        body = (f"{refusal.status} {reason}: {refusal.message}\n").encode()
        headers = [(b"content-type", b"text/plain; charset=utf-8"),
                   (b"content-length", str(len(body)).encode()),
                   (b"cache-control", b"no-store"), (b"connection", b"close")]
        headers += [(k.lower().encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]
        if refusal.retry_after is not None:
            headers.append((b"retry-after", str(refusal.retry_after).encode()))
        await send({"type": "http.response.start", "status": refusal.status,
                    "headers": headers})
        await send({"type": "http.response.body", "body": body, "more_body": False})
        if self.record is not None:
            self.record(scope["method"], scope.get("path", ""), refusal.status, 0.0)

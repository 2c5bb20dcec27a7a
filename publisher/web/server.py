"""Run the app under a production HTTP server: granian (default) or waitress (setting `server`).

granian (Rust HTTP, ASGI interface) runs one worker process: its event loop reads bodies
and writes answers (publisher.web.front) and `threads` threads run the app, so slow clients
hold no thread; the worker builds its own app from the settings `kiezgraph serve` resolved
(`granian_app`), so one store and one SPARQL worker pool exist; the main process only
checks that the build can be served. It answers 1.2x waitress's rate of documents at one
connection and 3.8x at eight here (bench/wsgi.py). waitress serves the app built by
`kiezgraph serve` in the same process (publisher.web.waitress_server). Under granian,
SIGHUP to the main process is passed on to the worker, which checks and swaps in the new
build as waitress's process does (granian's own SIGHUP would restart the worker instead, and
a bad build would stop the service). `kiezgraph serve` asks `app_for` which app to hand
`run` and `port_taken` whether the port is free, before it says "serving on".
"""

from __future__ import annotations

import errno
import json
import logging
import os
import signal
import socket
from typing import TYPE_CHECKING

from flask import Flask

from publisher.config import Settings
from publisher.releases import Release

if TYPE_CHECKING:
    from publisher.web.front import Front

__all__ = ["SERVERS", "app_for", "granian_app", "port_taken", "run"]

SERVERS = ("waitress", "granian")


def app_for(settings: Settings, release: Release) -> Flask | None:
    """The app `run` serves: built here for waitress, which serves it in this process; None
    for granian, whose worker process builds its own (the graph is held once, not twice),
    the store checked here all the same. Raises StoreError when the release cannot be served
    (BuildDamaged when the local build is not what it was built as)."""
    from publisher.store import check_store

    # Both servers check the build first, the same way, so a damaged one stops either with
    # the same one line (and under granian before its worker starts, fails and is respawned).
    check_store(settings, release)
    if settings.server == "waitress":
        from publisher.web import create_app

        return create_app(settings, release=release)
    return None


def port_taken(host: str, port: int) -> str | None:
    """Why the server could not listen on host:port (None: it can), found before it starts.

    granian listens with SO_REUSEPORT, so a second server on a port already served would
    start and the two would split the requests; and a port held by another program would
    end in a traceback after "serving on". A plain bind (no SO_REUSEPORT) fails in both."""
    try:
        infos = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM,
                                   flags=socket.AI_PASSIVE)
    except (socket.gaierror, UnicodeError, OverflowError) as exc:
        return f"cannot listen on {host}:{port}: {exc}"
    family, kind, proto, _name, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as servers do
        try:
            probe.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return (f"port {port} on {host} is already in use (another kiezgraph serve "
                        f"or another program): stop it or choose another with --port")
            return f"cannot listen on {host}:{port}: {exc.strerror or exc}"
    return None


def run(app: Flask | None, settings: Settings) -> None:
    """Serve until interrupted; SIGHUP (or a new build, with reload_on_change) swaps in a new
    build once it checks out. granian needs no app: its worker builds one (pass None)."""
    if settings.server == "granian":
        _run_granian(settings)
        return
    if settings.server != "waitress":
        raise ValueError(f"unknown server {settings.server!r}: one of {', '.join(SERVERS)}")
    if app is None:
        raise ValueError("waitress serves the app that app_for built: pass it")
    from publisher.web import waitress_server

    _logging(settings)
    _reloading(app, settings)
    waitress_server.serve(app, settings)


def _logging(settings: Settings) -> None:
    logging.basicConfig(level=settings.log_level.upper(),
                        format="%(asctime)s %(levelname)s %(name)s %(message)s")


def _reloading(app: Flask, settings: Settings) -> None:
    """Start the reloader and let SIGHUP ask it for the new build (main thread only)."""
    from publisher.web.reloading import reloader_for

    reloader = reloader_for(app)
    reloader.start(watch=settings.reload_on_change)
    if hasattr(signal, "SIGHUP"):
        signal.signal(signal.SIGHUP, lambda *_: reloader.request())


def granian_app() -> Front:
    """The app in granian's worker process, from the settings `kiezgraph serve` resolved:
    the Flask app behind the asynchronous front (publisher.web.front), so that slow
    clients hold a connection, not one of the app's threads."""
    from publisher.store import StoreError
    from publisher.web import create_app
    from publisher.web.front import Front
    from publisher.web.granian_main import SETTINGS_ENV
    from publisher.web.observability import record

    settings = Settings.from_mapping(json.loads(os.environ[SETTINGS_ENV]))
    _logging(settings)
    try:
        app = create_app(settings)
    except StoreError as exc:
        # No traceback: the reason, then exit. granian starts the worker once more, sees it
        # fail again at once and stops with exit status 1 ("crash loop").
        logging.getLogger(__name__).error("cannot serve: %s", exc)
        os._exit(1)
    _reloading(app, settings)
    _exit_with_parent()
    return Front(app, threads=settings.threads, max_body_bytes=settings.max_body_bytes,
                 body_timeout=settings.body_timeout, send_timeout=settings.send_timeout,
                 queries=settings.max_concurrent_queries, queued=settings.max_queued_queries,
                 record=lambda method, path, status, seconds: record(
                     app, method, path, "<front>", status, seconds))


def _exit_with_parent() -> None:
    """Stop the worker when granian's main process is gone (killed, say): it would go on
    holding the port, the store and the SPARQL workers with no one to stop it."""
    import threading
    import time

    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        logging.getLogger(__name__).warning("the server's main process is gone: stopping")
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(10)
        os._exit(1)

    threading.Thread(target=watch, name="kiezgraph-parent-watch", daemon=True).start()


def _run_granian(settings: Settings) -> None:
    """Replace this process by granian's main process (publisher.web.granian_main).

    The main process only accepts connections and watches its worker, yet after `kiezgraph
    serve` resolved the settings and checked the build it holds rdflib, Flask and the rest
    (~65 MB); a fresh interpreter that imports granian alone holds ~25 MB. exec keeps the
    process id, so signals and supervisors see the same process."""
    import sys

    from publisher.web.granian_main import BUFFER_ENV, SETTINGS_ENV
    from publisher.web.security import MAX_HEADER_BYTES

    # The worker process reads the resolved settings (flags and config file included) from
    # its environment rather than resolving them again.
    os.environ[SETTINGS_ENV] = json.dumps(dict(settings))
    # Headers beyond this never reach the app (which refuses over MAX_HEADER_BYTES with 431
    # itself), as waitress's max_request_header_size does.
    os.environ[BUFFER_ENV] = str(4 * MAX_HEADER_BYTES + 4096)
    # glibc gives every thread that allocates an arena of its own (up to 8 per core) and
    # keeps what each one freed for that thread: across granian's threads the worker held
    # ~100 MB it no longer used after rendering 300 documents at 1M triples. Two arenas
    # kept its peak 80-100 MB lower; rates and the load test's p99 did not change beyond
    # this machine's noise (an operator's own value wins).
    os.environ.setdefault("MALLOC_ARENA_MAX", "2")
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, [sys.executable, "-m", "publisher.web.granian_main"])

"""Serve a new build without a restart: notice it, check it, load it, and only then swap.

A build is written to its own folder and `out/current` is switched in one rename (see
publisher.build), so a reader sees either the old build or a complete new one. Before a new
build is served it is checked again (its validation passed, graph.nq has the bytes, quads and
triples build.json promises) and loaded into a fresh store; only a store that answers is
installed. A build that fails any of this is refused and the old one keeps serving, with the
reason reported. The old store is closed after a grace period, so requests that took the old
snapshot finish on it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from publisher import metrics
from publisher.build import CURRENT, current_release, sha256_file

__all__ = ["ReleaseRefused", "Reloader", "check_release", "current_build_id"]

log = logging.getLogger(__name__)


class ReleaseRefused(ValueError):
    """A build that must not be served; the message says why."""


def current_build_id(out: str | Path) -> str | None:
    """The build id out/current points at right now (None when there is no readable build)."""
    try:
        return current_release(out).build_id
    except (OSError, ValueError, KeyError, AttributeError):
        return None


def check_release(release) -> None:
    """Raise ReleaseRefused unless the release is complete and its graph is what it promises."""
    info = release.info
    report = Path(release.path) / "validation.txt"
    try:
        if not report.read_text(encoding="utf-8").startswith("OK"):
            raise ReleaseRefused("its validation report does not say the graph conforms")
    except OSError:
        raise ReleaseRefused("it has no validation report") from None
    graph = release.graph_file
    try:
        if sha256_file(graph) != info.get("content_hash"):
            raise ReleaseRefused(f"{graph.name} does not match the content hash in build.json")
        quads = list(ox.parse(path=str(graph), format=ox.RdfFormat.N_QUADS))
    except OSError as exc:
        raise ReleaseRefused(f"{graph.name} cannot be read: {exc.strerror}") from None
    except SyntaxError as exc:
        raise ReleaseRefused(f"{graph.name} does not parse as N-Quads: {exc}") from None
    triples = len({q.triple for q in quads})
    if len(quads) != info.get("quads") or triples != info.get("triples"):
        raise ReleaseRefused(f"{graph.name} holds {len(quads)} quads and {triples} triples; "
                             f"build.json promises {info.get('quads')} and "
                             f"{info.get('triples')}")


class Reloader:
    """Watches `settings.out` (or is asked, e.g. on SIGHUP) and installs new builds.

    `install(release, store)` makes a new snapshot current and returns the store it replaced;
    `refuse(message)` reports a refused build (the web layer puts it into /health, /ready).
    """

    def __init__(self, settings, serving: str, *,
                 install: Callable[[Any, Any], Any], refuse: Callable[[str], None],
                 open_store: Callable[[Any, Any], Any] | None = None,
                 grace: float | None = None):
        from publisher.store import open_store as default_open

        self.settings = settings
        self.out = Path(settings.out)
        self.serving = serving
        self.refused: str | None = None
        self._install, self._refuse = install, refuse
        self._open = open_store or default_open
        self.grace = settings.query_timeout + 5.0 if grace is None else grace
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def reload(self) -> str:
        """Serve out/current if it is new and sound: 'swapped', 'unchanged' or 'refused'."""
        with self._lock:
            outcome = self._reload()
        metrics.reloads().labels(outcome).inc()
        return outcome

    def _reload(self) -> str:
        build_id = current_build_id(self.out)
        if build_id is None:
            if self.refused != f"{CURRENT}?":
                self.refused = f"{CURRENT}?"
                self._refuse(f"{self.out / CURRENT} is not a readable build; still serving "
                             f"{self.serving}")
            return "refused"
        if build_id in (self.serving, self.refused):
            return "unchanged"
        release = current_release(self.out)
        try:
            check_release(release)
            store = self._open(self.settings, release)
        except ReleaseRefused as exc:
            return self._refused(build_id, str(exc))
        except Exception as exc:  # a store that will not load is a refusal, never a crash
            log.exception("loading build %s failed", build_id)
            return self._refused(build_id, f"it could not be loaded: {exc}")
        try:
            if store.triple_count() < release.info["triples"]:
                raise ReleaseRefused("the loaded store holds fewer triples than the build")
        except Exception as exc:
            _close_later(store, 0)
            return self._refused(build_id, str(exc))
        old = self._install(release, store)
        log.info("now serving build %s (was %s)", build_id, self.serving)
        self.serving, self.refused = build_id, None
        _close_later(old, self.grace)
        return "swapped"

    def _refused(self, build_id: str, reason: str) -> str:
        self.refused = build_id
        message = f"build {build_id} refused: {reason}; still serving {self.serving}"
        log.error(message)
        self._refuse(message)
        return "refused"

    def request(self) -> None:
        """Ask for a reload soon (safe to call from a signal handler)."""
        self._wake.set()

    def start(self, watch: bool, interval: float = 1.0) -> None:
        """Run in a background thread: on request(), and every `interval` s when watching."""
        def loop() -> None:
            while not self._stop.is_set():
                self._wake.wait(interval if watch else None)
                if self._stop.is_set():
                    return
                self._wake.clear()
                try:
                    self.reload()
                except Exception:  # the watcher must outlive any one bad build
                    log.exception("reload failed")

        self._thread = threading.Thread(target=loop, name="kiezgraph-reload", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """End the background thread."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=5)


def _close_later(store, delay: float) -> None:
    """Close a replaced store (and its SPARQL workers) once requests on it have finished."""
    close = getattr(store, "close", None)
    if close is None:
        return
    timer = threading.Timer(delay, close)
    timer.daemon = True
    timer.start()

"""Serve a new build without a restart: notice it, check it, load it, and only then swap.

A build is written to its own folder and `out/current` is switched in one rename (see
publisher.build), so a reader sees either the old build or a complete new one. Before a new
build is served it is checked again (its validation passed, graph.nq has the bytes, quads and
triples build.json promises) and loaded into a fresh store; only a store that answers is
installed. A build that fails any of this is refused and the old one keeps serving, with the
reason reported. The old store is closed after a grace period, so requests that took the old
snapshot finish on it.

The served build is watched too: a file of it that changes on disk (truncated, overwritten)
is checked against the sizes and SHA-256 sums build.json records. A damaged build is
reported (log, /health) and the store stops reading its files (`detach`), so a restarted
SPARQL worker loads what was checked, not the damaged file. While it serves a build the
reloader holds it (publisher.retention), so no `kiezgraph build` removes it.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from pathlib import Path

import pyoxigraph as ox

from publisher import metrics
from publisher.config import Settings
from publisher.layout import BUILD_INFO, CURRENT, GRAPH_FILE, METADATA_FILE, VALIDATION_FILE
from publisher.releases import Release, current_release, report_conforms, sha256_file
from publisher.retention import Hold, hold
from publisher.store import Store
from publisher.store import open_store as default_open_store

__all__ = ["ReleaseRefused", "Reloader", "check_release", "close_later", "current_build_id",
           "fingerprint"]

log = logging.getLogger(__name__)


class ReleaseRefused(ValueError):
    """A build that must not be served; the message says why."""


def current_build_id(out: str | Path) -> str | None:
    """The build id out/current points at right now (None when there is no readable build)."""
    try:
        release = current_release(out)
        return release.build_id if release is not None else None
    except (OSError, ValueError, KeyError, AttributeError):
        return None


def fingerprint(release: Release) -> dict[str, tuple[int, int, int] | None]:
    """Size, modification time and inode of each file of a release (None: missing); cheap
    enough to compare every second, and any write to a file changes it."""
    folder = Path(release.path)
    names = [GRAPH_FILE, METADATA_FILE, BUILD_INFO, VALIDATION_FILE]
    names += [entry["name"] for entry in release.info.get("files", [])]
    prints: dict[str, tuple[int, int, int] | None] = {}
    for name in names:
        try:
            stat = (folder / name).stat()
        except OSError:
            prints[name] = None
        else:
            prints[name] = (stat.st_size, stat.st_mtime_ns, stat.st_ino)
    return prints


def _check_files(release: Release, names: set[str] | None = None) -> None:
    """Raise ReleaseRefused unless each file build.json lists (or those of `names`) has the
    size, and for those in `names` the SHA-256, it records."""
    folder = Path(release.path)
    for entry in release.info.get("files", []):
        name = entry["name"]
        if names is not None and name not in names:
            continue
        path = folder / name
        try:
            size = path.stat().st_size
        except OSError:
            raise ReleaseRefused(f"{name} is missing") from None
        if size != entry.get("bytes"):
            raise ReleaseRefused(f"{name} holds {size} bytes; build.json promises "
                                 f"{entry.get('bytes')}")
        if names is not None and sha256_file(path) != entry.get("sha256"):
            raise ReleaseRefused(f"{name} does not match its SHA-256 in build.json")


def check_release(release: Release, changed: set[str] | None = None) -> None:
    """Raise ReleaseRefused unless the release is complete and its graph is what it promises.

    Every listed file must have its recorded size; with `changed`, those files are also
    hashed (the graph is always checked in full)."""
    info = release.info
    try:
        on_disk = json.loads((Path(release.path) / BUILD_INFO).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise ReleaseRefused(f"its {BUILD_INFO} cannot be read") from None
    if on_disk != json.loads(json.dumps(info)):
        raise ReleaseRefused(f"its {BUILD_INFO} changed since it was read")
    _check_files(release, None)
    if changed:
        _check_files(release, changed)
    report = Path(release.path) / VALIDATION_FILE
    try:
        if not report_conforms(report.read_text(encoding="utf-8")):
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
    `refuse(message)` reports a refused or damaged build (the web layer puts it into /health,
    /ready; None: the problem is gone); `detach()` makes the served store stop reading the
    served build's files, which were found damaged. `release` is the build served at start.
    """

    def __init__(self, settings: Settings, serving: str, *,
                 install: Callable[[Release, Store], Store],
                 refuse: Callable[[str | None], None],
                 open_store: Callable[[Settings, Release | None], Store] | None = None,
                 grace: float | None = None, release: Release | None = None,
                 detach: Callable[[], None] | None = None):
        self.settings = settings
        self.out = Path(settings.out).absolute()
        self.serving = serving
        self.refused: str | None = None
        self._install, self._refuse = install, refuse
        self._detach = detach
        self._open = open_store or default_open_store
        self.grace = settings.query_timeout + 5.0 if grace is None else grace
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._release: Release | None = release
        self._hold: Hold | None
        self._hold = hold(release.path) if release is not None else None
        self._prints = fingerprint(release) if release is not None else {}
        self.damaged: str | None = None

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
        if build_id == self.serving:
            return self._check_served()
        if build_id == self.refused:
            return "unchanged"
        release = current_release(self.out)
        if release is None:  # out/current changed again between the two reads
            return self._refused(build_id, "it is no longer out/current")
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
            close_later(store, 0)
            return self._refused(build_id, str(exc))
        old = self._install(release, store)
        log.info("now serving build %s (was %s)", build_id, self.serving)
        self.serving, self.refused, self.damaged = build_id, None, None
        old_hold, self._hold = self._hold, hold(release.path)
        self._release, self._prints = release, fingerprint(release)
        close_later(old, self.grace, old_hold)
        return "swapped"

    def _check_served(self) -> str:
        """Whether the served build's files are still what build.json records: 'unchanged',
        or 'refused' (reported, the store detached from them) when they were changed."""
        release = self._release
        if release is None:
            return "unchanged"
        prints = fingerprint(release)
        if prints == self._prints:  # nothing new (a damage found before stays reported)
            return "unchanged"
        changed = {name for name, mark in prints.items() if mark != self._prints.get(name)}
        self._prints = prints
        try:
            check_release(release, changed)
        except ReleaseRefused as exc:
            message = (f"build {self.serving} was changed on disk and is refused: {exc}; "
                       f"still serving the graph loaded before; build again to repair it")
            if message != self.damaged:
                self.damaged = message
                log.error(message)
                self._refuse(message)
                if self._detach is not None:
                    self._detach()
            return "refused"
        if self.damaged:
            log.warning("build %s is whole again", self.serving)
            self.damaged = None
            self._refuse(None)
        return "unchanged"

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
        if self._hold is not None:
            self._hold.release()


def close_later(store: Store, delay: float, held: Hold | None = None) -> None:
    """Close a replaced store (and its SPARQL workers) once requests on it have finished,
    then give up the hold on its build (a build may remove it from then on)."""
    close = getattr(store, "close", None)

    def done() -> None:
        try:
            if close is not None:
                close()
        finally:
            if held is not None:
                held.release()

    timer = threading.Timer(delay, done)
    timer.daemon = True
    timer.start()

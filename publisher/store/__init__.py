"""Where the published graph is queried from: the embedded store or a remote SPARQL endpoint."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from publisher.store.base import BuildDamaged, ReleaseOnDisk, Store, StoreError, StoreUnavailable

if TYPE_CHECKING:
    from publisher.config import Settings
    from publisher.store.embedded import EmbeddedStore

__all__ = ["BuildDamaged", "EmbeddedStore", "Store", "StoreError", "StoreUnavailable",
           "check_store", "open_store"]


def __getattr__(name: str) -> Any:
    """EmbeddedStore on first use: a query worker (`python -m publisher.store.engine.worker`)
    imports this package first, and must not import the store that starts it (its own
    module would then be imported twice, once as __main__)."""
    if name == "EmbeddedStore":
        from publisher.store.embedded import EmbeddedStore

        return EmbeddedStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def open_store(settings: Settings, release: ReleaseOnDisk | None = None) -> Store:
    """The store the settings name: a remote endpoint when `store` is set, else embedded."""
    if settings.store:
        from publisher.store.remote import RemoteStore

        return RemoteStore.from_settings(settings)
    from publisher.store.embedded import EmbeddedStore

    return EmbeddedStore.from_release(
        release, query_workers=settings.query_workers,
        in_memory_max_triples=settings.store_in_memory_max_triples,
        query_memory=settings.query_memory)


def check_store(settings: Settings, release: ReleaseOnDisk | None = None) -> None:
    """Fail as open_store would, without loading the graph (for a server whose worker process
    opens the store itself: the graph is then held once, not twice)."""
    if settings.store:
        open_store(settings, release)  # a remote store answers one small query
        return
    if release is None:
        raise StoreError("no build to serve: run `kiezgraph build` first")
    graph = Path(release.graph_file)
    if not graph.is_file():
        raise BuildDamaged(f"the build {release.path} has no graph file: build again")
    _check_graph(graph, release.info.get("content_hash"))


def _check_graph(graph: Path, content_hash: object) -> None:
    """Raise BuildDamaged unless the graph file is the one the build wrote: its SHA-256 is
    what build.json records (hashing is cheaper than parsing, and catches any change)."""
    if not content_hash:
        return  # a build from before content hashes: the loader finds a damage itself
    digest = hashlib.sha256()
    try:
        with graph.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    except OSError as exc:
        raise BuildDamaged(f"cannot load the build's graph ({graph}): "
                           f"{exc.strerror or exc}") from None
    if digest.hexdigest() != content_hash:
        raise BuildDamaged(f"cannot load the build's graph ({graph}): it was changed after "
                           f"the build (its SHA-256 is not the one in build.json); "
                           f"build again")

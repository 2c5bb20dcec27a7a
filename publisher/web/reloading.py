"""Connect publisher.reload to the app: a checked new build replaces the served snapshot."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from publisher.releases import Release
from publisher.reload import Reloader, close_later
from publisher.store import Store
from publisher.store.embedded import EmbeddedStore
from publisher.web.state import Published, served

__all__ = ["reloader_for"]


def reloader_for(app: Flask, *, grace: float | None = None) -> Reloader:
    """A Reloader that swaps the app's snapshot and reports refusals in /health and /ready."""
    state = served(app)

    def install(release: Release, store: Store) -> Store:
        old = state.published.store
        state.swap(Published(release=release, store=store))
        return old

    def refuse(message: str | None) -> None:
        with state.lock:
            state.problems = [message] if message else []

    def detach() -> None:
        """The served build's files were damaged: serve on from what is in memory."""
        published = state.published
        kept = _detached(published.store)
        if kept is not None:
            state.swap(Published(release=published.release, store=kept))
            with state.lock:  # swap() cleared the problems: the damage stays reported
                state.problems = [reloader.damaged] if reloader.damaged else []
            close_later(published.store, reloader.grace)

    reloader = Reloader(state.settings, state.published.build_id, install=install,
                        refuse=refuse, detach=detach, release=state.published.release,
                        grace=grace)
    return reloader


def _detached(store: Store) -> EmbeddedStore | None:
    """A store over the same in-memory graph whose SPARQL workers load a copy of it rather
    than the build's files (None: the store does not read them, or holds no copy)."""
    if not isinstance(store, EmbeddedStore) or not any(s.endswith(".nq") for s in store.sources):
        return None  # on-disk (its workers open the store folder) or external
    folders = [s for s in store.sources if Path(s).is_dir()]
    if folders:
        # The web process reads the release's on-disk store (issue #22): workers open that
        # too rather than the damaged files. (A dump of it would not do: reloaded, its
        # canonical blank nodes no longer match between the named graphs and the union.)
        return EmbeddedStore(store.ox, store.build_id, sources=folders[:1],
                             query_workers=store.query_workers, union=store.union)
    return EmbeddedStore(store.ox, store.build_id, sources=(),
                         query_workers=store.query_workers, union=store.union)

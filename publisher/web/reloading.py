"""Connect publisher.reload to the app: a checked new build replaces the served snapshot."""

from __future__ import annotations

from flask import Flask

from publisher.reload import Reloader
from publisher.web.state import Published, Served

__all__ = ["reloader_for"]


def reloader_for(app: Flask, **options) -> Reloader:
    """A Reloader that swaps the app's snapshot and reports refusals in /health and /ready."""
    state: Served = app.extensions["kiezgraph"]

    def install(release, store):
        old = state.published.store
        state.swap(Published(release=release, store=store))
        return old

    def refuse(message: str) -> None:
        with state.lock:
            state.problems = [message]

    return Reloader(state.settings, state.published.build_id, install=install, refuse=refuse,
                    **options)

"""What the app serves right now: settings, the current release and its store, swapped as one."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from flask import current_app

from publisher.store import StoreError

__all__ = ["Published", "Served", "served"]


@dataclass(frozen=True)
class Published:
    """One consistent snapshot: a release and the store loaded from it."""

    release: Any
    store: Any

    @property
    def build_id(self) -> str:
        """The build served: an external store's current release (`kiezgraph load` switches
        it under a running server, and ETags and cache keys follow), else the local build's."""
        try:
            stored = getattr(self.store, "build_id", "") or ""
        except StoreError:  # unreachable: the local build's id until it answers again
            stored = ""
        return stored or (self.release.build_id if self.release is not None else "")


@dataclass
class Served:
    """The app's state; `published` is replaced whole, so a request sees one snapshot."""

    settings: Any
    published: Published
    problems: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def swap(self, published: Published) -> None:
        """Make a new snapshot current; requests already running keep the one they took."""
        with self.lock:
            self.published = published
            self.problems = []


def served() -> Served:
    """The Served state of the current app."""
    return current_app.extensions["kiezgraph"]

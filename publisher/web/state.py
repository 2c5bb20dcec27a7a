"""What the app serves right now: settings, the current release and its store, swapped as one.

Flask keeps per-app objects in `app.extensions`, a dict of Any; the web layer reads and writes
its own through a `Slot`, which names the key and the type once, so each reader gets the type
back (checked) rather than Any. WSGI middleware goes in front of an app through set_wsgi_app.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Generic, TypeVar

from flask import Flask, current_app

from publisher.config import Settings
from publisher.releases import Release
from publisher.store import Store, StoreError

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication

__all__ = ["SERVED", "Published", "Served", "Slot", "served", "set_wsgi_app"]

T = TypeVar("T")


class Slot(Generic[T]):
    """One typed entry of `app.extensions`: its key and the type of what it holds."""

    def __init__(self, key: str, kind: type[T]):
        self.key, self.kind = key, kind

    def get(self, app: Flask | None = None) -> T:
        """What the app (default: the current one) holds here; KeyError before it is put."""
        found = (app or current_app).extensions[self.key]
        if not isinstance(found, self.kind):
            raise TypeError(f"app.extensions[{self.key!r}] holds a {type(found).__name__}, "
                            f"not a {self.kind.__name__}")
        return found

    def find(self, app: Flask | None = None) -> T | None:
        """What the app holds here, or None before it is put."""
        app = app or current_app
        return self.get(app) if self.key in app.extensions else None

    def put(self, app: Flask, value: T) -> T:
        """Keep a value on the app (replacing what was there)."""
        app.extensions[self.key] = value
        return value

    def setdefault(self, app: Flask, value: T) -> T:
        """What the app holds here, after keeping value there if nothing was (one atomic
        dict operation: two threads making it at once end with the same one)."""
        app.extensions.setdefault(self.key, value)
        return self.get(app)


@dataclass(frozen=True)
class Published:
    """One consistent snapshot: a release and the store loaded from it."""

    release: Release | None  # None: an external store serving without a local build
    store: Store

    @property
    def build_id(self) -> str:
        """The build served: an external store's current release (`kiezgraph load` switches
        it under a running server, and ETags and cache keys follow), else the local build's."""
        try:
            stored = getattr(self.store, "build_id", "") or ""
        except StoreError:  # unreachable: the local build's id until it answers again
            stored = ""
        return str(stored) or (self.release.build_id if self.release is not None else "")


@dataclass
class Served:
    """The app's state; `published` is replaced whole, so a request sees one snapshot."""

    settings: Settings
    published: Published
    problems: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def swap(self, published: Published) -> None:
        """Make a new snapshot current; requests already running keep the one they took."""
        with self.lock:
            self.published = published
            self.problems = []


SERVED = Slot("kiezgraph", Served)


def served(app: Flask | None = None) -> Served:
    """The Served state of an app (default: the current one)."""
    return SERVED.get(app)


def set_wsgi_app(app: Flask, wsgi_app: WSGIApplication) -> None:
    """Put WSGI middleware in front of the app: `app.wsgi_app = middleware(app.wsgi_app)`."""
    # Flask documents this assignment as the way to add middleware; to a type checker
    # wsgi_app is a method (taking self), so any other WSGI callable put there is refused.
    app.wsgi_app = wsgi_app  # type: ignore[assignment]

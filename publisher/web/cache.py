"""Rendered representations kept in memory, under the app's one budget (publisher.budget)."""

from __future__ import annotations

import gzip
import hashlib
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field

from flask import Flask, current_app

from publisher.budget import Budget, Shelf
from publisher.web.state import Slot, served

__all__ = ["RenderCache", "Rendered", "budget", "render_cache"]

GZIP_LEVEL = 6


@dataclass
class Rendered:
    """One representation's bytes, its ETag, and (made once, on demand) its gzip form."""

    body: bytes
    content_type: str
    etag: str = ""
    _gzipped: bytes | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if not self.etag:
            self.etag = hashlib.sha256(self.body).hexdigest()[:32]

    def gzipped(self) -> bytes:
        """The body gzip-compressed (fixed mtime, so the bytes and their ETag are stable)."""
        if self._gzipped is None:
            self._gzipped = gzip.compress(self.body, GZIP_LEVEL, mtime=0)
        return self._gzipped

    @property
    def blobs(self) -> tuple[bytes, ...]:
        """The bytes held now: the body, and its gzip form once made."""
        return (self.body,) if self._gzipped is None else (self.body, self._gzipped)

    @property
    def overhead(self) -> int:
        """Bytes of the rest: content type, ETag, the object."""
        return len(self.content_type) + len(self.etag) + 200

    @property
    def size(self) -> int:
        """Bytes held, both forms."""
        return sum(map(len, self.blobs))


class RenderCache(Shelf):
    """The rendered representations: keys hold the build id, so a reload never serves an old
    build's bytes, and old entries simply age out of the shared budget.

    Whole responses made from them are kept on a shelf of the same budget
    (publisher.web.memo), their bodies counted once."""

    def __init__(self, budget: Budget, name: str = "rendered"):
        super().__init__(budget, name)

    def get_or_render(self, key: Hashable, render: Callable[[], Rendered]) -> Rendered:
        """The kept representation for key, rendering (outside the lock) on a miss."""
        found = self.get(key)
        if found is None:
            found = render()
            self.put(key, found)
        return found


_BUDGET = Slot("kiezgraph.budget", Budget)
_RENDERED = Slot("kiezgraph.render_cache", RenderCache)


def budget(app: Flask | None = None) -> Budget:
    """The app's budget for everything kept for repeated requests (setting `cache_bytes`),
    made on first use."""
    app = app or current_app
    found = _BUDGET.find(app)
    if found is None:
        found = _BUDGET.setdefault(app, Budget(served(app).settings.cache_bytes))
    return found


def render_cache(app: Flask | None = None) -> RenderCache:
    """The app's cache of rendered representations (made on first use)."""
    app = app or current_app
    cache = _RENDERED.find(app)
    if cache is None:
        cache = _RENDERED.setdefault(app, RenderCache(budget(app)))
    return cache

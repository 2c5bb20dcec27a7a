"""Rendered representations kept in memory, least recently used dropped first."""

from __future__ import annotations

import gzip
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, current_app

__all__ = ["RenderCache", "Rendered", "render_cache"]

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
    def size(self) -> int:
        """Bytes held, both forms."""
        return len(self.body) + len(self._gzipped or b"")


class RenderCache:
    """An LRU mapping, bounded by entries and bytes; keys hold the build id, so a reload
    never serves an old build's bytes, and old entries simply age out.

    Entries are Rendered representations here, whole responses in publisher.web.memo."""

    def __init__(self, max_entries: int = 4096, max_bytes: int = 64 << 20):
        self.max_entries, self.max_bytes = max_entries, max_bytes
        self._items: OrderedDict[Hashable, Any] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, key: Hashable) -> Any:
        """The entry for key (now the most recently used), or None; counts a hit or a miss."""
        with self._lock:
            found = self._items.get(key)
            if found is None:
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
            return found

    def count_hit(self) -> None:
        """Count a hit served from elsewhere (publisher.web.memo answers before this cache)."""
        with self._lock:
            self.hits += 1

    def put(self, key: Hashable, value: Any) -> None:
        """Keep value (anything with a `size` in bytes) under key, dropping the oldest."""
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._bytes -= old.size
            self._items[key] = value
            self._bytes += value.size
            while self._items and (len(self._items) > self.max_entries
                                   or self._bytes > self.max_bytes):
                _key, dropped = self._items.popitem(last=False)
                self._bytes -= dropped.size

    def get_or_render(self, key: Hashable, render: Callable[[], Rendered]) -> Rendered:
        """The cached representation for key, rendering (outside the lock) on a miss."""
        found = self.get(key)
        if found is None:
            found = render()
            self.put(key, found)
        return found

    def __len__(self) -> int:
        return len(self._items)

    def clear(self) -> None:
        """Forget everything."""
        with self._lock:
            self._items.clear()
            self._bytes = 0


_KEY = "kiezgraph.render_cache"


def render_cache(app: Flask | None = None) -> RenderCache:
    """The app's cache of rendered representations (made on first use)."""
    app = app or current_app
    cache = app.extensions.get(_KEY)
    if cache is None:
        cache = app.extensions.setdefault(_KEY, RenderCache())
    return cache

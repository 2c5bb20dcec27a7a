"""Which build folders stay: the retention rule a build applies to the builds before it.

Kept, always:

- every release (every distinct content) listed in ``releases.json``, by its newest build;
- the build ``current`` points to, and the one it pointed to before this build (a server
  that reloads may still be on it, and a server that does not reload always is);
- every build a running server holds (`hold`): ``kiezgraph serve`` holds the build it serves
  until it has swapped to another one and the requests on the old one have finished.

Everything else under ``builds/`` is removed: older builds of unchanged content, which a
rebuild replaced. A server's hold is an advisory lock (flock) on the build's folder, which
the kernel drops with the process, so a crashed server never pins a build for good.
"""

from __future__ import annotations

import fcntl
import os
import shutil
from collections.abc import Iterable
from pathlib import Path

from publisher.layout import BUILDS, CURRENT

__all__ = ["Hold", "hold", "is_held", "sweep"]


class Hold:
    """A running server's claim on a build folder; `release()` gives it up."""

    def __init__(self, path: Path, fd: int | None):
        self.path = path
        self._fd = fd

    def release(self) -> None:
        """Give the build up (idempotent)."""
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor drops the lock
            self._fd = None


def hold(path: str | Path) -> Hold:
    """Hold a build folder so that no build removes it (a no-op where it cannot be opened)."""
    path = Path(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return Hold(path, None)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError:  # being removed right now: nothing to hold
        os.close(fd)
        return Hold(path, None)
    return Hold(path, fd)


def _remove_unless_held(path: Path) -> bool:
    """Remove a build folder unless a server holds it; True when it was removed."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return False
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return False
        # Removed while locked: a server that tries to hold it now finds it taken.
        shutil.rmtree(path, ignore_errors=True)
        return True
    finally:
        os.close(fd)


def is_held(path: str | Path) -> bool:
    """Whether a running server holds this build folder."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        os.close(fd)
    return False


def sweep(out: str | Path, keep: Iterable[str | Path], since: float | None = None) -> list[Path]:
    """Remove the build folders of out that the rule does not keep; return those removed.

    `keep` names the folders the caller keeps (the releases listed, the previous current);
    what `current` points to now and folders a server holds stay too, and so do folders
    written since `since` (a time.time(): a build running alongside, not yet listed).
    Partial folders of running builds are left alone (publisher.build removes those of
    builds that died)."""
    builds = Path(out) / BUILDS
    kept = {Path(p).resolve() for p in keep}
    current = Path(out) / CURRENT
    if current.is_dir():
        kept.add(current.resolve())
    removed = []
    for folder in sorted(builds.iterdir()) if builds.is_dir() else []:
        if folder.name.startswith(".") or not folder.is_dir() or folder.is_symlink():
            continue
        if folder.resolve() in kept:
            continue
        if since is not None and folder.stat().st_mtime >= since:
            continue
        if _remove_unless_held(folder):
            removed.append(folder)
    return removed

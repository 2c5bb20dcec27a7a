"""Which release a SPARQL request asks (`release=VERSION`, issue 25), and saying which answered.

Without the parameter (or with the current version) queries run on the served snapshot as
before; a past release is opened on demand from its on-disk store (publisher.web.memento's
few open past stores) and queried through the same guard, admission, sandboxed workers and
limits. An unknown version is a 404 in German and English, never a 500.
"""

from __future__ import annotations

from flask import Response

from publisher.releases import find_release
from publisher.web.memento import release_store, releases
from publisher.web.sparql_protocol import ProtocolError, values
from publisher.web.state import Published, served

__all__ = ["RELEASE_HEADER", "mark_release", "snapshot", "versions"]

RELEASE_HEADER = "X-Release"


def snapshot() -> Published:
    """The snapshot this request's query runs on: the served one, or the release it names."""
    asked = [v for v in values("release") if v]
    published = served().published
    if not asked or (published.release is not None and asked[0] == published.release.version):
        return published
    release = find_release(releases(), asked[0])
    if release is None:
        raise ProtocolError(404, f"Eine Version {asked[0][:80]!r} gibt es hier nicht "
                                 f"(die Versionen: /download/) / there is no release "
                                 f"{asked[0][:80]!r} (the releases: /download/)")
    return Published(release=release, store=release_store(release))


def versions() -> list[tuple[str, str]]:
    """(version, publication date) of every release, newest first, for the query page."""
    return [(r.version, r.published_at.date().isoformat()) for r in reversed(releases())]


def mark_release(response: Response, published: Published) -> Response:
    """Say which release answered (X-Release), and let clients read it across origins."""
    if published.release is not None:
        response.headers[RELEASE_HEADER] = published.release.version
    return response

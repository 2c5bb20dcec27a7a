"""A link checker for a running kiezgraph, as a harvester, a browser and an RDF client see it.

Starting from the home page, robots.txt, the sitemap, the catalogue, VoID, the SPARQL service
and the downloads, it follows every same-host link of every HTML page, every `Link` header,
every sitemap entry and every IRI under the base found in an RDF answer (IRIs under the
configured base are mapped onto the server, as rewriting does). Each URL is fetched with GET
and HEAD (which must agree on status and Content-Type), must answer 2xx or 3xx, and its body
must parse as what its Content-Type says (RDF with rdflib and, where Debian's raptor2-utils is
installed, with `rapper` too). Every format a resource advertises (`Link: rel="alternate"`)
is asked for by `Accept`, also with parameters. Every `dcat:downloadURL` must match its
SHA-256 in SHA256SUMS (a past release's dump: its `Digest`). Memento (RFC 7089, issue 25):
every resource IRI is asked as a TimeGate with `Accept-Datetime` (302 to a memento under
/release/, `Vary: accept-datetime`), every TimeMap (`rel="timemap"`) is read as link-format
and as RDF and every memento it lists is fetched, and a memento must carry
`Memento-Datetime` and its original, timegate and timemap links. Written here, not taken
from a library: no link checker knows content negotiation, RDF and checksums together.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
import re
import shutil
import subprocess
import threading
import xml.etree.ElementTree as ET
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urldefrag, urljoin, urlsplit

import httpx
from rdflib import Dataset, URIRef
from rdflib.query import Result

__all__ = ["BROWSER", "CRAWLS", "RAPPER", "RDF_CLIENT", "Crawl", "Target", "crawl"]

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
# A Linked Data client dereferencing an IRI: RDF first, but it takes what the IRI is (a
# download, a page) rather than ask for a 406.
RDF_CLIENT = "text/turtle,application/ld+json;q=0.9,application/rdf+xml;q=0.8,*/*;q=0.1"
RAPPER = shutil.which("rapper")
CRAWLS: list[str] = []  # one summary line per crawl of this session, for the terminal
# What parsing a body found, by (server, media type, SHA-256): shared by every crawl of the
# session, since a repeated crawl sees mostly the same bytes and parsing is its main cost.
_PARSED: dict[tuple[str, str, str], str | None] = {}
_RDF: dict[tuple[str, str, str], tuple] = {}
DCAT_DOWNLOAD = URIRef("http://www.w3.org/ns/dcat#downloadURL")

# Content-Type -> rdflib's parser name, and raptor's (None: raptor has no JSON-LD parser).
RDF = {
    "text/turtle": ("turtle", "turtle"),
    "application/n-triples": ("nt", "ntriples"),
    "application/n-quads": ("nquads", "nquads"),
    "application/trig": ("trig", "trig"),
    "application/rdf+xml": ("xml", "rdfxml"),
    "application/ld+json": ("json-ld", None),
}
RESULTS = {
    "application/sparql-results+json": "json",
    "application/sparql-results+xml": "xml",
    "text/csv": "csv",
    "text/tab-separated-values": "tsv",
}
# What a client puts after a media type it asks for: parameters any server must accept.
PARAMETERS = {
    "application/ld+json": '; profile="http://www.w3.org/ns/json-ld#expanded"',
}


@dataclass(frozen=True)
class Target:
    """One request: a URL asked for with one Accept header (BROWSER: as a browser asks)."""

    url: str
    accept: str = BROWSER
    via: str = "start"
    datetime: str | None = None  # Accept-Datetime: asked as a Memento TimeGate

    @property
    def key(self) -> tuple[str, str, str | None]:
        return self.url, self.accept, self.datetime


@dataclass
class Crawl:
    """What one crawl checked and what failed (one line per failing request)."""

    checked: int = 0
    failures: list[str] = field(default_factory=list)
    rapper_checked: int = 0
    sums: dict[str, str] = field(default_factory=dict)
    bodies: dict[str, str] = field(default_factory=dict)  # URL -> SHA-256 of its GET body
    digests: dict[str, str] = field(default_factory=dict)  # URL -> SHA-256 its Digest says
    downloads: set[str] = field(default_factory=set)  # every dcat:downloadURL seen

    def report(self) -> str:
        """The failures, one per line."""
        return "\n".join(sorted(self.failures))


class _Links(HTMLParser):
    """Every href, src and GET form action of an HTML page."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        for name in ("href", "src"):
            if values.get(name):
                self.links.append(values[name])
        if tag == "form" and values.get("action") and values.get("method", "get") == "get":
            self.links.append(values["action"])


_LINK = re.compile(r'<([^>]*)>((?:\s*;\s*[^;,]+(?:="[^"]*")?)*)')


def link_header(value: str) -> list[tuple[str, dict[str, str]]]:
    """An HTTP Link header as (target, parameters) pairs."""
    out = []
    for target, params in _LINK.findall(value or ""):
        attrs = {}
        for param in params.split(";"):
            if "=" in param:
                name, _, val = param.partition("=")
                attrs[name.strip().lower()] = val.strip().strip('"')
        out.append((target, attrs))
    return out


def _media(content_type: str | None) -> str:
    return (content_type or "").split(";")[0].strip().lower()


class _Crawler:
    def __init__(self, client: httpx.Client, local: str, canonical: str, result: Crawl):
        self.client = client
        self.local = local  # http://127.0.0.1:PORT/
        self.canonical = canonical  # the configured base, mapped onto `local`
        self.result = result
        self.lock = threading.Lock()
        self.parsed = _PARSED
        self.rdf = _RDF

    def short(self, url: str) -> str:
        """A URL on this server as its path, cut to a readable length."""
        if url.startswith(self.local):
            url = "/" + url[len(self.local):]
        return url if len(url) <= 100 else url[:99] + "…"

    def fail(self, target: Target, reason: str) -> None:
        accept = {BROWSER: "", RDF_CLIENT: " [as an RDF client]"}.get(
            target.accept, f" [Accept: {target.accept}]")
        if target.datetime:
            accept += f" [Accept-Datetime: {target.datetime}]"
        line = f"{self.short(target.url)}{accept}: {reason} (found at {self.short(target.via)})"
        with self.lock:
            self.result.failures.append(line)

    def here(self, url: str) -> str | None:
        """The URL on this server (IRIs under the base mapped onto it), or None if elsewhere."""
        url = urldefrag(url)[0]
        if url.startswith(self.canonical):
            url = self.local + url[len(self.canonical):]
        return url if url.startswith(self.local) else None

    def check(self, target: Target) -> list[Target]:
        """Fetch one target with GET and HEAD; return what it leads to."""
        headers = {"Accept": target.accept}
        if target.datetime:
            headers["Accept-Datetime"] = target.datetime
        try:
            got = self.client.get(target.url, headers=headers)
            head = self.client.head(target.url, headers=headers)
        except httpx.HTTPError as exc:
            self.fail(target, f"no answer: {exc!r}")
            return []
        with self.lock:
            self.result.checked += 1
        if (head.status_code, head.headers.get("content-type")) != (
                got.status_code, got.headers.get("content-type")):
            self.fail(target, f"HEAD answers {head.status_code} "
                              f"{head.headers.get('content-type')!r}, GET {got.status_code} "
                              f"{got.headers.get('content-type')!r}")
        if got.status_code >= 400:
            first = got.text.strip().splitlines()[:1] if got.content else []
            self.fail(target, f"GET answers {got.status_code}"
                              + (f": {first[0][:120]}" if first else ""))
            return []
        found: list[Target] = []
        if target.datetime:
            self._timegate(target, got)
        if 300 <= got.status_code < 400:
            location = got.headers.get("location")
            if not location:
                self.fail(target, f"{got.status_code} without Location")
            elif (url := self.here(urljoin(target.url, location))) is not None:
                found.append(Target(url, target.accept, target.url))
            return found
        media = _media(got.headers.get("content-type"))
        wanted = [_media(part) for part in target.accept.split(",")]
        if "*/*" not in wanted and media not in wanted:
            self.fail(target, f"answers {media or 'no Content-Type'}")
        if target.accept == RDF_CLIENT and media not in RDF and any(
                _media(attrs.get("type")) in RDF
                for _, attrs in link_header(got.headers.get("link", ""))
                if attrs.get("rel") == "alternate"):
            self.fail(target, f"answers {media} to an RDF client although it offers RDF")
        self._memento(target, got)
        digest = _digest(got.headers.get("digest", ""))
        with self.lock:
            self.result.bodies[target.url] = hashlib.sha256(got.content).hexdigest()
            if digest:
                self.result.digests[target.url] = digest
        found += self._links(target, got)
        found += self._body(target, got, media)
        if urlsplit(target.url).path.startswith("/release/"):
            # A memento is checked (status, headers, body) but what it links under
            # /release/ is not followed from it: every memento is reached from its TimeMap,
            # and following each memento's every format again doubled the crawl.
            found = [each for each in found
                     if not urlsplit(each.url).path.startswith("/release/")]
        return found

    def _timegate(self, target: Target, got: httpx.Response) -> None:
        """A TimeGate answers Accept-Datetime with a 302 to a memento (RFC 7089 4.1)."""
        vary = {part.strip().lower() for part in got.headers.get("vary", "").split(",")}
        location = got.headers.get("location", "")
        if got.status_code != 302 or "/release/" not in location:
            self.fail(target, f"TimeGate answers {got.status_code} {location!r}, not 302 to "
                              "a memento under /release/")
        if "accept-datetime" not in vary:
            self.fail(target, "TimeGate answers without Vary: accept-datetime")

    def _memento(self, target: Target, got: httpx.Response) -> None:
        """A memento says when it is from and links its original, TimeGate and TimeMap."""
        is_memento = urlsplit(target.url).path.startswith("/release/")
        if not is_memento and "memento-datetime" not in got.headers:
            return
        if "memento-datetime" not in got.headers:
            self.fail(target, "a memento without Memento-Datetime")
        rels = {rel for _, attrs in link_header(got.headers.get("link", ""))
                for rel in attrs.get("rel", "").split()}
        missing = {"original", "timegate", "timemap"} - rels
        if missing:
            self.fail(target, f"a memento without Link rel {', '.join(sorted(missing))}")

    def _links(self, target: Target, got: httpx.Response) -> list[Target]:
        found = []
        vary = {part.strip().lower() for part in got.headers.get("vary", "").split(",")}
        # A URL that negotiates (and names no format in its query) must give each format
        # it advertises when asked by Accept.
        negotiates = "accept" in vary and not urlsplit(target.url).query
        for url, attrs in link_header(got.headers.get("link", "")):
            url = self.here(urljoin(target.url, url))
            if url is None:
                continue
            found.append(Target(url, BROWSER, target.url))
            kind = _media(attrs.get("type"))
            if "timemap" in attrs.get("rel", "").split():  # the TimeMap as RDF too
                found.append(Target(url, RDF_CLIENT, target.url))
            if kind and attrs.get("rel") == "describedby":
                found.append(Target(url, kind, target.url))
            elif kind and attrs.get("rel") == "alternate" and negotiates:
                # the same URL in that format, by Accept, also with parameters (the
                # alternate's own URL is fetched above)
                found.append(Target(target.url, kind, target.url))
                found.append(Target(target.url, kind + PARAMETERS.get(
                    kind, "; charset=utf-8" if kind.startswith("text/") else ""), target.url))
        return found

    def _body(self, target: Target, got: httpx.Response, media: str) -> list[Target]:
        body = got.content
        path = urlsplit(target.url).path
        if media == "text/html":
            parser = _Links()
            parser.feed(got.text)
            return [Target(url, BROWSER, target.url) for link in parser.links
                    if (url := self.here(urljoin(target.url, link))) is not None]
        if media in RDF:
            return self._rdf(target, body, media)
        if media in RESULTS:
            error = self._once((media, body), lambda: Result.parse(
                io.BytesIO(body), format=RESULTS[media]))
            if error:
                self.fail(target, f"does not parse as {media}: {error}")
            return []
        if media == "application/link-format":  # a TimeMap: every memento it lists
            links = link_header(got.text)
            if not any("memento" in attrs.get("rel", "").split() for _, attrs in links):
                self.fail(target, "a TimeMap that lists no memento")
            return [Target(url, BROWSER, target.url) for link, _ in links
                    if (url := self.here(urljoin(target.url, link))) is not None]
        if media in ("application/json", "application/problem+json"):
            try:
                json.loads(body)
            except ValueError as exc:
                self.fail(target, f"is not JSON: {exc}")
            return []
        if path.endswith(".gz") or media == "application/gzip":
            try:
                gzip.decompress(body)
            except (OSError, EOFError) as exc:
                self.fail(target, f"is not gzip: {exc}")
            return []
        if path.endswith("/SHA256SUMS"):
            sums = {}
            for line in got.text.splitlines():
                digest, _, name = line.partition("  ")
                if digest and name:
                    sums[name.strip()] = digest.strip()
            with self.lock:
                self.result.sums.update(sums)
            return [Target(url, BROWSER, target.url) for name in sums
                    if (url := self.here(urljoin(target.url, name))) is not None]
        if path.endswith(".xml") and "sitemap" in path:
            try:
                locs = [e.text or "" for e in ET.fromstring(body).iter()
                        if e.tag.endswith("}loc")]
            except ET.ParseError as exc:
                self.fail(target, f"is not XML: {exc}")
                return []
            return [Target(url, BROWSER, target.url) for loc in locs
                    if (url := self.here(loc.strip())) is not None]
        if path.endswith("/robots.txt"):
            return [Target(url, BROWSER, target.url) for line in got.text.splitlines()
                    if line.lower().startswith("sitemap:")
                    and (url := self.here(line.split(":", 1)[1].strip())) is not None]
        return []

    def _once(self, key, parse) -> str | None:
        """Parse each distinct body once (a crawl sees the same bytes many times)."""
        digest = (self.local, key[0], hashlib.sha256(key[1]).hexdigest())
        with self.lock:
            if digest in self.parsed:
                return self.parsed[digest]
        try:
            parse()
            error = None
        except Exception as exc:  # any parser error is the finding
            error = f"{type(exc).__name__}: {str(exc)[:200]}"
        with self.lock:
            self.parsed[digest] = error
        return error

    def _rdf(self, target: Target, body: bytes, media: str) -> list[Target]:
        key = (self.local, media, hashlib.sha256(body).hexdigest())
        with self.lock:
            known = self.rdf.get(key)
        if known is None:
            known = self.rdf[key] = self._read_rdf(body, media, target.url)
        error, rapper_error, iris, downloads = known
        if error:
            self.fail(target, f"rdflib cannot parse it as {media}: {error}")
            return []
        if rapper_error:
            self.fail(target, f"rapper cannot parse it as {media}: {rapper_error}")
        with self.lock:
            self.result.downloads |= downloads
            if RAPPER and RDF[media][1]:
                self.result.rapper_checked += 1
        return [Target(url, accept, target.url) for url in iris
                for accept in (RDF_CLIENT, BROWSER)]

    def _read_rdf(self, body: bytes, media: str, url: str):
        """(rdflib's error, rapper's error, IRIs on this server, dcat:downloadURLs)."""
        fmt, raptor = RDF[media]
        data = Dataset()
        try:
            data.parse(data=body, format=fmt, publicID=url)
        except Exception as exc:  # any parser error is the finding
            return f"{type(exc).__name__}: {str(exc)[:200]}", None, set(), set()
        rapper_error = None
        if RAPPER and raptor:
            try:
                _rapper(body, raptor, url)
            except ValueError as exc:
                rapper_error = str(exc)[:200]
        iris, downloads = set(), set()
        for s, p, o, g in data.quads((None, None, None, None)):
            if p == DCAT_DOWNLOAD:
                downloads.add(self.here(str(o)) or str(o))
            for term in (s, p, o, getattr(g, "identifier", g)):
                if isinstance(term, URIRef) and (here := self.here(str(term))) is not None:
                    iris.add(here)
        return None, rapper_error, iris, downloads


def _rapper(body: bytes, syntax: str, base: str) -> None:
    """Raise ValueError unless raptor's rapper parses the body without an error."""
    done = subprocess.run([RAPPER, "-q", "-c", "-i", syntax, "-", base], input=body,
                          capture_output=True, timeout=120, check=False)
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise ValueError(message[0] if message else f"exit status {done.returncode}")


def crawl(local: str, canonical: str, start: list[str], *, iris: tuple[str, ...] = (),
          asked: tuple[tuple[str, str], ...] = (), workers: int = 4,
          timegates: tuple[str, ...] = ()) -> Crawl:
    """Crawl the server at `local` (ending in /) from the `start` paths, the IRIs `iris`
    (mapped onto the server; asked for as an RDF client and as a browser asks) and the
    (path, Accept) pairs `asked`, with a bounded pool of `workers` threads. Each IRI of a
    thing (<base>id/…) is also asked as a TimeGate at each HTTP date of `timegates`."""
    result = Crawl()
    with httpx.Client(timeout=60, follow_redirects=False,
                      limits=httpx.Limits(max_connections=workers)) as client:
        crawler = _Crawler(client, local, canonical, result)
        seen: set[tuple[str, str]] = set()
        with ThreadPoolExecutor(max_workers=workers) as pool:
            pending = set()
            targets = [Target(urljoin(local, path)) for path in start]
            targets += [Target(urljoin(local, path), accept) for path, accept in asked]
            targets += [Target(url, accept, "the served dump")
                        for iri in iris if (url := crawler.here(iri)) is not None
                        for accept in (RDF_CLIENT, BROWSER)]
            targets += [Target(url, RDF_CLIENT, "the served dump", when)
                        for iri in iris if iri.startswith(canonical + "id/")
                        and (url := crawler.here(iri)) is not None for when in timegates]
            for target in targets:
                if target.key not in seen:
                    seen.add(target.key)
                    pending.add(pool.submit(crawler.check, target))
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    for target in future.result():
                        if target.key not in seen:
                            seen.add(target.key)
                            pending.add(pool.submit(crawler.check, target))
    _check_downloads(result, crawler.short)
    return result


def _digest(value: str) -> str | None:
    """The SHA-256 (hex) a `Digest: sha-256=<base64>` header (RFC 3230) names, or None."""
    for part in value.split(","):
        algorithm, _, encoded = part.strip().partition("=")
        if algorithm.lower() == "sha-256" and encoded:
            try:
                return base64.b64decode(encoded).hex()
            except ValueError:
                return None
    return None


def _check_downloads(result: Crawl, short) -> None:
    """Every dcat:downloadURL was fetched and matches its line in SHA256SUMS; one of a past
    release (named by its memento's catalogue, issue 25; /download/SHA256SUMS lists the
    current release's files only) matches the checksum its build recorded, sent as Digest."""
    if not result.downloads:
        result.failures.append("the catalogue names no dcat:downloadURL")
    if not result.sums:
        result.failures.append("no SHA256SUMS was found at /download/")
    current = {name.split(".", 1)[0] for name in result.sums}
    for url in sorted(result.downloads):
        name = url.rsplit("/", 1)[-1]
        if url not in result.bodies:
            result.failures.append(f"{short(url)}: the dcat:downloadURL could not be fetched")
        elif name not in result.sums and name.split(".", 1)[0] not in current:
            if result.digests.get(url) != result.bodies[url]:
                result.failures.append(f"{short(url)}: a past release's dump whose SHA-256 "
                                       "differs from its Digest (or that sends none)")
        elif name not in result.sums:
            result.failures.append(f"{short(url)}: the dcat:downloadURL is not in SHA256SUMS")
        elif result.bodies[url] != result.sums[name]:
            result.failures.append(f"{short(url)}: its SHA-256 differs from SHA256SUMS")


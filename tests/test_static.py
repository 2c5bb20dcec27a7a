"""The static export behind nginx answers like the dynamic server: same bodies, same headers.

nginx runs on a free loopback port with the generated configuration and a temporary prefix;
the dynamic server runs behind waitress as it would in production behind the real base
(scheme https, the base's host and path). Every resource is asked for in every format, by
suffix and by the Accept headers real clients send, and the answers are compared.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import threading
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from publisher.static import COMMON_ACCEPT, ExportError, _check_names
from publisher.web import create_app
from publisher.web.export import accept_maps, export_app
from tests.waiting import until

NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists()
                                  else None)
BASE = "https://w3id.org/kiezgraph/pankow/"
PREFIX = urlsplit(BASE).path.rstrip("/")
RDFLIB_ACCEPTS = ["application/rdf+xml, */*;q=0.1",
                  "text/turtle, application/x-turtle, */*;q=0.1",
                  "application/ld+json, application/json;q=0.9, */*;q=0.1"]
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
# What must agree; nginx makes ETag, Accept-Ranges, Date and Server itself.
COMPARED = ("content-type", "link", "content-location", "content-language", "cache-control",
            "last-modified", "access-control-allow-origin", "access-control-expose-headers",
            "x-content-type-options", "x-frame-options", "referrer-policy",
            "content-security-policy", "cross-origin-opener-policy")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def exported(settings, release, tmp_path_factory):
    """The app as production runs it, and its static export."""
    app = create_app(settings.replace(rewrite_base=False), release=release)
    out = tmp_path_factory.mktemp("static")
    summary = export_app(app, out)
    return app, out, summary


@pytest.fixture(scope="module")
def dynamic(exported):
    """waitress serving the app as if at the base (https, its host, its path)."""
    from waitress.server import create_server

    app = exported[0]
    server = create_server(app, host="127.0.0.1", port=0, threads=4, url_scheme="https",
                           url_prefix=PREFIX, clear_untrusted_proxy_headers=True)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    with httpx.Client(base_url=f"http://127.0.0.1:{server.effective_port}",
                      headers={"Host": urlsplit(BASE).netloc,
                               "Accept-Encoding": "identity"}) as client:
        yield client
    server.close()
    thread.join(timeout=5)


@pytest.fixture(scope="module")
def nginx(exported, tmp_path_factory):
    """nginx with the generated maps and locations, on a free port, in a temporary prefix."""
    if NGINX is None:
        pytest.skip("nginx is not installed (apt-get install nginx-light)")
    out = exported[1]
    prefix = tmp_path_factory.mktemp("nginx")
    (prefix / "tmp").mkdir()
    port = _free_port()
    temp = "".join(f"    {kind}_temp_path {prefix}/tmp;\n"
                   for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    # As root nginx's workers would switch to nobody, who cannot read pytest's folders.
    user = "user root;\n" if os.geteuid() == 0 else ""
    (prefix / "nginx.conf").write_text(
        f"{user}worker_processes 1;\npid {prefix}/nginx.pid;\nerror_log {prefix}/error.log;\n"
        f"daemon off;\nevents {{ worker_connections 64; }}\nhttp {{\n    access_log off;\n"
        f"{temp}    include {out}/nginx/maps.conf;\n"
        f"    server {{\n        listen 127.0.0.1:{port};\n"
        f"        include {out}/nginx/locations.conf;\n    }}\n}}\n", encoding="utf-8")
    proc = subprocess.Popen([NGINX, "-p", str(prefix), "-c", str(prefix / "nginx.conf")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        def listening() -> bool:
            if proc.poll() is not None:
                pytest.fail(f"nginx did not start: {proc.stderr.read().decode()}")
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return True

        # generous: a busy machine starts slowly
        until(listening, 60, "nginx to listen", ignoring=(OSError,))
        with httpx.Client(base_url=f"http://127.0.0.1:{port}",
                          headers={"Accept-Encoding": "identity"}) as client:
            yield client
    finally:
        proc.terminate()
        proc.wait(timeout=5)


def _vary(response: httpx.Response) -> set[str]:
    return {t.strip().lower() for v in response.headers.get_list("vary") for t in v.split(",")
            if t.strip()}


def _same(dynamic: httpx.Response, static: httpx.Response, what: str) -> None:
    assert static.status_code == dynamic.status_code, what
    if dynamic.status_code == 404:
        return
    if dynamic.status_code == 303:
        assert static.headers["location"] == dynamic.headers["location"], what
    else:
        assert static.content == dynamic.content, what
        assert _vary(static) == _vary(dynamic), what
    for name in COMPARED:
        if dynamic.status_code == 303 and name == "content-type":
            continue  # nginx writes a small HTML body of its own into a 303
        assert static.headers.get(name) == dynamic.headers.get(name), (what, name)


def _requests(summary):
    for cls, rests in summary["documents_by_class"].items():
        for rest in rests:
            doc = f"/doc/{rest}" if cls != "ontology" else "/ontology"
            for suffix in ("ttl", "jsonld", "rdf", "nt", "html"):
                yield f"{doc}.{suffix}", {}
            yield f"{doc}.html?lang=en", {}
            for accept in ["*/*", BROWSER, "text/turtle", "application/ld+json",
                           "application/rdf+xml", "application/n-triples", *RDFLIB_ACCEPTS]:
                yield doc, {"Accept": accept}
            yield doc, {}
            yield doc, {"Accept": BROWSER, "Accept-Language": "en-US,en;q=0.9"}
            yield doc + "?lang=de", {"Accept": BROWSER, "Accept-Language": "en"}
            if cls != "ontology":
                thing = f"/{rest}" if cls == "term" else f"/id/{rest}"
                yield thing, {}
                yield thing + "?lang=en", {"Accept": BROWSER}


def test_every_representation_is_exported(exported):
    _app, out, summary = exported
    assert summary["documents"] > 50 and summary["documents_by_class"]["term"]
    assert summary["files"] == summary["documents"] * 16  # 4 RDF + 4 HTML, two modes each
    maps = (out / "nginx" / "maps.conf").read_text(encoding="utf-8")
    assert "map $http_accept $kg_format" in maps


@pytest.mark.live
def test_nginx_answers_as_the_dynamic_server(exported, dynamic, nginx):
    summary = exported[2]
    count = 0
    for path, headers in _requests(summary):
        _same(dynamic.get(PREFIX + path, headers=headers),
              nginx.get(PREFIX + path, headers=headers), (path, headers))
        count += 1
    assert count > 1000
    for path in ("/doc/organisation/nowhere", "/doc/organisation/nowhere.ttl",
                 "/id/organisation/nowhere", "/ontology/Nothing", "/id/ontology/Nothing",
                 "/doc/ontology/Nothing.ttl", "/doc/organisation/bezirksamt-pankow.txt"):
        _same(dynamic.get(PREFIX + path), nginx.get(PREFIX + path), path)


@pytest.mark.live
def test_gzip_and_revalidation(exported, dynamic, nginx):
    path = PREFIX + "/ontology.ttl"
    gz = {"Accept-Encoding": "gzip"}
    ours, theirs = dynamic.get(path, headers=gz), nginx.get(path, headers=gz)
    assert theirs.headers["content-encoding"] == ours.headers["content-encoding"] == "gzip"
    assert theirs.content == ours.content  # httpx took the gzip off both
    for client in (dynamic, nginx):
        first = client.get(path)
        again = client.get(path, headers={"If-None-Match": first.headers["etag"]})
        assert again.status_code == 304
        since = client.get(path, headers={"If-Modified-Since": first.headers["last-modified"]})
        assert since.status_code == 304


def test_common_accept_headers_are_mapped_as_the_server_negotiates():
    formats, languages = accept_maps()
    assert formats["*/*"] == "turtle" and formats[BROWSER] == "html"
    assert formats["application/rdf+xml, */*;q=0.1"] == "rdfxml"
    assert set(COMMON_ACCEPT) <= set(formats)  # and the generated ones (issue 23)
    assert languages["en-US,en;q=0.9,de;q=0.8"] == "en" and languages["*"] == "de"


def test_document_paths_with_dots_are_refused():
    with pytest.raises(ExportError):
        _check_names(["organisation/a.b"])


def test_an_export_served_elsewhere_links_and_redirects_there(exported, tmp_path):
    from publisher.static import write_export
    from publisher.web.export import representations

    app = exported[0]
    url = "https://kiezgraph.example.berlin/pankow/"
    reps = list(representations(app, url, ["doc/organisation/bezirksamt-pankow"]))
    write_export(tmp_path, BASE, reps, *accept_maps(), None, url=url)
    turtle = next(r for r in reps if r.variant == "turtle")
    assert turtle.thing.headers and dict(turtle.thing.headers)["Location"] == \
        url + "doc/organisation/bezirksamt-pankow"
    assert BASE.encode() in turtle.by_suffix.body  # the IRIs stay the base's
    locations = (tmp_path / "nginx" / "locations.conf").read_text(encoding="utf-8")
    assert '"^/pankow/doc/(?<kg_rest>' in locations and "/kiezgraph/" not in locations
    assert f'return 303 "{url}doc/${{kg_rest}}$is_args$args";' in locations
    assert (tmp_path / "site" / "sfx" / "turtle" / "pankow" / "doc" / "organisation"
            / "bezirksamt-pankow.ttl").is_file()  # by suffix: the file at its URL path


def test_suffix_urls_are_files_at_their_path_and_nothing_is_rewritten(exported):
    """A document by suffix is served from its URL path (no try_files: only its variant's
    folder is chosen); one regex location per class and kind; no internal redirect."""
    out, summary = exported[1], exported[2]
    locations = (out / "nginx" / "locations.conf").read_text(encoding="utf-8")
    blocks = locations.split("\nlocation ")[1:]
    by_suffix = [b for b in blocks if "(?<kg_sfx>" in b.split("{", 1)[0]]
    assert len(by_suffix) == 3  # doc, term, ontology
    assert all("try_files" not in b and "/sfx/$kg_variant;" in b for b in by_suffix)
    regexes = [b for b in blocks if b.startswith("~")]
    assert len(regexes) == 7  # by suffix ×3, negotiated ×2 (+ the ontology's exact), 303 ×2
    exact = [b for b in blocks if b.startswith("=")]
    # + /events, /events.ics and /changes (issue 23)
    assert len(exact) == 1 + 7 * sum(1 for g in summary["groups"] if g["only"]) + 3
    assert "rewrite" not in locations and "internal;" not in locations


@pytest.mark.live
def test_issue25_exported_documents_advertise_no_mementos(exported, nginx):
    """The export leaves out mementos, TimeMaps and citations (they need the running server
    and the past releases): its documents link none of them (cite-as stays as before #25)."""
    summary = exported[2]
    rest = summary["documents_by_class"]["doc"][0]
    for suffix in (".html", ".ttl"):
        answer = nginx.get(f"{PREFIX}/doc/{rest}{suffix}")
        assert answer.status_code == 200
        link = answer.headers["link"]
        assert 'rel="timemap"' not in link and "/release/" not in link, link
        assert "/timemap/" not in answer.text and "/cite/" not in answer.text


@pytest.mark.live
def test_issue15_the_export_pages_link_only_what_the_export_serves(exported, dynamic, nginx):
    import re
    from urllib.parse import urljoin

    summary = exported[2]
    pages = [f"{PREFIX}/doc/{rest}.html" for cls, rests in summary["documents_by_class"].items()
             if cls != "ontology" for rest in rests[:15]] + [f"{PREFIX}/ontology.html"]
    origin = "http://static.invalid"
    targets: dict[str, str] = {}
    for page in pages:
        answer = nginx.get(page)
        assert answer.status_code == 200, page
        for link in re.findall(r'(?:href|src|action)="([^"]*)"', answer.text):
            target = urljoin(origin + page, link.replace("&amp;", "&")).split("#")[0]
            if target.startswith(origin + "/"):
                targets.setdefault(target[len(origin):], page)
    assert any("/static/" in t for t in targets) and len(targets) > 20
    broken = []
    for target, page in sorted(targets.items()):
        status = nginx.get(target).status_code
        # Served by the export, or a dead link on the server too (not the export's to fix).
        if status >= 400 and status != dynamic.get(target).status_code:
            broken.append((target, status, page))
    assert not broken, broken
    css = nginx.get(f"{PREFIX}/static/style.css")
    assert css.headers["content-type"].startswith("text/css")

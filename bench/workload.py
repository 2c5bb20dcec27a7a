"""What the benchmark asks: SPARQL queries (ours and the example queries) and documents."""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

from bench.load import NONCE

__all__ = ["DOC_FORMATS", "Query", "doc_paths", "queries"]

PREFIXES = """\
PREFIX rdfs:    <http://www.w3.org/2000/01/rdf-schema#>
PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX org:     <http://www.w3.org/ns/org#>
PREFIX schema:  <http://schema.org/>
PREFIX kg:      <{base}ontology/>
"""

# Suffix and Accept header of each document format a resource is served in.
DOC_FORMATS: tuple[tuple[str, str], ...] = (
    ("ttl", "text/turtle"),
    ("jsonld", "application/ld+json"),
    ("rdf", "application/rdf+xml"),
    ("nt", "application/n-triples"),
    ("html", "text/html"),
)


@dataclass(frozen=True)
class Query:
    """One workload query: its name, what sort of work it is, its text and the answer format."""

    name: str
    kind: str  # "lookup" (one resource) or "work" (scans, joins, sorts, groups)
    text: str
    accept: str = "application/sparql-results+json"

    def with_nonce(self) -> str:
        """The text with a trailing comment that a load client can make unique per request."""
        return f"{self.text}\n#{NONCE}"


def _own(base: str, samples: dict[str, list[str]]) -> list[Query]:
    """The benchmark's own queries: one of each shape an application asks."""
    rng = random.Random(7)
    centre = rng.choice(samples.get("stadtteilzentrum") or [f"{base}id/stadtteilzentrum/x"])
    organisation = rng.choice(samples.get("organisation") or [f"{base}id/organisation/x"])
    head = PREFIXES.format(base=base)
    return [
        Query("lookup", "lookup", f"SELECT ?p ?o WHERE {{ <{centre}> ?p ?o }}"),
        Query("construct-neighbourhood", "lookup", f"""CONSTRUCT {{ ?s ?p ?o }} WHERE {{
  {{ <{organisation}> ?p ?o . BIND(<{organisation}> AS ?s) }}
  UNION {{ ?s ?p <{organisation}> . BIND(<{organisation}> AS ?o) }}
  UNION {{ <{organisation}> ?q ?s . ?s ?p ?o . FILTER(isIRI(?s)) }}
}}""", "text/turtle"),
        Query("listing-lang-order", "work", head + """SELECT ?s ?label WHERE {
  ?s a org:Organization ; rdfs:label ?label . FILTER(lang(?label) = "de")
} ORDER BY ?label LIMIT 100"""),
        Query("group-count", "work", """SELECT ?type (COUNT(?s) AS ?n) WHERE { ?s a ?type }
GROUP BY ?type ORDER BY DESC(?n) ?type"""),
        Query("optional-listing", "work", head + """
SELECT ?c ?label ?operator ?operatorLabel ?site ?place ?url WHERE {
  ?c a kg:Stadtteilzentrum ; rdfs:label ?label . FILTER(lang(?label) = "de")
  OPTIONAL { ?c kg:operatedBy ?operator .
    OPTIONAL { ?operator rdfs:label ?operatorLabel . FILTER(lang(?operatorLabel) = "de") } }
  OPTIONAL { ?c org:hasSite ?site }
  OPTIONAL { ?c dcterms:spatial ?place }
  OPTIONAL { ?c schema:url ?url }
} ORDER BY ?label LIMIT 500"""),
        Query("label-search", "work", head + """SELECT ?s ?label WHERE {
  ?s rdfs:label ?label . FILTER(CONTAINS(LCASE(STR(?label)), "weißensee"))
} ORDER BY ?label LIMIT 100"""),
        Query("membership-counts", "work", head + """SELECT ?member (COUNT(?m) AS ?n) WHERE {
  ?m a org:Membership ; org:member ?member ; org:organization ?collaboration .
} GROUP BY ?member ORDER BY DESC(?n) ?member LIMIT 50"""),
    ]


def queries(base: str, samples: dict[str, list[str]], examples: Path | None) -> list[Query]:
    """Our own queries, then each example query of tests/queries/*.rq (kind "work")."""
    found = _own(base, samples)
    if examples and examples.is_dir():
        for path in sorted(examples.glob("*.rq")):
            text = path.read_text(encoding="utf-8")
            accept = ("text/turtle" if "CONSTRUCT" in text.upper().split("WHERE")[0]
                      else "application/sparql-results+json")
            found.append(Query(f"example:{path.stem}", "work", text, accept))
    return found


def doc_paths(base: str, samples: dict[str, list[str]], most: int) -> list[tuple[str, str]]:
    """(path without suffix, kind) of up to `most` sampled things' documents: id/… → doc/…."""
    paths = []
    for kind, iris in sorted(samples.items()):
        for iri in iris:
            if iri.startswith(base + "id/"):
                paths.append(("/doc/" + iri[len(base) + 3:], kind))
    return random.Random(most).sample(paths, min(most, len(paths)))

"""Names of reused terms as data: publisher/vocabularies/labels.ttl and its lookup (issue #21)."""

from __future__ import annotations

import re
import time

from rdflib import Graph, Literal, URIRef

from publisher import labels
from publisher import namespaces as ns  # not its names: pytest probes module globals
from publisher.web.view import term_label

# A sample across the vocabularies, with the names pages showed when they were Python dicts.
SAMPLE = {
    ns.RDF.type: ("Typ", "type"),
    ns.SCHEMA.address: ("Adresse", "address"),
    ns.SCHEMA.NGO: ("Nichtregierungsorganisation", "Non-governmental organisation"),
    ns.ORG.Membership: ("Mitgliedschaft", "Membership"),
    ns.ORG.memberDuring: ("Mitglied während", "member during"),
    ns.PROV.qualifiedAssociation: ("Beteiligung", "qualified association"),
    ns.PROV.Role: ("Rolle", "role"),
    ns.DCTERMS["format"]: ("Format", "format"),
    ns.DCTERMS.spatial: ("Raumbezug", "spatial coverage"),
    ns.SKOS.broader: ("Oberbegriff", "broader"),
    ns.DCAT.byteSize: ("Größe (Bytes)", "size (bytes)"),
    URIRef(str(ns.DCAT) + "version"): ("Version", "version"),
    ns.VOID.triples: ("Tripel", "triples"),
    ns.TIME.hasBeginning: ("Beginn", "beginning"),
    ns.VCARD.Kind: ("Kontakt", "Contact"),
    ns.SPDX.Checksum: ("Prüfsumme", "Checksum"),
    ns.CV.PublicOrganisation: ("Öffentliche Organisation", "Public organisation"),
}


def _file() -> Graph:
    return Graph().parse(labels.LABELS_FILE, format="turtle")


def test_a_sample_of_reused_terms_have_their_german_and_english_names():
    for term, (de, en) in SAMPLE.items():
        assert (labels.label(term, "de"), labels.label(term, "en")) == (de, en), term
    # every name the former dicts in publisher/web/view.py held (209 terms) is in the file
    assert len(labels.labelled()) >= 209


def test_every_term_has_one_name_in_german_and_one_in_english():
    graph = _file()
    assert set(graph.predicates()) == {ns.RDFS.label}
    for term in set(graph.subjects()):
        names = list(graph.objects(term, ns.RDFS.label))
        langs = sorted(n.language or "" for n in names if isinstance(n, Literal))
        assert langs == ["de", "en"], f"{term}: {langs}"
        assert all(str(n).strip() == str(n) and str(n) for n in names), term


def test_the_files_prefixes_are_the_one_tables():
    text = labels.LABELS_FILE.read_text(encoding="utf-8")
    declared = dict(re.findall(r"^@prefix\s+(\w+):\s+<([^>]+)>", text, re.MULTILINE))
    assert declared and {p: ns.PREFIXES.get(p) for p in declared} == declared


def test_other_languages_fall_back_to_english_and_unknown_terms_to_none():
    assert labels.label(ns.SCHEMA.address, "fr") == "address"
    assert labels.label(str(ns.SCHEMA.address)) == "Adresse"  # German unless asked
    assert labels.label(ns.SCHEMA.doesNotExist, "de") is None
    assert labels.label("https://schema.org/address", "de") is None  # http, as the data says


def test_pages_take_the_graphs_own_label_first_then_the_file_then_the_qname():
    graph = Graph()
    graph.bind("schema", str(ns.SCHEMA), replace=True)
    assert term_label(graph, ns.SCHEMA.address, "de") == "Adresse"
    assert term_label(graph, ns.SCHEMA.address, "en") == "address"
    assert term_label(graph, ns.SCHEMA.unlabelled, "de") == "schema:unlabelled"
    graph.add((ns.SCHEMA.address, ns.RDFS.label, Literal("Anschrift", lang="de")))
    assert term_label(graph, ns.SCHEMA.address, "de") == "Anschrift"


def test_reading_the_file_is_cheap():
    labels.reload()
    start = time.perf_counter()
    labels.label(ns.SCHEMA.name)
    took = time.perf_counter() - start
    assert took < 0.2, f"reading labels.ttl took {took * 1000:.0f} ms"  # about 1 ms
    start = time.perf_counter()
    labels.label(ns.SCHEMA.url)
    assert time.perf_counter() - start < 0.01  # read once

"""Key facts per kind, read through the store, checked against the Turtle sources via rdflib."""

from __future__ import annotations

import pytest
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, RDF, RDFS, SKOS

from publisher.describe import label_of
from publisher.sources import load_sources
from publisher.store import open_store
from publisher.summary import PROFILES, profile_for, summarise

ORG = Namespace("http://www.w3.org/ns/org#")
SCHEMA = Namespace("http://schema.org/")
PROV = Namespace("http://www.w3.org/ns/prov#")


@pytest.fixture(scope="module")
def store(settings, release):
    return open_store(settings, release)


@pytest.fixture(scope="module")
def source(project, settings) -> Graph:
    """The sources as one rdflib graph: what the summary must agree with."""
    graph = Graph()
    for part in load_sources(project, settings.base_uri).dataset.graphs():
        graph += part
    return graph


@pytest.fixture(scope="module")
def kg(settings) -> Namespace:
    return Namespace(settings.base_uri + "ontology/")


def _values(summary, key) -> set:
    fact = summary.fact(key)
    return set(fact.values) if fact is not None else set()


def test_every_centre_shows_its_operator_site_and_agreement(store, source, settings, kg):
    centres = sorted(source.subjects(RDF.type, kg.Stadtteilzentrum))
    assert centres
    for centre in centres:
        summary = summarise(store, centre, settings.base_uri)
        assert summary.profile == "stadtteilzentrum"
        operators = set(source.objects(centre, kg.operatedBy))
        fact = summary.fact("operator")
        assert fact is not None, "the Träger is always shown, as 'not on record' if unknown"
        assert set(fact.values) == operators
        assert _values(summary, "site") == set(source.objects(centre, ORG.hasSite))
        assert _values(summary, "agreement") == set(source.subjects(kg.partner, centre))
        roles = {role for m in source.subjects(ORG.member, centre)
                 for role in source.objects(m, ORG.role)}
        assert _values(summary, "role") == roles
        streets = {str(s) for site in source.objects(centre, ORG.hasSite)
                   for a in source.objects(site, SCHEMA.address)
                   for s in source.objects(a, SCHEMA.streetAddress)}
        assert {str(v).split(",")[0] for v in _values(summary, "address")} == streets


def test_ortsteil_or_else_the_place_it_lies_in(store, source, settings, kg):
    for centre in source.subjects(RDF.type, kg.Stadtteilzentrum):
        summary = summarise(store, centre, settings.base_uri)
        places = {p for site in source.objects(centre, ORG.hasSite)
                  for p in source.objects(site, SCHEMA.containedInPlace)}
        ortsteile = {p for p in places if len(list(source.transitive_objects(
            p, SCHEMA.containedInPlace))) == 3}  # itself, its Bezirk, the city
        if ortsteile:
            assert _values(summary, "ortsteil") == ortsteile
            assert summary.fact("located-in") is None
        else:
            assert summary.fact("ortsteil") is None
            assert _values(summary, "located-in") == places


def test_agreement_date_partners_signatories_fields(store, source, settings, kg):
    agreement = next(a for a in source.subjects(RDF.type, kg.CooperationAgreement)
                     if (a, PROV.wasGeneratedBy, None) in source)
    summary = summarise(store, agreement, settings.base_uri, "en")
    assert summary.profile == "agreement"
    assert _values(summary, "date") == set(source.objects(agreement, DCTERMS.date))
    assert _values(summary, "partners") == set(source.objects(agreement, kg.partner))
    assert _values(summary, "fields") == set(source.objects(agreement, kg.fieldOfWork))
    signing = source.value(agreement, PROV.wasGeneratedBy)
    signatories = {source.value(q, PROV.agent)
                   for q in source.objects(signing, PROV.qualifiedAssociation)}
    assert _values(summary, "signatories") == signatories
    assert _values(summary, "signing-place") == set(source.objects(signing, PROV.atLocation))
    partners = summary.fact("partners").values
    labels = [label_of(source, p, "en") for p in partners]
    assert labels == sorted(labels, key=str.casefold), "values are sorted by label"


def test_organisation_roles_operates_website(store, source, settings, kg):
    operators = sorted(set(source.subjects(kg.operates, None)))
    assert operators
    for org in operators:
        summary = summarise(store, org, settings.base_uri)
        assert summary.profile == "organisation"
        operated = set(source.objects(org, kg.operates)) | set(
            source.subjects(kg.operatedBy, org))
        assert _values(summary, "operates") == operated
        assert _values(summary, "website") == set(source.objects(org, SCHEMA.url))


def test_event_place_and_concept_and_term(store, source, settings, kg):
    event = next(iter(source.subjects(SCHEMA.organizer, None)))
    summary = summarise(store, event, settings.base_uri)
    assert summary.profile == "event"
    assert _values(summary, "organiser") == set(source.objects(event, SCHEMA.organizer))
    assert _values(summary, "date") == set(source.objects(event, SCHEMA.startDate))

    site = next(iter(source.objects(None, ORG.hasSite)))
    summary = summarise(store, site, settings.base_uri)
    assert summary.profile == "place"
    assert _values(summary, "site-of") == set(source.subjects(ORG.hasSite, site))

    narrow = next(iter(source.subjects(SKOS.broader, None)))
    broad = source.value(narrow, SKOS.broader)
    assert narrow in _values(summarise(store, broad, settings.base_uri), "narrower")
    summary = summarise(store, narrow, settings.base_uri, "en")
    assert summary.profile == "concept"
    assert broad in _values(summary, "broader")
    definition = summary.fact("definition").values_in("en")
    assert [v.language for v in definition] == ["en"]

    summary = summarise(store, kg.operatedBy, settings.base_uri)
    assert summary.profile == "term"
    assert _values(summary, "domain") == set(source.objects(kg.operatedBy, RDFS.domain))
    assert _values(summary, "range") == set(source.objects(kg.operatedBy, RDFS.range))


def test_profile_by_class_before_path_and_none_for_unknown(store, settings):
    names = [p.name for p in PROFILES]
    assert names.index("stadtteilzentrum") < names.index("organisation")
    assert profile_for(store, URIRef(settings.base_uri + "id/nothing/here"),
                       settings.base_uri) is None
    assert summarise(store, URIRef("urn:x:nothing"), settings.base_uri) is None


def test_values_in_picks_the_page_language():
    from publisher.summary import Fact, FactRule

    fact = Fact(FactRule("t", "T", "T", "$s <urn:p> ?v"),
                [Literal("Hallo", lang="de"), Literal("Hello", lang="en"), Literal("x")])
    assert fact.values_in("en") == [Literal("Hello", lang="en"), Literal("x")]
    assert fact.values_in("fr") == [Literal("Hallo", lang="de"), Literal("x")]


def test_an_iri_that_cannot_be_written_into_a_query_is_refused(store, settings):
    with pytest.raises(ValueError):
        summarise(store, URIRef(settings.base_uri + "id/place/x> } #"), settings.base_uri)

"""The key facts of a resource, per kind of thing, read from the store in one query."""

from __future__ import annotations

from dataclasses import dataclass, field

from rdflib import Graph, Literal, URIRef

from publisher import describe
from publisher.namespaces import RDFS, kg, prefixes
from publisher.search import kind_of

__all__ = ["MAX_VALUES", "PROFILES", "Fact", "FactRule", "Profile", "Summary", "profile_for",
           "summarise"]

MAX_VALUES = 60  # values kept per fact; the rest are counted

_PREFIXES = prefixes("rdf", "rdfs", "owl", "skos", "dcterms", "org", "prov", "schema", "foaf")


@dataclass(frozen=True)
class FactRule:
    """One key fact: its name, its labels and the graph pattern that binds ?v from $s."""

    key: str
    de: str
    en: str
    pattern: str
    always: bool = False  # shown as 'not on record' when the graph has no value
    instead_of: str | None = None  # shown only when the fact with this key has no value

    def label(self, lang: str) -> str:
        """The fact's name in the page language."""
        return self.de if lang == "de" else self.en


@dataclass(frozen=True)
class Profile:
    """What matters about one kind of thing: the classes that select it and its facts."""

    name: str
    classes: tuple[str, ...]
    rules: tuple[FactRule, ...]


@dataclass
class Fact:
    """A key fact of one resource: its rule and the values the graph holds for it."""

    rule: FactRule
    values: list = field(default_factory=list)
    more: int = 0  # values beyond MAX_VALUES

    @property
    def key(self) -> str:
        """The fact's stable name (for tests and CSS), e.g. 'operator'."""
        return self.rule.key

    def label(self, lang: str) -> str:
        """The fact's name in the page language."""
        return self.rule.label(lang)

    def values_in(self, lang: str) -> list:
        """The values, language-tagged texts narrowed to `lang` (else German, English, any)."""
        tagged = [v for v in self.values if isinstance(v, Literal) and v.language]
        if not tagged:
            return list(self.values)
        for wanted in (lang, "de", "en"):
            chosen = [v for v in tagged if v.language == wanted]
            if chosen:
                break
        else:
            chosen = tagged[:1]
        return [v for v in self.values if v not in tagged or v in chosen]


@dataclass
class Summary:
    """The kind of a resource and its key facts, with the labels of the resources named."""

    profile: str
    facts: list[Fact]
    labels: Graph

    def fact(self, key: str) -> Fact | None:
        """The fact with this key, if the resource has it."""
        return next((f for f in self.facts if f.key == key), None)


# Patterns shared by several kinds.
_WEBSITE = FactRule("website", "Website", "Website", "$s schema:url|foaf:homepage ?v")
_ADDRESS = FactRule(
    "address", "Adresse", "Address",
    "$s org:hasSite?/schema:address ?a . ?a schema:streetAddress ?street "
    "OPTIONAL { ?a schema:postalCode ?code } OPTIONAL { ?a schema:addressLocality ?loc } "
    "BIND(CONCAT(STR(?street), IF(BOUND(?code) || BOUND(?loc), \", \", \"\"), "
    "IF(BOUND(?code), CONCAT(STR(?code), \" \"), \"\"), IF(BOUND(?loc), STR(?loc), \"\")) "
    "AS ?v)")
_SITE = FactRule("site", "Standort", "Site", "$s org:hasSite ?v")
# The Ortsteil: a place the thing (or its site) lies in that lies in a Bezirk that lies in a
# city, i.e. two levels of schema:containedInPlace above it (as on the home page).
_ORTSTEIL = FactRule(
    "ortsteil", "Ortsteil", "Locality (Ortsteil)",
    "$s org:hasSite?/schema:containedInPlace+ ?v . "
    "?v schema:containedInPlace/schema:containedInPlace ?top")
_LOCATED = FactRule("located-in", "Liegt in", "Located in",
                    "$s org:hasSite?/schema:containedInPlace ?v", instead_of="ortsteil")
_ROLE = FactRule("role", "Rolle in der Kooperation", "Role in the collaboration",
                 "?m org:member $s ; org:role ?v")
_PARTNER_IN = FactRule("agreement", "Partner:in der Vereinbarung", "Partner in the agreement",
                       "?v kg:partner $s")
_COLLABORATION = FactRule("collaboration", "Zusammenarbeit", "Collaboration",
                          "?m org:member $s ; org:organization ?v")
_SIGNED = FactRule("signed", "Unterzeichnete", "Signed",
                   "?sig prov:qualifiedAssociation ?q . ?q prov:agent $s . "
                   "?sig prov:generated ?v")
_FOUNDED = FactRule("founded", "Gegründet", "Founded", "$s schema:foundingDate ?v")
_DEFINITION = FactRule("definition", "Definition", "Definition",
                       "$s skos:definition|rdfs:comment ?v")

# First profile whose classes the resource has (its types or their superclasses) wins;
# classes are prefixed names as in the patterns ('kg:' a class of the ontology under the
# configured base). The profile's name is also the path kind (id/<kind>/…) that selects it
# when no class matches.
PROFILES: tuple[Profile, ...] = (
    Profile("stadtteilzentrum", ("kg:Stadtteilzentrum",), (
        FactRule("operator", "Träger", "Operator (Träger)", "$s kg:operatedBy ?v",
                 always=True),
        _ADDRESS, _SITE, _ORTSTEIL, _LOCATED, _PARTNER_IN, _ROLE, _COLLABORATION, _SIGNED,
        FactRule("member-of", "Mitglied von", "Member of", "$s org:memberOf ?v"),
        _FOUNDED, _WEBSITE)),
    Profile("agreement", ("kg:CooperationAgreement",), (
        FactRule("title", "Titel", "Title", "$s dcterms:title ?v"),
        FactRule("date", "Datum", "Date", "$s dcterms:date|dcterms:issued ?v"),
        FactRule("signing-place", "Unterzeichnet in", "Signed at",
                 "$s prov:wasGeneratedBy/(prov:atLocation|schema:location) ?v"),
        FactRule("signing", "Unterzeichnung", "Signing", "$s prov:wasGeneratedBy ?v"),
        FactRule("area", "Geltungsbereich", "Area", "$s dcterms:spatial ?v"),
        FactRule("partners", "Partner:innen", "Partners", "$s kg:partner ?v"),
        FactRule("signatories", "Unterzeichnet von", "Signed by",
                 "$s prov:wasGeneratedBy/prov:qualifiedAssociation/prov:agent ?v"),
        FactRule("fields", "Arbeitsfelder", "Fields of work", "$s kg:fieldOfWork ?v"),
        FactRule("basis-of", "Grundlage der", "Basis of", "?v kg:basedOn $s"),
        FactRule("replaces", "Löst ab", "Replaces", "$s prov:wasRevisionOf ?v"),
        FactRule("replaced-by", "Abgelöst durch", "Replaced by", "?v prov:wasRevisionOf $s"),
        FactRule("expires", "Gültig bis", "Valid until", "$s schema:expires ?v"))),
    Profile("collaboration", ("org:OrganizationalCollaboration",), (
        FactRule("based-on", "Beruht auf", "Based on", "$s kg:basedOn ?v"),
        FactRule("area", "Gebiet", "Area", "$s dcterms:spatial ?v"),
        FactRule("members", "Mitglieder", "Members", "$s org:hasMember ?v"))),
    Profile("membership", ("org:Membership",), (
        FactRule("member", "Mitglied", "Member", "$s org:member ?v"),
        FactRule("role", "Rolle", "Role", "$s org:role ?v"),
        FactRule("organisation", "In", "In", "$s org:organization ?v"))),
    Profile("change", ("org:ChangeEvent",), (
        FactRule("original", "Vorher", "Before", "$s org:originalOrganization ?v"),
        FactRule("resulting", "Nachher", "After", "$s org:resultingOrganization ?v"))),
    Profile("organisation", ("org:Organization", "org:OrganizationalUnit",
                             "foaf:Organization", "kg:Facility"), (
        _ROLE, _PARTNER_IN, _SIGNED,
        FactRule("operates", "Betreibt", "Operates", "$s kg:operates|^kg:operatedBy ?v"),
        FactRule("operator", "Träger", "Operator (Träger)", "$s kg:operatedBy ?v"),
        FactRule("member-of", "Mitglied von", "Member of", "$s org:memberOf ?v"),
        _ADDRESS, _SITE, _ORTSTEIL, _LOCATED, _WEBSITE,
        FactRule("email", "E-Mail", "E-mail", "$s schema:email ?v"),
        FactRule("people", "Personen", "People", "?v schema:worksFor $s"),
        FactRule("successor", "Heute", "Succeeded by",
                 "$s org:changedBy/org:resultingOrganization ?v"),
        FactRule("predecessor", "Vorher", "Preceded by",
                 "$s org:resultedFrom/org:originalOrganization ?v"),
        _FOUNDED)),
    Profile("person", ("foaf:Person", "prov:Person", "schema:Person"), (
        FactRule("job", "Funktion", "Position", "$s schema:jobTitle ?v"),
        FactRule("works-for", "Tätig für", "Works for", "$s schema:worksFor ?v"),
        FactRule("on-behalf-of", "Handelte für", "Acted on behalf of",
                 "$s prov:actedOnBehalfOf ?v"),
        _SIGNED)),
    Profile("event", ("schema:Event", "schema:EventSeries", "prov:Activity"), (
        FactRule("date", "Datum", "Date", "$s schema:startDate|prov:startedAtTime ?v"),
        FactRule("end", "Bis", "Until", "$s schema:endDate|prov:endedAtTime ?v"),
        FactRule("place", "Ort", "Place", "$s schema:location|prov:atLocation ?v"),
        FactRule("organiser", "Veranstalter:in", "Organiser", "$s schema:organizer ?v"),
        FactRule("outcome", "Ergebnis", "Outcome", "$s prov:generated ?v"),
        FactRule("participants", "Beteiligt", "Taking part",
                 "$s prov:qualifiedAssociation/prov:agent ?v"),
        FactRule("part-of", "Teil von", "Part of", "$s schema:superEvent ?v"),
        FactRule("sub-events", "Einzelne Veranstaltungen", "Single events",
                 "$s schema:subEvent ?v"),
        _WEBSITE)),
    Profile("place", ("schema:Place", "org:Site"), (
        _ADDRESS,
        FactRule("contained-in", "Liegt in", "Located in", "$s schema:containedInPlace ?v"),
        FactRule("site-of", "Standort von", "Site of", "?v org:hasSite $s"),
        FactRule("here", "Einrichtungen hier", "Organisations here",
                 "?v org:hasSite/schema:containedInPlace+ $s"),
        FactRule("contains", "Umfasst", "Contains", "?v schema:containedInPlace $s"),
        FactRule("events", "Veranstaltungen hier", "Events here",
                 "?v schema:location|prov:atLocation $s"),
        FactRule("code", "Kennziffer", "Code", "$s dcterms:identifier|skos:notation ?v"),
        FactRule("same-as", "Dasselbe wie", "Same as", "$s owl:sameAs ?v"))),
    Profile("scheme", ("skos:ConceptScheme",), (
        _DEFINITION,
        FactRule("top", "Oberste Begriffe", "Top concepts",
                 "$s skos:hasTopConcept|^skos:topConceptOf ?v"),
        FactRule("concepts", "Begriffe", "Concepts", "?v skos:inScheme $s"))),
    Profile("concept", ("skos:Concept",), (
        _DEFINITION,
        FactRule("scheme", "Begriffsschema", "Concept scheme", "$s skos:inScheme ?v"),
        FactRule("broader", "Oberbegriff", "Broader", "$s skos:broader|^skos:narrower ?v"),
        FactRule("narrower", "Unterbegriffe", "Narrower", "$s skos:narrower|^skos:broader ?v"),
        FactRule("related", "Verwandt", "Related", "$s skos:related|^skos:related ?v"),
        FactRule("field-of", "Arbeitsfeld von", "Field of work of", "?v kg:fieldOfWork $s"),
        FactRule("in-role", "In dieser Rolle", "In this role",
                 "{ ?m org:role $s ; org:member ?v } UNION "
                 "{ ?q prov:hadRole $s ; prov:agent ?v }"))),
    Profile("term", ("owl:Class", "owl:ObjectProperty", "owl:DatatypeProperty",
                     "rdf:Property"), (
        FactRule("comment", "Erläuterung", "Description", "$s rdfs:comment|skos:definition ?v"),
        FactRule("domain", "Definitionsbereich", "Domain", "$s rdfs:domain ?v"),
        FactRule("range", "Wertebereich", "Range", "$s rdfs:range ?v"),
        FactRule("superclass", "Unterklasse von", "Subclass of", "$s rdfs:subClassOf ?v"),
        FactRule("subclasses", "Unterklassen", "Subclasses", "?v rdfs:subClassOf $s"),
        FactRule("superproperty", "Untereigenschaft von", "Subproperty of",
                 "$s rdfs:subPropertyOf ?v"),
        FactRule("inverse", "Umkehrung", "Inverse", "$s owl:inverseOf|^owl:inverseOf ?v"),
        FactRule("properties", "Eigenschaften", "Properties", "?v rdfs:domain $s"),
        FactRule("instances", "Beispiele", "Instances", "?v a $s"))),
)


def _prologue(base: str) -> str:
    lines = [f"PREFIX {p}: <{ns}>" for p, ns in _PREFIXES.items()]
    lines.append(f"PREFIX kg: <{kg(base)}>")
    return "\n".join(lines) + "\n"


def _class_iri(name: str, base: str) -> str:
    """A profile's class as an IRI: its prefix (kg: or one of _PREFIXES) expanded."""
    prefix, _, local = name.partition(":")
    return (str(kg(base)) if prefix == "kg" else _PREFIXES[prefix]) + local


def _types(store, iri: URIRef) -> set[str]:
    """The resource's classes and, through the ontology, their superclasses."""
    rows = store.select(f"SELECT DISTINCT ?t WHERE {{ {describe._iri(iri)} a/<"
                        f"{RDFS.subClassOf}>* ?t }}")
    return {str(row["t"]) for row in rows if "t" in row}


def profile_for(store, iri: URIRef, base: str) -> Profile | None:
    """The profile of a resource: by its classes, else by its path kind, else None."""
    types = _types(store, iri)
    for profile in PROFILES:
        if any(_class_iri(c, base) in types for c in profile.classes):
            return profile
    if str(iri).startswith(kg(base)):
        return next(p for p in PROFILES if p.name == "term")
    kind = kind_of(str(iri), base)
    return next((p for p in PROFILES if p.name == kind), None)


def _query(profile: Profile, iri: URIRef, base: str) -> str:
    """One SELECT of ?key ?v over every rule of the profile (one round trip to the store)."""
    describe._iri(iri)  # refuses anything that cannot be written as <…>
    branches = []
    for rule in profile.rules:
        pattern = rule.pattern.replace("$s", f"<{iri}>")
        branches.append(f'{{ {pattern} BIND("{rule.key}" AS ?key) }}')
    return (_prologue(base) + "SELECT DISTINCT ?key ?v WHERE { "
            + " UNION ".join(branches) + " }")


def _sort_key(value, labels: Graph, lang: str):
    if isinstance(value, Literal):
        return (0, str(value).casefold())
    return (1, describe.label_of(labels, value, lang).casefold())


def summarise(store, iri: URIRef, base: str, lang: str = "de") -> Summary | None:
    """The key facts of a resource, or None when no profile fits its kind."""
    profile = profile_for(store, iri, base)
    if profile is None:
        return None
    found: dict[str, list] = {}
    for row in store.select(_query(profile, iri, base)):
        if "v" in row and "key" in row and row["v"] != iri:
            found.setdefault(str(row["key"]), []).append(row["v"])
    named = {v for values in found.values() for v in values if isinstance(v, URIRef)}
    labels = describe.labels(store, named)
    facts: list[Fact] = []
    for rule in profile.rules:
        values = found.get(rule.key, [])
        if rule.instead_of and found.get(rule.instead_of):
            continue
        if not values and not rule.always:
            continue
        if not any(f.key == rule.key for f in facts):
            values = sorted(set(values), key=lambda v: _sort_key(v, labels, lang))
            facts.append(Fact(rule, values[:MAX_VALUES], max(0, len(values) - MAX_VALUES)))
    return Summary(profile=profile.name, facts=facts, labels=labels)

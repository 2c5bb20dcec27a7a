"""What the home page tells: the agreement, its signing, the partners by role, the centres."""

from __future__ import annotations

from dataclasses import dataclass, field

from publisher.diagram import Network, Node, read_network
from publisher.namespaces import DCTERMS, ORG, PROV, SCHEMA, kg
from publisher.search import build_index, kind_of

__all__ = ["Centre", "Overview", "Signing", "read_overview"]


@dataclass
class Centre:
    """A Stadtteilzentrum with its Träger (operators) and, where the data says, its Ortsteil."""

    node: Node
    operators: list[Node] = field(default_factory=list)
    ortsteil: Node | None = None
    site: Node | None = None


@dataclass
class Signing:
    """When and where the agreement was signed."""

    node: Node
    date: str | None = None
    place: Node | None = None


@dataclass
class Overview:
    """The facts the home page is made of, read from the store in a few queries."""

    agreement: Node | None
    texts: dict[str, dict[str, str]]
    network: Network
    centres: list[Centre]
    signing: Signing | None
    partner_count: int

    def text(self, what: str, lang: str) -> str:
        """A text of the agreement (title, aims, description) in lang, else in German."""
        values = self.texts.get(what, {})
        return values.get(lang) or values.get("de") or values.get("") or ""


def _literals(store, iri: str, prop: str) -> dict[str, str]:
    values: dict[str, str] = {}
    for row in store.select(f"SELECT ?v WHERE {{ <{iri}> <{prop}> ?v }} ORDER BY ?v"):
        values.setdefault(getattr(row["v"], "language", None) or "", str(row["v"]))
    return values


def read_overview(store, base: str, index=None) -> Overview:
    """Read the home page's facts: the agreement a collaboration rests on and its network."""
    index = index if index is not None else build_index(store, base)
    names = index.names
    ont = kg(base)

    def node(iri) -> Node:
        return Node(iri=str(iri), kind=kind_of(str(iri), base),
                    labels=dict(names.get(str(iri), {})))

    network = read_network(store, base, index)
    agreement = network.agreements[-1] if network.agreements else None
    texts: dict[str, dict[str, str]] = {}
    signing = None
    if agreement is not None:
        texts = {"title": _literals(store, agreement.iri, DCTERMS.title),
                 "description": _literals(store, agreement.iri, DCTERMS.description),
                 "aims": _literals(store, agreement.iri, ont.aims)}
        rows = store.select(
            f"SELECT ?s ?date ?place WHERE {{ ?s <{PROV.generated}> <{agreement.iri}> . "
            f"OPTIONAL {{ ?s <{SCHEMA.startDate}> ?date }} "
            f"OPTIONAL {{ ?s <{PROV.atLocation}>|<{SCHEMA.location}> ?place }} }} "
            "ORDER BY ?s ?date ?place LIMIT 1")
        if rows:
            row = rows[0]
            signing = Signing(node=node(row["s"]),
                              date=str(row["date"]) if "date" in row else None,
                              place=node(row["place"]) if "place" in row else None)
    centres: dict[str, Centre] = {}
    for row in store.select(
            f"SELECT ?c ?op ?site WHERE {{ ?c a <{ont.Stadtteilzentrum}> . "
            f"OPTIONAL {{ ?c <{ont.operatedBy}> ?op }} OPTIONAL {{ ?c <{ORG.hasSite}> ?site }} }}"):
        centre = centres.setdefault(str(row["c"]), Centre(node=node(row["c"])))
        if "op" in row and all(o.iri != str(row["op"]) for o in centre.operators):
            centre.operators.append(node(row["op"]))
        if "site" in row and centre.site is None:
            centre.site = node(row["site"])
    # The Ortsteil: a place the centre (or its site) lies in that itself lies in a Bezirk
    # that lies in a city, i.e. two levels of schema:containedInPlace above it.
    for row in store.select(
            f"SELECT ?c (MIN(STR(?p)) AS ?place) WHERE {{ ?c a <{ont.Stadtteilzentrum}> ; "
            f"(<{ORG.hasSite}>)?/<{SCHEMA.containedInPlace}>+ ?p . "
            f"?p <{SCHEMA.containedInPlace}>/<{SCHEMA.containedInPlace}> ?top }} GROUP BY ?c"):
        if str(row["c"]) in centres:
            centres[str(row["c"])].ortsteil = node(row["place"])
    partners = {m.iri for g in network.groups for m in g.members}
    return Overview(agreement=agreement, texts=texts, network=network,
                    centres=sorted(centres.values(), key=lambda c: c.node.label().casefold()),
                    signing=signing, partner_count=len(partners))

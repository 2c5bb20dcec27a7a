"""Scale the bundled knowledge graph up to a Berlin-wide synthetic graph of a given size.

The generator clones the real Pankow network (every file of data/) once per district and
round: each thing under <base>id/ that data/ describes (organisations, Stadtteilzentren,
agreements, collaborations, memberships, signings, places, sites, events, …) gets a new slug
(`stz-weissensee` → `stz-weissensee-neukoelln-3`), its labels name the district and round,
and its dates move back by up to nine years. Concepts, schemes and the ontology stay shared.
The real data is kept unchanged as the first copy, so the example queries still find it.
Cloning the real files, rather than inventing a model of them, keeps the synthetic graph
valid against the same shapes as the real one by construction, and deterministic.
"""

from __future__ import annotations

import json
import math
import random
import shutil
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

__all__ = ["DISTRICTS", "Generated", "generate", "parse_scale"]

# The twelve Berlin districts: slug and name.
DISTRICTS: tuple[tuple[str, str], ...] = (
    ("mitte", "Mitte"),
    ("friedrichshain-kreuzberg", "Friedrichshain-Kreuzberg"),
    ("pankow", "Pankow"),
    ("charlottenburg-wilmersdorf", "Charlottenburg-Wilmersdorf"),
    ("spandau", "Spandau"),
    ("steglitz-zehlendorf", "Steglitz-Zehlendorf"),
    ("tempelhof-schoeneberg", "Tempelhof-Schöneberg"),
    ("neukoelln", "Neukölln"),
    ("treptow-koepenick", "Treptow-Köpenick"),
    ("marzahn-hellersdorf", "Marzahn-Hellersdorf"),
    ("lichtenberg", "Lichtenberg"),
    ("reinickendorf", "Reinickendorf"),
)

SHARED_KINDS = {"concept", "scheme"}
_RDFS, _SKOS, _SDO = ("http://www.w3.org/2000/01/rdf-schema#",
                      "http://www.w3.org/2004/02/skos/core#", "http://schema.org/")
_DCT, _XSD = "http://purl.org/dc/terms/", "http://www.w3.org/2001/XMLSchema#"
LABELS = {_RDFS + "label", _SKOS + "prefLabel", _SKOS + "altLabel", _SDO + "name",
          _SDO + "alternateName", _DCT + "title", _DCT + "alternative",
          "http://xmlns.com/foaf/0.1/name"}
DATES = {_XSD + "date", _XSD + "gYear", _XSD + "dateTime"}
STRING = _XSD + "string"
# Links to other datasets name the real thing only: a clone is not the organisation that
# Berlin's organigram or Wikidata describes, and two clones linked to it would be one.
SAME_AS = "http://www.w3.org/2002/07/owl#sameAs"


def parse_scale(text: str) -> int:
    """'10k' → 10000, '1m' → 1000000, '2500' → 2500."""
    text = text.strip().lower()
    factor = {"k": 1_000, "m": 1_000_000}.get(text[-1:], 1)
    number = text[:-1] if factor > 1 else text
    try:
        value = int(float(number) * factor)
    except ValueError:
        raise ValueError(f"not a scale: {text!r} (use e.g. 10k, 100k, 1m)") from None
    if value <= 0:
        raise ValueError(f"not a scale: {text!r}")
    return value


@dataclass(frozen=True)
class Generated:
    """A generated project folder and what the benchmark needs to know about it."""

    root: Path
    triples: int
    copies: int
    samples: dict[str, list[str]]

    def manifest(self) -> dict:
        """The facts about this graph, as written to bench.json."""
        return {"triples": self.triples, "copies": self.copies, "samples": self.samples}


def _parse(folder: Path, base: str) -> list[ox.Triple]:
    """The triples of every Turtle file in folder, blank nodes labelled canonically (RDFC-1.0),
    so that the same sources always give the same output."""
    dataset = ox.Dataset()
    for path in sorted(folder.rglob("*.ttl")):
        for triple in ox.parse(path=str(path), format=ox.RdfFormat.TURTLE, base_iri=base):
            dataset.add(ox.Quad(triple.subject, triple.predicate, triple.object))
    dataset.canonicalize(ox.CanonicalizationAlgorithm.RDFC_1_0)
    return sorted({q.triple for q in dataset}, key=str)


def _term(term, base: str) -> str:
    """A term in N-Triples syntax, with our IRIs written relative to the base."""
    if isinstance(term, ox.NamedNode) and term.value.startswith(base):
        return f"<{term.value[len(base):]}>"
    return str(term)


def _shift_date(literal: ox.Literal, years: int) -> ox.Literal:
    text = literal.value
    year, rest = text[:4], text[4:]
    if not year.isdigit() or years == 0:
        return literal
    rest = rest.replace("-02-29", "-02-28")
    return ox.Literal(f"{int(year) - years:04d}{rest}", datatype=literal.datatype)


def _relabel(literal: ox.Literal, district: str, round_: int) -> ox.Literal:
    text = f"{literal.value} ({district} {round_})".replace("Pankow", district)
    if literal.language:
        return ox.Literal(text, language=literal.language)
    return ox.Literal(text, datatype=literal.datatype)


def _template(root: Path, base: str) -> tuple[list[ox.Triple], set[ox.NamedNode]]:
    """The triples of data/ that differ between copies, and the things each copy renames."""
    triples = _parse(root / "data", base)
    prefix = base + "id/"
    things = {t.subject for t in triples if isinstance(t.subject, ox.NamedNode)
              and t.subject.value.startswith(prefix)
              and t.subject.value[len(prefix):].split("/", 1)[0] not in SHARED_KINDS}
    varying = [t for t in triples
               if any(isinstance(x, ox.BlankNode) or x in things
                      for x in (t.subject, t.object))]
    return varying, things


def _kind(iri: str, base: str) -> str:
    return iri[len(base) + 3:].split("/", 1)[0]


def generate(template: Path, out: Path, triples: int,
             base: str = "https://w3id.org/kiezgraph/pankow/") -> Generated:
    """Write a project folder (ontology/, shapes/ copied; data/ generated) of about `triples`."""
    if out.exists():
        shutil.rmtree(out)
    for part in ("ontology", "shapes"):
        shutil.copytree(template / part, out / part)
    shutil.copytree(template / "data", out / "data" / "pankow-original")
    have = len(_parse(out / "ontology", base)) + len(_parse(out / "data", base))
    varying, things = _template(template, base)
    varying = [t for t in varying if t.predicate.value != SAME_AS]
    per_copy = max(1, len(varying))
    copies = max(0, math.ceil((triples - have) / per_copy))

    renamed: dict[str, list[str]] = defaultdict(list)
    for number in range(1, copies + 1):
        slug, name = DISTRICTS[number % len(DISTRICTS)]
        round_ = number // len(DISTRICTS)
        suffix, years = f"-{slug}-{round_}", number % 10
        names: dict = {}

        def rename(term, names=names, suffix=suffix, number=number):
            if term in things:
                if term not in names:
                    names[term] = ox.NamedNode(term.value + suffix)
                return names[term]
            if isinstance(term, ox.BlankNode):
                return ox.BlankNode(f"c{number}x{term.value}")
            return term

        lines = []
        for t in varying:
            s_, p, o = t.subject, t.predicate, t.object
            new_o = rename(o)
            if isinstance(o, ox.Literal) and s_ in things:
                if p.value in LABELS and (o.language or o.datatype.value == STRING):
                    new_o = _relabel(o, name, round_)
                elif o.datatype.value in DATES:
                    new_o = _shift_date(o, years)
            lines.append(f"{_term(rename(s_), base)} {_term(p, base)} "
                         f"{_term(new_o, base)} .\n")
        folder = out / "data" / slug
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"copy-{round_:04d}.ttl").write_text("".join(lines), encoding="utf-8")
        for old, new in names.items():
            renamed[_kind(old.value, base)].append(new.value)

    # A fixed sample of things per kind (the real ones included) for lookups and documents.
    rng = random.Random(triples)
    samples = {}
    for kind in sorted({_kind(t.value, base) for t in things} | set(renamed)):
        real = sorted(t.value for t in things if _kind(t.value, base) == kind)
        pool = renamed.get(kind, [])
        picked = rng.sample(pool, min(len(pool), 20)) if pool else []
        samples[kind] = real[:5] + picked
    generated = Generated(out, have + copies * per_copy, copies, samples)
    (out / "bench.json").write_text(json.dumps(generated.manifest(), indent=1) + "\n",
                                    encoding="utf-8")
    return generated
